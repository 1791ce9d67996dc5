"""Scale benchmark: build and solve generated fleets of about 10^4, 10^5 and 10^6 variables.

Each case runs in its own process so that its peak memory (ru_maxrss) is its own. Prints one
JSON line per case and a final summary line. Run: ``python benchmarks/run.py scale``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

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
        services=14,
        geographies=6,
        periods=18,
    ),
    "1e6-skewed": dict(
        providers=6,
        regions_per_provider=10,
        offerings_per_region=8,
        services=14,
        geographies=6,
        periods=18,
        skewed=True,
    ),
}


def run_case(name: str, queue: Any) -> None:
    from archipel.plan.extract import to_plan
    from archipel.plan.inputs import prepare
    from archipel.plan.lp.build import build_lp
    from archipel.plan.result import Status
    from archipel.plan.solvers.highs import solve
    from archipel.plan.verify import verify
    from fleetgen import generate

    spec, catalog = generate(**CASES[name])
    t0 = time.perf_counter()
    inputs = prepare(spec, catalog)
    built = build_lp(inputs)
    t_build = time.perf_counter() - t0
    sol = solve(built.lp, time_limit_s=300)
    t_solve = time.perf_counter() - t0 - t_build
    verified = None
    if sol.x is not None:
        plan = to_plan(built, sol.x, Status.OPTIMAL, sol.bound, sol.gap)
        verified = verify(plan, inputs).ok
    queue.put(
        {
            "case": name,
            "variables": built.lp.num_cols,
            "constraints": built.lp.num_rows,
            "nonzeros": built.lp.nnz,
            "build_s": round(t_build, 3),
            "solve_s": round(t_solve, 3),
            "outcome": str(sol.outcome),
            "objective_usd": sol.objective,
            "verified": verified,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )


def main(names: list[str]) -> list[dict[str, Any]]:
    ctx = mp.get_context("spawn")
    results = []
    for name in names or list(CASES):
        q = ctx.Queue()
        p = ctx.Process(target=run_case, args=(name, q))
        p.start()
        p.join()
        row = q.get() if not q.empty() else {"case": name, "error": f"exit code {p.exitcode}"}
        print(json.dumps({"benchmark": "scale", **row}), flush=True)
        results.append(row)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
