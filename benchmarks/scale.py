"""Scale benchmark: generated fleets of about 10^4, 10^5 and 10^6 variables through the planner.

Each case (``CASES``; ``fleetgen.generate`` with those arguments) is planned as ``archipel
plan`` plans it — ``plan_lp`` (build, then the blocks solved one by one, then extract) and the
independent verifier — in whole nodes and in the fractional view, each in its own process so
that its peak memory is its own. Rules are not priced (``rule_costs=False``: at these sizes the
CLI skips that too, above 50,000 columns). One JSON line per case and view: build, solve,
extract and verify in wall and CPU seconds, the model's size, status, objective, the LP
relaxation bound, the gap to it, blocks, MIP blocks, whether the plan verified (exactly, as
``make_plan`` reports it), peak memory and the load average.

Whole nodes: each block that needs a whole-node search gets ``PlanOptions.block_mip_time_s``
(30 s) after its relaxation; a search that has not closed its gap by then keeps its best plan,
reported with status "feasible", the solver's message ("Time limit reached") and its true gap
to the LP bound. On these fleets that is what happens: rounding the relaxation up breaks some
offerings' ``max_nodes`` caps, so the planner falls back to the MIP, which runs to its budget,
and the gap can be large (on 2026-11-30 the 1e6 whole-node plan cost 18x its LP bound, gap
0.95 — the figure is printed, not hidden). The generated fleets are one block each (the
diversification rule couples everything), so a whole-node case takes its relaxation plus about
30 s: 1e6 whole nodes took 83 s and its fractional view 53 s, so both views run by default
(the whole benchmark took under 5 minutes on the 2-core machine, load average about 2).
``--views fractional`` skips the whole-node searches.

The 1e6 case has 19 services, which makes it about 10^6 variables (994k) with the current
model (14 services made 732k). Run:
``python benchmarks/run.py scale [CASE ...] [--views whole,fractional]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from measure import (
    ROOT,
    Clock,
    PlanPhases,
    emit,
    json_lines,
    loadavg,
    peak_rss_mb,
    python_env,
    run_timed,
)

CASES: dict[str, dict[str, Any]] = {
    "1e4": dict(
        providers=4,
        regions_per_provider=4,
        offerings_per_region=4,
        services=3,
        geographies=3,
        periods=6,
    ),
    "1e5": dict(
        providers=6,
        regions_per_provider=6,
        offerings_per_region=6,
        services=6,
        geographies=5,
        periods=12,
    ),
    "1e6": dict(
        providers=6,
        regions_per_provider=10,
        offerings_per_region=8,
        services=19,
        geographies=6,
        periods=18,
    ),
    "1e6-skewed": dict(
        providers=6,
        regions_per_provider=10,
        offerings_per_region=8,
        services=19,
        geographies=6,
        periods=18,
        skewed=True,
    ),
}
VIEWS = ("fractional", "whole")


def child(name: str, view: str) -> dict[str, Any]:
    """Plan one case in one view, in this (fresh) process."""
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import PlanOptions, plan_lp
    from archipel.plan.verify import verify
    from fleetgen import generate

    spec, catalog = generate(**CASES[name])
    phases = PlanPhases("prepare")
    inputs = prepare(spec, catalog)
    options = PlanOptions(whole_nodes=view == "whole", rule_costs=False)
    plan = plan_lp(inputs, options, phases.progress)
    phases.switch("verify")
    clock = Clock()
    report = verify(plan, inputs) if plan.allocations else None
    spans = {**phases.spans, "verify": clock.lap()}
    return {
        "case": name,
        "view": view,
        **plan.stats,
        **{phase: span.as_dict() for phase, span in spans.items()},
        "planner_timings_s": {k: round(v, 4) for k, v in plan.timings_s.items()},
        "status": plan.status.value,
        "message": plan.message,
        "objective_usd": plan.objective_usd,
        "lp_bound_usd": plan.lower_bound_usd,
        "gap": plan.gap,
        "verified": report.exact if report else None,
        "verification_problems": report.problems[:3] if report else [],
        "peak_rss_mb": peak_rss_mb(),
    }


def run_case(name: str, view: str) -> dict[str, Any]:
    load = loadavg()
    done = run_timed(
        [sys.executable, __file__, "--child", name, view], env=python_env([ROOT / "src"])
    )
    found = json_lines(done.stdout)
    record: dict[str, Any] = {"benchmark": "scale"}
    if done.exit_code != 0 or not found:
        record.update(case=name, view=view, error=done.stderr.strip()[-2000:])
    else:
        record.update(found[-1])
    record["process"] = done.figures()
    record["loadavg"] = load
    record["loadavg_after"] = loadavg()
    return record


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="run.py scale", description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)} (default: all)")
    parser.add_argument("--views", default=",".join(VIEWS), help="fractional,whole")
    args = parser.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    results = []
    for name in args.cases or list(CASES):
        for view in (v for v in args.views.split(",") if v):
            row = run_case(name, view)
            emit(row)
            results.append(row)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        emit(child(sys.argv[2], sys.argv[3]))
    else:
        main(sys.argv[1:])
