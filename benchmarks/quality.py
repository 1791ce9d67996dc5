"""Quality benchmark: the LP planner against the greedy baseline on generated fleets with rules.

For each seed: planner cost, greedy cost, their ratio, whether each plan verified, and the rules
greedy breaks. Run: ``python benchmarks/run.py quality``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main(seeds: int = 8) -> list[dict[str, object]]:
    from archipel.plan.greedy import plan_greedy
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import PlanOptions, plan_lp
    from archipel.plan.verify import verify
    from fleetgen import generate

    rows = []
    for seed in range(seeds):
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
        inputs = prepare(spec, catalog)
        lp = plan_lp(inputs, PlanOptions(rule_costs=False))
        # the same fleet with only per-workload rules (residency), which greedy can honour too
        own = spec.model_copy(update={"rules": [r for r in spec.rules if r.kind == "residency"]})
        own_inputs = prepare(own, catalog)
        lp_own = plan_lp(own_inputs, PlanOptions(rule_costs=False))
        greedy_own = plan_greedy(own_inputs)
        greedy = plan_greedy(inputs)
        lp_report = verify(lp, inputs) if lp.allocations else None
        g_report = verify(greedy, inputs) if greedy.allocations else None
        row = {
            "seed": seed,
            "lp_status": str(lp.status),
            "greedy_status": str(greedy.status),
            "lp_usd": lp.objective_usd,
            "greedy_usd": greedy.objective_usd,
            "ratio": (lp.objective_usd / greedy.objective_usd)
            if lp.objective_usd and greedy.objective_usd
            else None,
            "lp_verified": lp_report.ok if lp_report else None,
            "greedy_rules_broken": sorted(set(g_report.rules_broken)) if g_report else None,
            "own_rules_lp_usd": lp_own.objective_usd,
            "own_rules_greedy_usd": greedy_own.objective_usd,
            "own_rules_ratio": (lp_own.objective_usd / greedy_own.objective_usd)
            if lp_own.objective_usd and greedy_own.objective_usd
            else None,
        }
        print(json.dumps({"benchmark": "quality", **row}), flush=True)
        rows.append(row)
    ratios = [r["own_rules_ratio"] for r in rows if r["own_rules_ratio"] is not None]
    rule_ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    print(
        json.dumps(
            {
                "benchmark": "quality-summary",
                "instances": len(rows),
                # same rules for both: the planner must never cost more
                "own_rules_planner_le_greedy": sum(1 for x in ratios if x <= 1 + 1e-9),
                "own_rules_mean_ratio": sum(ratios) / len(ratios) if ratios else None,
                # all rules: the planner honours survivability/diversification, greedy breaks them
                "all_rules_mean_ratio": sum(rule_ratios) / len(rule_ratios)
                if rule_ratios
                else None,
                "all_lp_verified": all(r["lp_verified"] for r in rows),
            }
        ),
        flush=True,
    )
    return rows


if __name__ == "__main__":
    main()
