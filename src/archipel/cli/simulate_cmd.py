"""``archipel simulate``: replay a real traffic trace through one or more plans' deployments,
with outages injected, the routing policy in the loop, and compare what users would have seen."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from archipel.cli.plan_cmd import CatalogOpt, SpecArg, _load

T = TypeVar("T")
OUTAGE = re.compile(r"^(provider|region|deployment):([^@]+)@([0-9.]+)-([0-9.]+)$")
VALUED = re.compile(r"^(provider|region|deployment):([^@]+)@([0-9.]+)-([0-9.]+)=([0-9.]+)$")


class TraceChoice(StrEnum):
    azure_conv = "azure-conv"
    azure_code = "azure-code"
    mooncake = "mooncake"


def _window(text: str, flag: str, valued: bool) -> tuple[str, float, float, float]:
    m = (VALUED if valued else OUTAGE).match(text)
    form = "TARGET@START-END" + ("=VALUE" if valued else "")
    if m is None:
        raise typer.BadParameter(
            f"{text!r}: write {form} in seconds from the trace's start, e.g. "
            + ("deployment:KEY@0-60=0.2" if valued else "provider:oci@600-1800"),
            param_hint=flag,
        )
    scope, name, a, b = m.group(1), m.group(2), float(m.group(3)), float(m.group(4))
    if b <= a:
        raise typer.BadParameter(f"{text!r}: the end must come after the start", param_hint=flag)
    return f"{scope}:{name}", a, b, float(m.group(5)) if valued else 0.0


def _faults(
    outages: list[str], errors: list[str], spikes: list[str], hangs: list[str] | None = None
) -> Any:
    from archipel.sim.faults import Fault, FaultKind, schedule

    hangs = hangs or []
    faults = []
    for kind, texts, flag, valued in (
        (FaultKind.OUTAGE, outages, "--outage", False),
        (FaultKind.CAPACITY_ERROR, errors, "--errors", True),
        (FaultKind.LATENCY, spikes, "--latency", True),
        (FaultKind.HUNG, hangs, "--hang", True),
    ):
        for text in texts:
            target, a, b, value = _window(text, flag, valued)
            if kind == FaultKind.CAPACITY_ERROR and not 0.0 < value <= 1.0:
                raise typer.BadParameter(f"{text!r}: a 429 rate is in (0, 1]", param_hint=flag)
            if kind == FaultKind.HUNG and (value < 1 or value != int(value)):
                raise typer.BadParameter(
                    f"{text!r}: the value is a whole number of replicas (1 or more) that hang",
                    param_hint=flag,
                )
            faults.append(Fault(kind, a, b, target, value))
    notes = [*outages, *errors, *(f"{x} ms" for x in spikes), *(f"{x} hung" for x in hangs)]
    return schedule(faults, "; ".join(notes))


def _check_faults(faults: Any, table: Any, span_s: float, path: Path) -> None:
    """Refuse a fault that cannot act on this replay: a target with no deployment in the period,
    or a window that starts after the replay ends (it would silently change nothing)."""
    for f in faults.faults:
        scope, _, name = f.target.partition(":")
        if not f.mask(table).any():
            known = sorted(
                set(
                    {"provider": table.provider, "region": table.region, "deployment": table.key}[
                        scope
                    ]
                )
            )
            raise typer.BadParameter(
                f"{f.target}: no deployment of {path.name} in {table.period_label} is on "
                f"{scope} {name!r}; the period's {scope}s: {', '.join(known)}",
                param_hint="--outage/--errors/--latency/--hang",
            )
        if f.start_s >= span_s:
            raise typer.BadParameter(
                f"{f.target}@{f.start_s:g}-{f.end_s:g}: the replay of {path.name} spans "
                f"0-{span_s:.0f} s, so this fault would start after it ends; give times within "
                "it (they are seconds of the replay), or replay longer with a larger --sample",
                param_hint="--outage/--errors/--latency/--hang",
            )


def _price_per_replica_hour(plan: Any, table: Any) -> Any:
    """[D] USD per replica-hour of each deployment: its allocation's cost over its replica-hours
    in the period (after contract discounts, as the plan pays it)."""
    import numpy as np

    price = np.zeros(table.size)
    for a in plan.allocations:
        if a.period != table.period or a.workload_kind != "service" or a.replicas <= 0:
            continue
        key = f"{a.workload}/{a.region}/{a.offering_id}"
        if key in table.key:
            price[table.key.index(key)] = a.cost_usd / (a.replicas * a.hours)
    return price


def _public(load: Callable[[], T], what: str, flag: str) -> T:
    """``load()`` of public data from ../shared/data, or a precise error saying where it looked."""
    from archipel.sim.traces import shared_data_dir

    try:
        return load()
    except FileNotFoundError as e:
        raise typer.BadParameter(
            f"{what} not found under {shared_data_dir()} ({e.filename}); set "
            "ARCHIPEL_SHARED_DATA to the folder holding the public data",
            param_hint=flag,
        ) from e


MIN_SAMPLED_REPLICAS = 200  # the default sample keeps at least this many replicas (exact)


def _default_sample(source: Any, peak: float, table: Any) -> float:
    """The share of the fleet at which the trace keeps its own rate, raised where needed so that
    the sampled fleet still holds MIN_SAMPLED_REPLICAS replicas (rounding a few replicas distorts
    capacity; the replay is then shorter than the trace's hour)."""
    from archipel.sim.traces import mean_rate

    floor = MIN_SAMPLED_REPLICAS / max(float(table.replicas.sum()), 1.0)
    return min(1.0, max(mean_rate(source.arrival_s) / peak, floor))


def simulate(
    spec_path: SpecArg,
    plans: Annotated[
        list[Path],
        typer.Option("--plan", help="A plan JSON (`archipel plan --out`); repeat to compare."),
    ],
    trace: Annotated[
        TraceChoice, typer.Option(help="The public trace to replay (from ../shared/data).")
    ] = TraceChoice.azure_conv,
    period: Annotated[
        int, typer.Option(min=0, help="The plan period whose deployments serve.")
    ] = 0,
    outage: Annotated[
        list[str] | None,
        typer.Option(help="TARGET@START-END seconds, e.g. provider:oci@600-1800; repeatable."),
    ] = None,
    errors: Annotated[
        list[str] | None,
        typer.Option(help="429 windows: TARGET@START-END=RATE, e.g. provider:aws@0-60=0.3."),
    ] = None,
    latency: Annotated[
        list[str] | None,
        typer.Option(
            help="Latency spikes: TARGET@START-END=MS, e.g. region:oci:us-ashburn-1@0-60=250."
        ),
    ] = None,
    hang: Annotated[
        list[str] | None,
        typer.Option(
            help="Hung replicas: TARGET@START-END=N, N replicas of each targeted deployment stop "
            "answering (their requests fail at the client's timeout), e.g. provider:aws@30-90=1."
        ),
    ] = None,
    preempt_spot: Annotated[
        bool,
        typer.Option(
            help="Preempt spot replicas as a public spot trace (../shared/data/spot) does."
        ),
    ] = False,
    fluid: Annotated[
        bool,
        typer.Option(
            "--fluid",
            help="Fluid mode: the 14-day ServeGen rate windows shaped to the plan's demand, "
            "aggregate per window (no queueing or retries; fault times in seconds of the 14 days).",
        ),
    ] = False,
    load: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=10.0,
            help="The trace's mean rate as a share of the plan's peak (1: the replay runs at the "
            "peak the plan was sized for, with the trace's own bursts on top).",
        ),
    ] = 1.0,
    batch: Annotated[
        int,
        typer.Option(
            min=1, max=4096, help="Requests a replica serves at once (continuous batching)."
        ),
    ] = 16,
    seed: Annotated[int, typer.Option(help="Seed of every draw: same seed, same run.")] = 0,
    sample: Annotated[
        float | None,
        typer.Option(
            min=1e-9,
            max=1.0,
            help="Share of the fleet and its traffic to replay (default: the share at which "
            "the trace keeps its own rate, e.g. its hour for a fleet of 10^5 replicas).",
        ),
    ] = None,
    e2e_slo: Annotated[float, typer.Option(min=0.001, help="End-to-end SLO, seconds.")] = 60.0,
    ttft_slo: Annotated[float, typer.Option(min=0.001, help="Time-to-first-token SLO, s.")] = 5.0,
    window: Annotated[
        float | None,
        typer.Option(min=0.001, help="Window of the per-window figures, s (default: 20 windows)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the comparison and per-window charts as one HTML file."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    catalog_path: CatalogOpt = None,
) -> None:
    """Replay a trace through the plans' deployments with outages, and compare the outcomes.

    The trace is scaled to the plan's peak requests/s in the period (times --sample: a sample of
    the fleet, its replicas shrunk alike, so that a large fleet replays request by request over
    the trace's own hour) and split over its services and geographies by their share of the
    planned flows (every transform is listed); each
    request goes through the routing policy (residency and CLOUD Act are hard filters, planned
    placement first, failover, spill, retries within the deadline). One row per plan: requests,
    served, SLO attainment, lost, retried, failed over, spilled, residency violations (always 0
    with this policy), and the replica-hours used with their cost at the plan's prices (of the
    sampled fleet, over the replay).

    Examples:

      archipel plan fleet.yaml --out plan.json

      archipel simulate fleet.yaml --plan plan.json --outage provider:oci@600-1800

      archipel simulate fleet.yaml --plan cheap.json --plan safe.json --outage provider:aws@0-3600 --json
    """
    from rich.table import Table

    from archipel.plan.inputs import prepare
    from archipel.report.planfile import load_plan
    from archipel.report.terminal import make_console
    from archipel.route.policy import decide
    from archipel.route.table import deployment_table
    from archipel.sim.engine import SimConfig
    from archipel.sim.engine import simulate as run
    from archipel.sim.metrics import capacity_use, window_metrics
    from archipel.sim.scenario import plan_workload
    from archipel.sim.service import ServiceModel
    from archipel.sim.traces import load_azure, load_mooncake, shared_data_dir

    faults = _faults(outage or [], errors or [], latency or [], hang or [])
    spec, catalog = _load(spec_path, catalog_path)
    inputs = prepare(spec, catalog)  # type: ignore[arg-type]
    if fluid:
        if latency:
            raise typer.BadParameter(
                "fluid mode measures traffic served, not latency, so a latency spike cannot "
                "act there: drop --fluid (per-request replay) or --latency",
                param_hint="--latency",
            )
        _fluid(plans, inputs, period, faults, as_json)
        return
    source = _public(
        lambda: (
            load_mooncake()
            if trace == TraceChoice.mooncake
            else load_azure("conv" if trace == TraceChoice.azure_conv else "code")
        ),
        "trace data",
        "--trace",
    )
    rows: list[dict[str, Any]] = []
    for path in plans:
        plan = load_plan(path)
        try:
            table = deployment_table(plan, inputs, period)
            peak = sum(f.requests_per_s for f in plan.flows if f.period == table.period)
            share = sample if sample is not None else _default_sample(source, peak, table)
            scenario = plan_workload(
                plan, inputs, table, source, seed, e2e_slo, ttft_slo, share, load
            )
            table = scenario.table
        except ValueError as e:
            raise typer.BadParameter(f"{path}: {e}", param_hint="--plan") from e
        if not fluid:
            _check_faults(faults, table, float(scenario.workload.arrival_s[-1]), path)
        these = faults
        if preempt_spot:
            from archipel.sim.faults import spot_preemptions

            span = float(scenario.workload.arrival_s[-1]) + e2e_slo
            these = faults + spot_preemptions(table, shared_data_dir() / "spot", span, seed)
        config = SimConfig(seed=seed, record_log=False, service=ServiceModel(batch=batch))
        result = run(table, scenario.workload, decide, these, config)
        total = window_metrics(table, scenario.workload, result, window_s=1e12)
        arrivals = scenario.workload.arrival_s
        width = window or max(float(arrivals[-1] - arrivals[0]) / 20.0, 1e-3)
        per = window_metrics(table, scenario.workload, result, window_s=width)
        starts = sorted({m.window_start_s for m in per})
        windows = {
            "start_s": starts,
            "served": [sum(m.served for m in per if m.window_start_s == s) for s in starts],
            "lost": [sum(m.lost for m in per if m.window_start_s == s) for s in starts],
            "window_s": width,
        }
        n = sum(m.requests for m in total)
        served = sum(m.served for m in total)
        used = capacity_use(result, _price_per_replica_hour(plan, table))
        rows.append(
            {
                "plan": str(path),
                "period": table.period_label,
                "peak_rps": scenario.peak_rps,
                "requests": n,
                "served": served,
                "served_share": served / n if n else 0.0,
                "e2e_slo_share": sum(m.e2e_attained * m.requests for m in total) / max(n, 1),
                "ttft_slo_share": sum(m.ttft_attained * m.requests for m in total) / max(n, 1),
                "lost": sum(m.lost for m in total),
                "retried": sum(m.retried for m in total),
                "failed_over": sum(m.failed_over for m in total),
                "spilled": sum(m.spilled for m in total),
                "residency_violations": sum(m.residency_violations for m in total),
                "replica_hours": float(used.replica_hours.sum()),
                "capacity_cost_usd": used.cost,
                "per_service": {
                    s: {
                        "requests": sum(m.requests for m in total if m.service == s),
                        "lost": sum(m.lost for m in total if m.service == s),
                    }
                    for s in sorted({m.service for m in total})
                },
                "groups": [_group(m) for m in sorted(total, key=_group_key)],
                "transforms": list(scenario.notes),
                "windows": windows,
            }
        )
    if report is not None:
        from archipel.cli.paths import check_output_file, write_text
        from archipel.report.sim_html import render_simulation

        check_output_file(report, "report", inputs=[spec_path, *plans])
        title = f"Archipel simulation — {spec_path.name}, {trace.value}"
        page = render_simulation(title, faults.note, rows, rows[0]["windows"]["window_s"])
        write_text(report, page, "report")
    if as_json:
        typer.echo(json.dumps({"trace": trace.value, "faults": faults.note, "runs": rows}))
        return
    console = make_console()
    table_out = Table(title=f"Replay of {trace.value} with {faults.note or 'no faults'}")
    for head in ("plan", "served", "e2e SLO", "TTFT SLO", "lost", "failover", "spill", "resid."):
        table_out.add_column(head, justify="left" if head == "plan" else "right")
    for r in rows:
        table_out.add_row(
            Path(r["plan"]).name,
            f"{r['served_share']:.2%}",
            f"{r['e2e_slo_share']:.2%}",
            f"{r['ttft_slo_share']:.2%}",
            f"{r['lost']:,}",
            f"{r['failed_over']:,}",
            f"{r['spilled']:,}",
            f"{r['residency_violations']:,}",
        )
    console.print(table_out)
    for r in rows:
        if len(r["groups"]) > 1:
            console.print(_groups_table(r))
    for r in rows:
        console.print(f"{Path(r['plan']).name}: " + "; ".join(r["transforms"]), style="dim")


def _group_key(m: Any) -> tuple[str, str]:
    return (m.service, m.geography)


def _group(m: Any) -> dict[str, Any]:
    """One service and geography over the whole replay (``archipel.sim.metrics.WindowMetrics``)."""
    return {
        "service": m.service,
        "geography": m.geography,
        "requests": m.requests,
        "served_share": m.availability,
        "e2e_slo_share": m.e2e_attained,
        "ttft_slo_share": m.ttft_attained,
        "lost": m.lost,
        "retried": m.retried,
        "failed_over": m.failed_over,
        "spilled": m.spilled,
        "residency_violations": m.residency_violations,
    }


def _groups_table(run: dict[str, Any]) -> Any:
    from rich.table import Table

    out = Table(title=f"{Path(run['plan']).name} by service and geography")
    for head in ("service", "geo", "requests", "served", "e2e SLO", "TTFT SLO", "lost", "resid."):
        out.add_column(head, justify="left" if head in ("service", "geo") else "right")
    for g in run["groups"]:
        out.add_row(
            g["service"],
            g["geography"],
            f"{g['requests']:,}",
            f"{g['served_share']:.2%}",
            f"{g['e2e_slo_share']:.2%}",
            f"{g['ttft_slo_share']:.2%}",
            f"{g['lost']:,}",
            f"{g['residency_violations']:,}",
        )
    return out


def _fluid(plans: list[Path], inputs: Any, period: int, faults: Any, as_json: bool) -> None:
    from archipel.report.planfile import load_plan
    from archipel.report.terminal import make_console
    from archipel.route.table import deployment_table
    from archipel.sim.fluid_plan import fluid_replay
    from archipel.sim.traces import load_servegen

    windows = _public(lambda: load_servegen("language_m-large"), "ServeGen windows", "--fluid")
    rows: list[dict[str, Any]] = []
    for path in plans:
        plan = load_plan(path)
        try:
            table = deployment_table(plan, inputs, period)
        except ValueError as e:
            raise typer.BadParameter(f"{path}: {e}", param_hint="--plan") from e
        fr = fluid_replay(plan, inputs, table, windows, faults)
        rows.append(
            {
                "plan": str(path),
                "period": table.period_label,
                "steps": fr.steps,
                "step_s": fr.step_s,
                "requests": fr.demand,
                "served_share": fr.served / fr.demand if fr.demand else 1.0,
                "lost_by_service": fr.lost_by_service,
                "worst_step_served_share": fr.worst_step_served_share,
            }
        )
    if as_json:
        typer.echo(json.dumps({"mode": "fluid", "faults": faults.note, "runs": rows}))
        return
    console = make_console()
    for r in rows:
        console.print(
            f"{Path(r['plan']).name}: {r['served_share']:.4%} of {r['requests']:,.0f} requests "
            f"served over {r['steps']} windows of {r['step_s']:g} s; worst window "
            f"{r['worst_step_served_share']:.2%} (faults: {faults.note or 'none'})",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
