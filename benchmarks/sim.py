"""Simulator throughput: ``python benchmarks/sim.py [--runs N]`` (or ``run.py sim``).

Prints JSON lines (CPU seconds from ``time.process_time``, wall seconds, load average):

- ``sim-requests``: per-request mode on the Azure 2023 conversation trace (19,366 requests,
  about an hour), two geographies, five deployments (one spot, one spill), a region outage and
  spot preemptions from a spot trace, the router in the loop for every attempt; requests per
  CPU-second, with and without the event log recorded, and with a constant router (the engine's
  own cost).
- ``sim-fluid``: fluid mode on the ServeGen language_m-large client windows (14 days), per-minute
  steps; requests per CPU-second.

The router is ``archipel.route.policy.decide`` when it exists, else the simple router below (the
``router`` field says which). Reads ../shared/data (``ARCHIPEL_SHARED_DATA``); no timing asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from archipel.route.types import (
    Action,
    Decision,
    DeploymentTable,
    Health,
    Request,
)
from archipel.sim.engine import Policy, SimConfig, Workload, simulate
from archipel.sim.faults import Fault, FaultKind, schedule, spot_preemptions
from archipel.sim.fluid import available_fraction, fluid, mixed_capacity
from archipel.sim.traces import (
    RequestClass,
    assign_classes,
    load_azure,
    load_servegen,
    shared_data_dir,
    split_geographies,
)
from measure import Clock, emit, loadavg

CLASSES = (RequestClass("short", 1000, 100), RequestClass("long", 4000, 400))
_REJECT = Decision(Action.REJECT, reason="no capacity")
_ROUTE0 = Decision(Action.ROUTE, 0)


_PLAN: dict[tuple[int, int, int], tuple[list[int], list[float], list[bool], list[int]]] = {}


def simple_router(
    req: Request, tb: DeploymentTable, h: Health, now: float, draw: float
) -> Decision:
    """Highest-weight deployment for the geography that is allowed, up, below full load and not
    tried (else tried ones); FAILOVER off the planned best, SPILL for tier 1; else reject. The
    table's facts per (table, geography, data class) are cached as plain lists."""
    g = tb.geographies.index(req.geography)
    k = tb.data_classes.index(req.data_class) if req.data_class else len(tb.data_classes)
    plan = _PLAN.get((id(tb), g, k))
    if plan is None:
        order = np.argsort(-tb.weight[g] - tb.tier * 10.0, kind="stable").tolist()
        plan = (order, tb.weight[g].tolist(), tb.allowed[k].tolist(), tb.tier.tolist())
        _PLAN[(id(tb), g, k)] = plan
    order, w, allowed, tier = plan
    up, load = h.up, h.load
    best = -1
    for d in order:
        if allowed[d] and (w[d] > 0 or tier[d] == 1) and up[d] and load[d] < 1.0:
            if d not in req.tried:
                best = d
                break
            if best < 0:
                best = d
    if best < 0:
        return _REJECT
    if tier[best] == 1:
        return Decision(Action.SPILL, best)
    return Decision(Action.ROUTE if best == order[0] else Action.FAILOVER, best)


def pick_router() -> tuple[Policy, str]:
    try:
        from archipel.route.policy import decide  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return simple_router, "benchmarks/sim.py simple_router (archipel.route.policy absent)"
    return decide, "archipel.route.policy.decide"


def bench_table() -> DeploymentTable:
    D = 5
    return DeploymentTable(
        period=0,
        period_label="bench",
        services=("chat",),
        geographies=("eu", "us"),
        data_classes=("eu-only",),
        request_classes=(tuple(c.name for c in CLASSES),),
        key=tuple(f"chat/{r}/o{d}" for d, r in enumerate(("eu-a", "eu-b", "us-a", "us-b", "us-c"))),
        service=np.zeros(D, dtype=np.int64),
        provider=("aws", "gcp", "aws", "azure", "oci"),
        region=("eu-a", "eu-b", "us-a", "us-b", "us-c"),
        offering_id=tuple(f"o{d}" for d in range(D)),
        spot=np.array([False, True, False, False, False]),
        replicas=np.array([4, 3, 4, 3, 2], dtype=np.int64),
        rate=np.array([[0.8, 0.2]] * D),
        rtt_ms=np.array([[15.0, 25.0, 90.0, 95.0, 100.0], [90.0, 95.0, 20.0, 30.0, 35.0]]),
        weight=np.array([[0.6, 0.4, 0.0, 0.0, 0.0], [0.0, 0.0, 0.6, 0.4, 0.0]]),
        allowed=np.array([[True, True, False, False, False], [True] * D]),
        tier=np.array([0, 0, 0, 0, 1], dtype=np.int64),
        ramp=np.ones(D),
    )


