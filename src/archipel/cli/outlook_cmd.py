"""``archipel outlook``: spend against commitments and the risk of stranded capacity, under
uncertainty (Monte Carlo over a scenarios file), and optionally the commitments to sign."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archipel.cli.plan_cmd import CatalogOpt, SpecArg, _load

if TYPE_CHECKING:
    from rich.console import Console

    from archipel.catalog.model import Catalog
    from archipel.outlook.result import Outlook
    from archipel.plan.inputs import PlanInputs
    from archipel.plan.result import Plan
    from archipel.spec.uncertainty import Uncertainty


class SaaMethod(StrEnum):
    auto = "auto"
    extensive = "extensive"
    lshaped = "lshaped"


HELP = """Simulate the years ahead for a plan's commitments and report the risk.

For the commitments and reservations of a plan (--plan, else the spec is planned first), draws scenarios of demand growth per service, price decline per accelerator, new generations, provider outages and funding caps (--scenarios FILE; without it: lognormal yearly growth around each service's planned rate, spread 0.25) and reports, per contract and in total: expected spend and percentiles, expected stranded commitment (paid, carrying no load), the probability it exceeds a threshold, CVaR95 of total cost, break-even utilisation, and spend per year against commitments (a fan chart with --report).

Simplifications (stated in the output too): each scenario keeps the plan's placement shape (a service's spend per offering scales with its demand and its chip's price index; load is not moved between providers to fill a commitment, and capacity limits are not re-checked); spend counts toward the contract years the plan counted it toward, settled with the planner's own contract terms (commitments, maxima, discount tiers, carry-over, take-or-pay, reserved blocks).

--optimize chooses the commitment of each contract year by sample-average approximation (a two-stage stochastic program: its extensive form solved by HiGHS, or the L-shaped method when that is too large) under savings-plan terms (the discount on spend up to the commitment, list price beyond), and shows it beside the mean-value answer, the commitments as signed, the 10th percentile of demand and the clouds' style (savings-maximising flat commitment on the last 7/30/60 days of usage), with VSS, EVPI and an optimality-gap estimate from independent replications.

Same seed, same figures: batch b draws from child b of SeedSequence(seed).spawn(batches), whatever the number of workers (--workers local processes, or a Ray cluster with --ray-address).

Examples:

  archipel outlook examples/frontier-lab.yaml --scenarios examples/outlook/frontier-lab.yaml

  archipel plan examples/frontier-lab.yaml --out plan.json
  archipel outlook examples/frontier-lab.yaml --plan plan.json --report outlook.html

  archipel outlook examples/frontier-lab.yaml --plan plan.json --optimize --json | jq .totals

  archipel outlook fleet.yaml --plan plan.json --count 100000 --workers 2

"""


def outlook(
    spec_path: SpecArg,
    plan_path: Annotated[
        Path | None,
        typer.Option("--plan", help="A plan JSON (archipel plan --out); default: plan the spec."),
    ] = None,
    scenarios_path: Annotated[
        Path | None,
        typer.Option(
            "--scenarios",
            help="A scenarios file (YAML): demand growth, prices, generations, outages, "
            "funding. Default: lognormal growth around the plan's, spread 0.25.",
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            "-n",
            min=1,
            max=10_000_000,
            help="Scenarios (default: the file's, else 10,000).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed (default: the file's, else 0).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=100, max=1_000_000, help="Scenarios per batch (a task).")
    ] = 10_000,
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Local worker processes for the batches.")
    ] = 1,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Run the batches on Ray: a cluster address, or 'local' for a Ray instance "
            "started here (needs the 'ray' extra).",
        ),
    ] = None,
    threshold_usd: Annotated[
        float | None,
        typer.Option(
            "--threshold-usd",
            min=0.0,
            help="Stranded commitment whose excess probability is reported (default: the "
            "file's, else 5 % of the commitments in the horizon).",
        ),
    ] = None,
    choose: Annotated[
        bool, typer.Option("--optimize", help="Also choose the commitments (SAA) and compare.")
    ] = False,
    saa_count: Annotated[
        int,
        typer.Option("--saa-count", min=1, max=100_000, help="In-sample scenarios for --optimize."),
    ] = 1000,
    out_of_sample: Annotated[
        int,
        typer.Option(
            min=100, max=10_000_000, help="Fresh scenarios the candidates are compared on."
        ),
    ] = 20_000,
    replications: Annotated[
        int,
        typer.Option(min=0, max=1000, help="Independent SAA replications for the gap (0: none)."),
    ] = 10,
    cvar_weight: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Weight of CVaR95 against expected cost in --optimize."
        ),
    ] = 0.0,
    max_p_stranded: Annotated[
        float | None,
        typer.Option(
            "--max-p-stranded",
            min=0.0,
            max=1.0,
            help="With --optimize: keep P(stranded commitment over the threshold) at most this "
            "in sample (a chance constraint: a MIP, one binary per scenario; keep --saa-count "
            "to a few thousand).",
        ),
    ] = None,
    saa_method: Annotated[
        SaaMethod,
        typer.Option(
            "--saa-method",
            help="auto: the extensive form up to 2 million columns (scenarios × contract "
            "years), the L-shaped method beyond; or force one (L-shaped: expected cost only).",
        ),
    ] = SaaMethod.auto,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the outlook as JSON on stdout (nothing else).")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the outlook JSON here.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report.")
    ] = None,
    catalog_path: CatalogOpt = None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from archipel.cli.paths import check_output_file
    from archipel.outlook.make import make_outlook
    from archipel.outlook.optimize import OptimizeOptions
    from archipel.outlook.runner import RunOptions
    from archipel.plan.inputs import prepare
    from archipel.report.terminal import make_console

    if saa_method == SaaMethod.lshaped and (cvar_weight > 0 or max_p_stranded is not None):
        raise typer.BadParameter(
            "the L-shaped method here minimises expected cost: use --saa-method extensive "
            "(or auto) with --cvar-weight or --max-p-stranded",
            param_hint="--saa-method",
        )
    for path, what in ((out, "outlook"), (report, "report")):
        if path is not None:
            check_output_file(path, what, inputs=[spec_path])
    console = make_console(stderr=True)
    spec, catalog = _load(spec_path, catalog_path)
    inputs = prepare(spec, catalog)  # type: ignore[arg-type]
    plan = _plan(spec_path, plan_path, inputs, catalog, console)
    u = _scenarios(scenarios_path, threshold_usd, inputs, plan)
    opts = RunOptions(
        scenarios=count if count is not None else u.scenarios,
        seed=seed if seed is not None else u.seed,
        batch_size=batch_size,
        workers=workers,
        ray_address=ray_address,
    )
    chosen = (
        OptimizeOptions(
            saa_count, out_of_sample, replications, cvar_weight, saa_method.value, max_p_stranded
        )
        if choose
        else None
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("batches", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def say(text: str) -> None:
            bar.update(task, description=text, completed=0, total=None)

        result = make_outlook(
            inputs,
            plan,
            u,
            opts,
            str(scenarios_path) if scenarios_path is not None else None,
            chosen,
            progress,
            say,
        )
    _emit(result, out, report, json_out)


def _emit(result: Outlook, out: Path | None, report: Path | None, json_out: bool) -> None:
    """The outlook to its files, then as JSON or as the terminal summary on stdout."""
    from archipel.cli.paths import write_text
    from archipel.outlook.text import outlook_lines
    from archipel.report.terminal import make_console

    text = result.model_dump_json(indent=2) + "\n"
    if out is not None:
        write_text(out, text, "outlook")
    if report is not None:
        from archipel.report.outlook_html import render_outlook_html

        write_text(report, render_outlook_html(result), "report")
    if json_out:
        sys.stdout.write(text)
        return
    stdout = make_console()
    for line in outlook_lines(result):
        stdout.print(line, markup=False, highlight=False, emoji=False)
    for path, what in ((out, "outlook"), (report, "report")):
        if path is not None:
            stdout.print(f"wrote {what} to {path}", markup=False, highlight=False)


def _scenarios(
    path: Path | None, threshold_usd: float | None, inputs: PlanInputs, plan: Plan
) -> Uncertainty:
    """The scenarios file (its names checked against the spec and plan), else the defaults;
    ``--threshold-usd`` over the file's threshold."""
    from archipel.errors import UserError
    from archipel.plan.inputs import spec_sha256
    from archipel.spec.uncertainty import Uncertainty, check_names, load_uncertainty

    if plan.spec_sha256 and plan.spec_sha256 != spec_sha256(inputs.spec):
        raise UserError(
            "the plan was made for another version of the spec (its spec_sha256 differs) — "
            "re-plan with `archipel plan SPEC --out PLAN.json` or give the matching spec"
        )
    u = Uncertainty()
    if path is not None:
        u, source = load_uncertainty(path)
        check_names(
            u,
            source,
            {s.id for s in inputs.spec.services},
            {a.accelerator for a in plan.allocations} | set(inputs.accelerators),
            {o.provider for o in inputs.offerings} | {c.provider for c in inputs.spec.contracts},
        )
    if threshold_usd is not None:
        u = u.model_copy(update={"stranded_threshold_usd": threshold_usd})
    return u


def _plan(
    spec_path: Path, plan_path: Path | None, inputs: PlanInputs, catalog: Catalog, console: Console
) -> Plan:
    """The plan given, else a plan made now (LP, whole nodes), which must be verified."""
    from archipel.errors import RuntimeFailure, UserError
    from archipel.plan.planner import PlanOptions, make_plan
    from archipel.report.planfile import load_plan

    if plan_path is not None:
        plan = load_plan(plan_path)
    else:
        with console.status("planning the spec first (give --plan to skip)…"):
            plan = make_plan(inputs.spec, catalog, "lp", PlanOptions())
        if plan.allocations and not plan.verified:
            raise RuntimeFailure(
                "the plan failed independent verification; this is a bug in Archipel"
            )
    if plan.status.value in ("infeasible", "time_limit", "error") or not plan.allocations:
        raise UserError(
            f"{plan_path or spec_path}: no plan to look ahead from ({plan.status.value}) — "
            "run `archipel plan` and fix what it reports first"
        )
    return plan


def register(app: typer.Typer) -> None:
    app.command("outlook", help=HELP)(outlook)
