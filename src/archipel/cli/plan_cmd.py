"""``archipel plan``, ``archipel verify`` and ``archipel diff``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from archipel.catalog.model import Catalog
from archipel.errors import RuntimeFailure

SpecArg = Annotated[
    Path, typer.Argument(help="The fleet spec (YAML).", metavar="SPEC", show_default=False)
]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="A snapshot directory instead of the spec's catalog source."),
]


class PlannerChoice(StrEnum):
    lp = "lp"
    greedy = "greedy"


def _load(spec_path: Path, catalog_path: Path | None) -> tuple[object, Catalog]:
    """The validated spec and the catalog it was checked against: ``--catalog`` when given,
    else the one the spec's ``catalog.source`` names (a bad source is reported at its line)."""
    from archipel.catalog.snapshot import load_builtin, load_snapshot
    from archipel.spec.check import validate_file_with_catalog

    def loader(source: str) -> Catalog:
        return load_builtin() if source == "builtin" else load_snapshot(Path(source))

    given = load_snapshot(catalog_path) if catalog_path is not None else None
    return validate_file_with_catalog(spec_path, given if given is not None else loader)


def plan(
    spec_path: SpecArg,
    planner: Annotated[
        PlannerChoice, typer.Option(help="lp: cost-optimal; greedy: each workload alone.")
    ] = PlannerChoice.lp,
    fractional: Annotated[
        bool,
        typer.Option(
            "--fractional",
            help="The fractional view: nodes may be fractional (the LP optimum, a lower bound "
            "on any whole-node plan). For very large studies; plans to deploy are whole nodes.",
        ),
    ] = False,
    time_limit_s: Annotated[
        float | None, typer.Option("--time-limit", help="Seconds; the best plan so far is kept.")
    ] = None,
    mip_gap: Annotated[
        float,
        typer.Option(
            "--mip-gap",
            min=0.0,
            max=1.0,
            help="Whole nodes: stop once a block's plan is this close (relative) to its bound.",
        ),
    ] = 1e-3,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON on stdout (nothing else).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the plan JSON to this file.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report.")
    ] = None,
    rule_costs: Annotated[
        bool,
        typer.Option(
            help="Price each rule by re-solving the relaxation without it (small models)."
        ),
    ] = True,
    write_model: Annotated[
        Path | None,
        typer.Option(
            "--write-model",
            help="Also write the model for a solver (.mps or .lp, by the suffix), to inspect it.",
        ),
    ] = None,
    catalog_path: CatalogOpt = None,
) -> None:
    """Find the cost-optimal placement for a fleet spec, verify it, and report it.

    Plans are in whole nodes: every replica inside one machine (or on machines joined by a
    fabric, when the model allows it), every training gang one accelerator type on a fabric.
    The summary shows the LP relaxation bound and the gap to it, and the time of each phase.

    Exit codes: 0 a verified plan; 1 no plan (infeasible, time limit) — the summary says why;
    2 bad input; 3 a failure of Archipel or the solver; 130 interrupted.

    Examples:

      archipel plan examples/frontier-lab.yaml

      archipel plan examples/small.yaml --report plan.html --out plan.json

      archipel plan fleet.yaml --json | jq .objective_usd

      archipel plan fleet.yaml --time-limit 60 --mip-gap 0.01

      archipel plan fleet.yaml --planner greedy --out greedy.json
    """
    from archipel.cli.paths import check_output_file, write_text
    from archipel.plan.planner import PlanOptions, make_plan
    from archipel.report.planfile import save_plan
    from archipel.report.terminal import make_console, render_summary

    if out is not None:  # checked before planning: a bad path fails at once, not after a solve
        check_output_file(out, "plan", inputs=[spec_path], others=[("report", report)])
    if report is not None:
        check_output_file(report, "report", inputs=[spec_path])
    if write_model is not None:
        check_output_file(write_model, "model", inputs=[spec_path])
    console = make_console(stderr=json_out)
    spec, catalog = _load(spec_path, catalog_path)
    options = PlanOptions(
        whole_nodes=not fractional,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_gap,
        rule_costs=rule_costs,
    )
    if write_model is not None:
        _write_model(spec, catalog, write_model, whole_nodes=not fractional)
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
                console.print(f"wrote {what} to {path}", markup=False, highlight=False)
    if result.status.value in ("infeasible", "time_limit", "error"):
        raise typer.Exit(1)


def _write_model(spec: object, catalog: Catalog, path: Path, whole_nodes: bool) -> None:
    from archipel.plan.inputs import prepare
    from archipel.plan.lp.build import build_lp
    from archipel.plan.solvers.highs import write_model

    if path.suffix not in (".mps", ".lp"):
        raise typer.BadParameter("use a .mps or .lp file name", param_hint="--write-model")
    built = build_lp(prepare(spec, catalog), integer=whole_nodes)  # type: ignore[arg-type]
    write_model(built.lp, str(path), integer=whole_nodes)


def verify(
    spec_path: SpecArg,
    plan_path: Annotated[
        Path, typer.Argument(help="A plan JSON written by `archipel plan --out`.")
    ],
    catalog_path: CatalogOpt = None,
) -> None:
    """Check a plan against its spec with the independent verifier (also a hand-edited plan).

    The first lines name what makes the plan wrong — a rule broken, demand not served,
    capacity exceeded, a replica or gang that cannot be built. Figures the file states that
    differ from the recomputation (costs after nodes were added by hand, say) are grouped
    after them: a plan made strictly safer is reported as costing more, not as broken.

    Exit code 0 when the plan holds (stale figures are reported, not fatal), 1 when it breaks
    something, 2 for bad input.

    Example:

      archipel plan fleet.yaml --out plan.json && archipel verify fleet.yaml plan.json
    """
    from archipel.plan.inputs import prepare
    from archipel.plan.verify import verify as run_verify
    from archipel.report.planfile import load_plan
    from archipel.report.terminal import make_console

    console = make_console()
    spec, catalog = _load(spec_path, catalog_path)
    result = load_plan(plan_path)
    report = run_verify(result, prepare(spec, catalog))  # type: ignore[arg-type]
    if report.ok:
        console.print(f"✓ verified: {plan_path} holds for {spec_path}", markup=False)
    else:
        console.print(f"✗ {len(report.problems)} problem(s) in {plan_path}:", markup=False)
        for p in report.problems:
            console.print(f"  - {p}", highlight=False, markup=False, emoji=False)
    if report.stale:
        head, *rest = report.stale
        console.print(head, highlight=False, markup=False, emoji=False)
        for p in rest:
            console.print(f"  - {p}", highlight=False, markup=False, emoji=False)
    if not report.ok:
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
    from archipel.report.terminal import make_console

    render_diff(diff_plans(load_plan(old), load_plan(new)), make_console())


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("verify")(verify)
    app.command("diff")(diff)
