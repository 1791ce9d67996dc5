"""``archipel plan``, ``archipel verify`` and ``archipel diff``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from archipel.catalog.model import Catalog
from archipel.errors import RuntimeFailure

SpecArg = Annotated[Path, typer.Argument(help="The fleet spec (YAML).", show_default=False)]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="A snapshot directory instead of the spec's catalog source."),
]


class PlannerChoice(StrEnum):
    lp = "lp"
    greedy = "greedy"


def _catalog(spec_source: str, override: Path | None) -> Catalog:
    from archipel.catalog.snapshot import load_builtin, load_snapshot

    if override is not None:
        return load_snapshot(override)
    return load_builtin() if spec_source == "builtin" else load_snapshot(Path(spec_source))


def _load(spec_path: Path, catalog_path: Path | None) -> tuple[object, Catalog]:
    from archipel.spec.check import validate_file
    from archipel.spec.load import load_spec

    spec = load_spec(spec_path)
    source = spec.catalog.source
    if source != "builtin" and not Path(source).is_absolute():
        source = str((spec_path.parent / source).resolve())
    catalog = _catalog(source, catalog_path)
    return validate_file(spec_path, catalog), catalog


def plan(
    spec_path: SpecArg = Path("examples/frontier-lab.yaml"),
    planner: Annotated[
        PlannerChoice, typer.Option(help="lp: cost-optimal; greedy: each workload alone.")
    ] = PlannerChoice.lp,
    integer: Annotated[
        bool, typer.Option("--integer", help="Whole nodes; reports the LP bound and gap.")
    ] = False,
    time_limit_s: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds; the best plan so far is kept.")
    ] = None,
    mip_gap: Annotated[
        float,
        typer.Option(
            "--mip-gap", help="With --integer: stop once this close (relative) to the bound."
        ),
    ] = 1e-3,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON on stdout.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the plan JSON to this file.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report.")
    ] = None,
    rule_costs: Annotated[
        bool, typer.Option(help="Price each rule by re-solving without it (small models).")
    ] = True,
    catalog_path: CatalogOpt = None,
) -> None:
    """Find the cost-optimal placement for a fleet spec, verify it, and report it.

    Examples:

      archipel plan examples/frontier-lab.yaml

      archipel plan examples/small.yaml --report plan.html --out plan.json

      archipel plan fleet.yaml --integer --time-limit 60

      archipel plan fleet.yaml --planner greedy --json
    """
    from archipel.cli.paths import check_output_file, write_text
    from archipel.plan.planner import PlanOptions, make_plan
    from archipel.report.planfile import save_plan
    from archipel.report.terminal import render_summary

    if out is not None:  # checked before planning: a bad path fails at once, not after a solve
        check_output_file(out, "plan", inputs=[spec_path], others=[("report", report)])
    if report is not None:
        check_output_file(report, "report", inputs=[spec_path])
    console = Console(stderr=json_out)
    if not console.is_terminal:
        console.width = max(console.width, 110)  # piped output: room for the placement tables
    spec, catalog = _load(spec_path, catalog_path)
    options = PlanOptions(
        integer=integer, time_limit_s=time_limit_s, mip_rel_gap=mip_gap, rule_costs=rule_costs
    )
    with console.status("planning…") as status:
        result = make_plan(spec, catalog, planner.value, options, lambda m: status.update(m))  # type: ignore[arg-type]
    if planner == PlannerChoice.lp and result.allocations and not result.verified:
        problems = "\n".join(f"  - {p}" for p in result.verification_problems[:20])
        raise RuntimeFailure(
            "the plan failed independent verification, so it is not shown; this is a bug in "
            f"Archipel's planner. Problems:\n{problems}"
        )
    if out is not None:
        save_plan(result, out)
    if report is not None:
        from archipel.report.html import render_html

        coords = {r.id: (r.lat, r.lon) for r in catalog.regions}
        write_text(report, render_html(result, region_coords=coords), "report")
    if json_out:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        render_summary(result, console)
        for path, what in ((out, "plan"), (report, "report")):
            if path is not None:
                console.print(f"[green]wrote[/] {what} to {path}")
    if result.status.value in ("infeasible", "time_limit", "error"):
        raise typer.Exit(1)


def verify(
    spec_path: SpecArg,
    plan_path: Annotated[
        Path, typer.Argument(help="A plan JSON written by `archipel plan --out`.")
    ],
    catalog_path: CatalogOpt = None,
) -> None:
    """Check a plan against its spec with the independent verifier (also a hand-edited plan).

    Exit code 0 when the plan holds, 1 when it breaks something (each problem is listed).

    Example:

      archipel plan fleet.yaml --out plan.json && archipel verify fleet.yaml plan.json
    """
    from archipel.plan.inputs import prepare
    from archipel.plan.verify import verify as run_verify
    from archipel.report.planfile import load_plan

    console = Console()
    spec, catalog = _load(spec_path, catalog_path)
    result = load_plan(plan_path)
    report = run_verify(result, prepare(spec, catalog))  # type: ignore[arg-type]
    if report.ok:
        console.print(f"[green]✓ verified[/]: {plan_path} holds for {spec_path}")
        return
    console.print(f"[red]✗ {len(report.problems)} problem(s)[/] in {plan_path}:", highlight=False)
    for p in report.problems:
        console.print(f"  - {p}", highlight=False, markup=False)
    raise typer.Exit(1)


def diff(
    old: Annotated[Path, typer.Argument(help="The earlier plan JSON.")],
    new: Annotated[Path, typer.Argument(help="The later plan JSON.")],
) -> None:
    """Show what moved between two plans and what it costs.

    Example:

      archipel plan fleet.yaml --out old.json; (edit fleet.yaml); archipel plan fleet.yaml --out new.json

      archipel diff old.json new.json
    """
    from archipel.report.diff import diff_plans, render_diff
    from archipel.report.planfile import load_plan

    render_diff(diff_plans(load_plan(old), load_plan(new)), Console())


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("verify")(verify)
    app.command("diff")(diff)
