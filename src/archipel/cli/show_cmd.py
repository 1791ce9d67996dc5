"""``archipel show``: render a saved plan — summary, HTML report or JSON — without solving again."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from archipel.catalog.model import Catalog
from archipel.plan.result import Plan


def map_coordinates(
    plan: Plan, catalog: Catalog, where: str
) -> tuple[dict[str, tuple[float, float]] | None, str]:
    """Region coordinates for the report's map when the plan was made with ``catalog``;
    otherwise None and a note saying why there is no map and how to get one."""
    ours = catalog.manifest.content_sha256
    if plan.catalog_sha256 == ours:
        return {r.id: (r.lat, r.lon) for r in catalog.regions}, ""
    how = "pass --catalog DIR with the snapshot it was made with to draw it"
    if not plan.catalog_sha256:
        return None, f"No map: the plan does not say which catalog it was made with; {how}."
    return None, (
        f"No map: the plan was made with catalog {plan.catalog_sha256[:12]}…, not {where} "
        f"({ours[:12]}…); {how}."
    )


def _catalog(path: Path | None) -> tuple[Catalog, str]:
    from archipel.catalog.snapshot import load_builtin, load_snapshot

    if path is None:
        return load_builtin(), "the built-in catalog"
    return load_snapshot(path), f"the catalog in {path}"


def _write_report(plan: Plan, path: Path, catalog_path: Path | None) -> str:
    """Write the HTML report; return the note about its map ("" when it has one)."""
    from archipel.report.html import render_html

    catalog, where = _catalog(catalog_path)
    coords, map_note = map_coordinates(plan, catalog, where)
    page = render_html(plan, region_coords=coords, map_note=map_note)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {path}: {exc.strerror or exc}. Choose a writable path.",
            param_hint="--report",
        ) from None
    return map_note


def show(
    plan_path: Annotated[
        Path,
        typer.Argument(help="A plan JSON written by `archipel plan --out`.", show_default=False),
    ],
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the self-contained HTML report to this file."),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print the plan as JSON on stdout instead of the summary."),
    ] = False,
    catalog_path: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            help="The snapshot directory the plan was made with, for the report's map "
            "(default: the built-in catalog).",
        ),
    ] = None,
) -> None:
    """Show a saved plan without solving again: its summary, HTML report or JSON.

    The summary fits the terminal; piped, it is plain text as wide as COLUMNS (80 when unset).

    The report's map needs the catalog the plan was made with (checked by its sha256): the built-in one, or the snapshot given with --catalog. Without it the report has no map and says why.

    Examples:

      archipel plan fleet.yaml --out plan.json

      archipel show plan.json

      archipel show plan.json --report plan.html

      archipel show plan.json --json > copy.json

      COLUMNS=100 archipel show plan.json > summary.txt
    """
    from archipel.cli.paths import check_output_file
    from archipel.report.planfile import load_plan
    from archipel.report.terminal import make_console, render_summary

    if report is not None:
        check_output_file(report, "report", inputs=[plan_path])
    plan = load_plan(plan_path)
    console = make_console(stderr=json_out)
    map_note = _write_report(plan, report, catalog_path) if report is not None else ""
    if json_out:
        sys.stdout.write(plan.model_dump_json(indent=2) + "\n")
    else:
        render_summary(plan, console)
    if map_note:
        console.print(Text(f"note: {map_note}", style="yellow"))
    if report is not None:
        # one line however long: a path is copied whole
        console.print(Text.assemble(("wrote", "green"), f" report to {report}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
