"""Quality benchmark: the LP planner (whole nodes) against the greedy baseline on generated fleets.

For each seed, a small generated fleet with rules (residency, survivability, diversification)
is planned four times: the LP planner in whole nodes (``plan_lp``, as ``archipel plan``
plans, rules not priced) and the greedy baseline (``plan_greedy``, whole nodes too), each once
with all the rules and once with only the per-workload rule (residency), which greedy can
honour too. Printed per seed: both costs and their ratio, the planner's status, LP relaxation
bound and gap, whether each plan verified exactly (as ``make_plan`` reports it), the rules
greedy breaks, and wall and CPU seconds of each planner run with the load average. A summary
line counts the seeds where the planner costs no more than greedy under the same rules.

Whole-node searches that do not close their gap stop at ``block_mip_time_s`` (30 s) with the
best plan found (status "feasible"), so a seed can take over a minute; the default 8 seeds take
about 6–7 minutes. Run: ``python benchmarks/run.py quality [--seeds N]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from measure import Clock, emit, loadavg


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def one_seed(seed: int) -> dict[str, Any]:
    from archipel.plan.greedy import plan_greedy
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import PlanOptions, plan_lp
    from archipel.plan.verify import verify
    from fleetgen import generate

    spec, catalog = generate(
        providers=4,
        regions_per_provider=4,
        offerings_per_region=4,
        services=4,
        geographies=4,
        periods=4,
        jobs=1,
        seed=seed,
    )
    # the same fleet with only per-workload rules (residency), which greedy can honour too
    own = spec.model_copy(update={"rules": [r for r in spec.rules if r.kind == "residency"]})
    options = PlanOptions(whole_nodes=True, rule_costs=False)
    row: dict[str, Any] = {"benchmark": "quality", "seed": seed, "loadavg": loadavg()}
    for label, the_spec in (("all_rules", spec), ("own_rules", own)):
        inputs = prepare(the_spec, catalog)
        clock = Clock()
        lp = plan_lp(inputs, options)
        lp_time = clock.lap()
        greedy = plan_greedy(inputs)
        greedy_time = clock.lap()
        lp_report = verify(lp, inputs) if lp.allocations else None
        g_report = verify(greedy, inputs) if greedy.allocations else None
        row[label] = {
            "lp_usd": lp.objective_usd,
            "greedy_usd": greedy.objective_usd,
            "ratio": _ratio(lp.objective_usd, greedy.objective_usd),
            "lp_status": lp.status.value,
            "lp_message": lp.message,
            "lp_bound_usd": lp.lower_bound_usd,
            "lp_gap": lp.gap,
            "lp_verified": lp_report.exact if lp_report else None,
            "greedy_status": greedy.status.value,
            "greedy_rules_broken": sorted(set(g_report.rules_broken)) if g_report else None,
            "lp_time": lp_time.as_dict(),
            "greedy_time": greedy_time.as_dict(),
            "mip_blocks": lp.stats.get("mip_blocks"),
        }
    row["loadavg_after"] = loadavg()
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="run.py quality", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args(argv)
    from archipel.plan.solvers.highs import _banner_shown

    _banner_shown()  # HiGHS's banner to stderr, so that standard output is JSON lines only
    rows = []
    for seed in range(args.seeds):
        row = one_seed(seed)
        emit(row)
        rows.append(row)
    own = [r["own_rules"]["ratio"] for r in rows if r["own_rules"]["ratio"] is not None]
    every = [r["all_rules"]["ratio"] for r in rows if r["all_rules"]["ratio"] is not None]
    lp_runs = [r[k] for r in rows for k in ("all_rules", "own_rules")]
    emit(
        {
            "benchmark": "quality",
            "kind": "summary",
            "instances": len(rows),
            # same rules for both: the planner should never cost more
            "own_rules_planner_le_greedy": sum(1 for x in own if x <= 1 + 1e-9),
            "own_rules_mean_ratio": sum(own) / len(own) if own else None,
            # all rules: the planner honours survivability and diversification, greedy breaks them
            "all_rules_mean_ratio": sum(every) / len(every) if every else None,
            "all_lp_verified": all(r["lp_verified"] for r in lp_runs),
            "lp_stopped_at_time_limit": sum(1 for r in lp_runs if r["lp_status"] == "feasible"),
            "lp_max_gap": max((r["lp_gap"] or 0.0 for r in lp_runs), default=None),
            "lp_wall_s_total": round(sum(r["lp_time"]["wall_s"] for r in lp_runs), 2),
            "lp_cpu_s_total": round(sum(r["lp_time"]["cpu_s"] for r in lp_runs), 2),
            "loadavg": loadavg(),
        }
    )
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