def bench_workload(root: Path) -> Workload:
    tr = load_azure("conv", root)
    geo = split_geographies(tr, {"eu": 0.5, "us": 0.5}, seed=1).index
    cls = assign_classes(tr, CLASSES).index
    rng = np.random.Generator(np.random.PCG64(2))
    eu_only = (geo == 0) & (rng.random(tr.size) < 0.3)
    return Workload(
        arrival_s=tr.arrival_s,
        service=np.zeros(tr.size, dtype=np.int64),
        geography=geo,
        request_class=cls,
        data_class=np.where(eu_only, 0, -1).astype(np.int64),
        input_tokens=tr.input_tokens,
        output_tokens=tr.output_tokens,
        e2e_slo_s=np.array([60.0]),
        ttft_slo_s=np.array([5.0]),
        class_tokens=(tuple((c.input_tokens, c.output_tokens) for c in CLASSES),),
    )


def per_request(root: Path, runs: int) -> None:
    tb, w = bench_table(), bench_workload(root)
    policy, router = pick_router()
    faults = schedule([Fault(FaultKind.OUTAGE, 1200.0, 1500.0, "region:us-a")])
    if (root / "spot").is_dir():
        faults = faults + spot_preemptions(tb, root / "spot", 4000.0, seed=0)
    constant: Policy = lambda req, tb, h, now, draw: _ROUTE0  # noqa: E731
    roomy = replace(tb, replicas=tb.replicas * 4)  # the same fleet sized for the load
    cases = [(policy, router, True, tb), (policy, router, False, tb)]
    cases.append((policy, router + ", table sized for the load (replicas x4)", False, roomy))
    cases.append((constant, "constant (route everything to deployment 0: engine cost)", False, tb))
    for policy, router, record, tb in cases:
        cpu, wall = [], []
        for _ in range(runs):
            clock = Clock()
            res = simulate(tb, w, policy, faults, SimConfig(seed=1, record_log=record))
            span = clock.lap()
            cpu.append(span.cpu_s)
            wall.append(span.wall_s)
        o = res.outcomes
        emit(
            {
                "benchmark": "sim-requests",
                "trace": "azure-2023-conv",
                "requests": w.size,
                "event_log": record,
                "router": router,
                "faults": len(faults.faults),
                "cpu_s": round(statistics.median(cpu), 4),
                "wall_s": round(statistics.median(wall), 4),
                "requests_per_cpu_s": round(w.size / statistics.median(cpu)),
                "served": int((o.status == 1).sum()),
                "attempts": int(o.attempts.sum()),
                "residency_violations": int(o.outside_allowed.sum()),
                "loadavg": loadavg(),
            }
        )


def fluid_mode(root: Path, runs: int) -> None:
    tb = bench_table()
    sg = load_servegen("language_m-large", root)
    per_min = np.repeat(sg.rate_rps, int(sg.window_s // 60))  # each 10-minute rate, per minute
    demand = np.stack([per_min * 0.5, per_min * 0.5], axis=1)
    cap = mixed_capacity(tb, np.array([0.8, 0.2])) * demand.max() / 4.0  # peak needs ~all of it
    steps = demand.shape[0]
    faults = schedule([Fault(FaultKind.OUTAGE, 86400.0, 90000.0, "region:us-a")])
    cpu, wall = [], []
    for _ in range(runs):
        clock = Clock()
        av = available_fraction(tb, faults, 60.0, steps)
        res = fluid(tb, 0, demand, cap, av, step_s=60.0)
        span = clock.lap()
        cpu.append(span.cpu_s)
        wall.append(span.wall_s)
    total = float(res.demand.sum())
    emit(
        {
            "benchmark": "sim-fluid",
            "trace": "servegen language_m-large (14 days)",
            "steps": steps,
            "step_s": 60.0,
            "requests": round(total),
            "cpu_s": round(statistics.median(cpu), 5),
            "wall_s": round(statistics.median(wall), 5),
            "requests_per_cpu_s": round(total / max(statistics.median(cpu), 1e-9)),
            "served_share": round(float(res.served.sum()) / total, 4),
            "loadavg": loadavg(),
        }
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="sim", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    root = shared_data_dir()
    if not (root / "traces").is_dir():
        raise SystemExit(f"traces not found under {root}; set ARCHIPEL_SHARED_DATA")
    per_request(root, args.runs)
    fluid_mode(root, args.runs)


if __name__ == "__main__":
    main(sys.argv[1:])
