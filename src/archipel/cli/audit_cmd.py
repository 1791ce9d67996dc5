"""``archipel audit verify``: recompute the control plane's hash-chained audit log."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from archipel.errors import UserError

audit_app = typer.Typer(
    help="The control plane's audit log (hash-chained: each row stores the previous one's hash).",
    no_args_is_help=True,
)


@audit_app.command("verify")
def verify(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="ARCHIPEL_DB",
            help="The server's database: a SQLite file or postgresql://… URL.",
        ),
    ] = "archipel.db",
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Recompute every audit row's hash; exit 1 naming the first row changed or removed.

    Example:

      archipel audit verify --db archipel.db
    """
    try:
        from archipel.store.repo import Store
    except ModuleNotFoundError as exc:
        raise UserError(f"needs {exc.name}: pip install 'archipel[server]'") from exc
    if "://" not in db:
        from pathlib import Path

        if not Path(db).is_file():
            raise UserError(f"{db}: no such database file (--db or ARCHIPEL_DB)")
    store = Store.open(db)
    try:
        report = store.verify_audit()
    finally:
        store.close()
    if json_out:
        out = {"ok": report.ok, "rows": report.rows, "broken_at": report.broken_at}
        sys.stdout.write(json.dumps({**out, "problem": report.problem}) + "\n")
    elif report.ok:
        typer.echo(f"audit chain intact: {report.rows} rows")
    else:
        typer.echo(f"audit chain BROKEN at row {report.broken_at}: {report.problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
