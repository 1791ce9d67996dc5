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
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH printed by an earlier verify, kept outside the database: that row "
            "must still be in the chain (catches a tail cut together with the head row).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Recompute every audit row's hash; exit 1 naming the first row changed or removed.

    Prints the chain's head as SEQ:HASH: keep it somewhere the database's writers cannot
    change (a ticket, another system) and pass it back with --anchor later.

    Example:

      archipel audit verify --db archipel.db --anchor 1042:9f2c…(64 hex)
    """
    from archipel.store.audit import parse_anchor

    try:
        mark = parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--anchor") from None
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
        report = store.verify_audit(mark)
    finally:
        store.close()
    if json_out:
        out: dict[str, object] = {"ok": report.ok, "rows": report.rows}
        out |= {"broken_at": report.broken_at, "problem": report.problem}
        out["head"] = report.head or None
        sys.stdout.write(json.dumps(out) + "\n")
    elif report.ok:
        typer.echo(f"audit chain intact: {report.rows} rows")
        if report.head:
            typer.echo(f"head (keep it outside the database; --anchor later): {report.head}")
    else:
        typer.echo(f"audit chain BROKEN at row {report.broken_at}: {report.problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
