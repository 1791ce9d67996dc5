"""The outlook's targets: ``python benchmarks/outlook.py [--plan PLAN.json] [--runs N]`` (or
``run.py outlook``).

Plans examples/frontier-lab.yaml once (without pricing its rules; or reads ``--plan``), then
prints JSON lines (wall seconds from ``time.perf_counter``, CPU seconds from
``time.process_time``, the load average before and after):

- ``outlook-evaluate``: 10^5 scenarios drawn and evaluated in this process (one BLAS thread, as
  ``archipel outlook`` runs them), batches of 10^4,
  with the default scenarios (growth only) and with examples/outlook/frontier-lab.yaml (prices,
  a new generation, outages); median of ``--runs``. Target: under 1 s.
- ``outlook-saa``: the stochastic program on 1,000 scenarios of the flagship's 15 contract
  years (drawing and evaluating them, then solving), by the extensive form and by the L-shaped
  method, and on 10^5 scenarios by the L-shaped method. Target: 1,000 in under 60 s.
- ``outlook-workers``: sweeps of 120 batches of 2,000 and of 10,000 scenarios on 1 and on 2
  local worker processes (the same figures either way: checked), interleaved 1, 2, 1, 2: wall
  time, the speed-up, and the CPU time of this process and its workers (which says what two
  idle cores would give). Target: 1.7x on 2 idle cores; the load average says how idle they
  were. A sweep of 120 × 2,000 is under a second of work, so starting two processes (~0.1 s)
  weighs on it.

No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from archipel.cli.plan_cmd import _load
from archipel.outlook.optimize import _sample, terms_of
from archipel.outlook.portfolio import Portfolio, build_portfolio
from archipel.outlook.runner import RunOptions, run
from archipel.outlook.saa import build_extensive, solve_saa
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.report.planfile import load_plan
from archipel.spec.uncertainty import Uncertainty, load_uncertainty
from measure import ROOT, Clock, emit, loadavg

SPEC = ROOT / "examples/frontier-lab.yaml"
RISKS = ROOT / "examples/outlook/frontier-lab.yaml"


def portfolio(plan_path: Path | None) -> Portfolio:
    spec, catalog = _load(SPEC, None)
    if plan_path is not None:
        plan = load_plan(plan_path)
    else:
        plan = make_plan(spec, catalog, "lp", PlanOptions(rule_costs=False))  # type: ignore[arg-type]
    return build_portfolio(prepare(spec, catalog), plan)  # type: ignore[arg-type]


def evaluate_1e5(pf: Portfolio, runs: int) -> None:
    for name, u in (
        ("default", Uncertainty()),
        ("outlook/frontier-lab.yaml", load_uncertainty(RISKS)[0]),
    ):
        walls, cpus = [], []
        before = loadavg()
        for _ in range(runs):
            clock = Clock()
            run(pf, u, RunOptions(scenarios=100_000, seed=1, batch_size=10_000))
            lap = clock.lap()
            walls.append(lap.wall_s)
            cpus.append(lap.cpu_s)
        emit(
            {
                "bench": "outlook-evaluate",
                "scenarios_file": name,
                "scenarios": 100_000,
                "batch": 10_000,
                "cells": int(pf.cell_list.size),
                "contract_years": int(pf.term_committed.size),
                "wall_s": round(statistics.median(walls), 4),
                "cpu_s": round(statistics.median(cpus), 4),
                "wall_s_all": [round(w, 3) for w in walls],
                "load_before": before,
                "load_after": loadavg(),
            }
        )


def saa(pf: Portfolio, n: int, method: str) -> None:
    before = loadavg()
    clock = Clock()
    w, c = _sample(run(pf, Uncertainty(), RunOptions(scenarios=n, seed=3)))
    drawn = clock.lap()
    t = terms_of(pf)
    columns = build_extensive(w, c, t).num_cols if method == "extensive" else None
    clock.lap()
    sol = solve_saa(w, c, t, method=method)  # type: ignore[arg-type]
    solved = clock.lap()
    emit(
        {
            "bench": "outlook-saa",
            "method": sol.method,
            "scenarios": n,
            "contract_years": int(w.shape[1]),
            "extensive_columns": columns,
            "master_solves": sol.iterations,
            "evaluate_wall_s": round(drawn.wall_s, 4),
            "solve_wall_s": round(solved.wall_s, 4),
            "total_wall_s": round(drawn.wall_s + solved.wall_s, 4),
            "total_cpu_s": round(drawn.cpu_s + solved.cpu_s, 4),
            "objective_usd": round(sol.objective_usd, 0),
            "committed_usd": round(float(((1 - t.discount) * sol.q).sum()), 0),
            "load_before": before,
            "load_after": loadavg(),
        }
    )


def workers_sweep(pf: Portfolio, batches: int, batch: int) -> None:
    u = load_uncertainty(RISKS)[0]
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    before = loadavg()
    results = {}
    for workers in (1, 2, 1, 2):
        started, own, kids = time.perf_counter(), time.process_time(), os.times()
        results[workers] = run(pf, u, RunOptions(batches * batch, 9, batch, workers=workers))
        after = os.times()
        walls[workers].append(time.perf_counter() - started)
        cpus[workers].append(
            time.process_time()
            - own
            + after.children_user
            + after.children_system
            - kids.children_user
            - kids.children_system
        )
    same = bool(np.array_equal(results[1].total_cost, results[2].total_cost))
    w1, w2 = min(walls[1]), min(walls[2])
    emit(
        {
            "bench": "outlook-workers",
            "batches": batches,
            "batch": batch,
            "wall_s_1": round(w1, 3),
            "wall_s_2": round(w2, 3),
            "speedup": round(w1 / w2, 3),  # best of two interleaved rounds each
            "speedups": [round(a / b, 3) for a, b in zip(walls[1], walls[2], strict=True)],
            # CPU of this process and its workers: on two idle cores the speed-up would be
            # about 2 × cpu_s_1 / cpu_s_2 (the work split in two, plus the overhead measured)
            "cpu_s_1": round(min(cpus[1]), 3),
            "cpu_s_2": round(min(cpus[2]), 3),
            "same_figures": same,
            "load_before": before,
            "load_after": loadavg(),
        }
    )


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="outlook", description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, help="a plan JSON of examples/frontier-lab.yaml")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["evaluate", "saa", "workers"], action="append")
    args = ap.parse_args(argv)
    pf = portfolio(args.plan)
    only = set(args.only or ["evaluate", "saa", "workers"])
    if "evaluate" in only:
        evaluate_1e5(pf, args.runs)
    if "saa" in only:
        saa(pf, 1000, "extensive")
        saa(pf, 1000, "lshaped")
        saa(pf, 100_000, "lshaped")
    if "workers" in only:
        workers_sweep(pf, 120, 2000)
        workers_sweep(pf, 120, 10_000)


if __name__ == "__main__":
    main(sys.argv[1:])
