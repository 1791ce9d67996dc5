"""Small deployment tables, workloads and a deterministic router for the simulator tests.

The router is a test fixture, not a policy: among deployments allowed for the request's data
class, up and below full load, it takes the highest planned weight for the request's geography,
preferring ones not yet tried (FAILOVER when it is not the planned best, SPILL for tier 1), else
rejects.
"""

from __future__ import annotations

import numpy as np

from archipel.route.types import Action, Decision, DeploymentTable, Health, Request
from archipel.sim.engine import Workload


def table(
    replicas: tuple[int, ...] = (1, 1),
    rate: tuple[float, ...] = (1.0, 1.0),
    weight: tuple[float, ...] = (0.5, 0.5),
    rtt_ms: float = 0.0,
    allowed_eu: tuple[bool, ...] | None = None,
    tier: tuple[int, ...] | None = None,
) -> DeploymentTable:
    D = len(replicas)
    names = [f"r{d}" for d in range(D)]
    allowed = np.ones((2, D), dtype=bool)
    if allowed_eu is not None:
        allowed[0] = allowed_eu
    return DeploymentTable(
        period=0,
        period_label="p0",
        services=("chat",),
        geographies=("eu",),
        data_classes=("eu-only",),
        request_classes=(("std",),),
        key=tuple(f"chat/{n}/o{d}" for d, n in enumerate(names)),
        service=np.zeros(D, dtype=np.int64),
        provider=tuple(f"p{d}" for d in range(D)),
        region=tuple(names),
        offering_id=tuple(f"o{d}" for d in range(D)),
        spot=np.zeros(D, dtype=bool),
        replicas=np.array(replicas, dtype=np.int64),
        rate=np.array(rate, dtype=np.float64)[:, None],
        rtt_ms=np.full((1, D), rtt_ms),
        weight=np.array([weight], dtype=np.float64),
        allowed=allowed,
        tier=np.zeros(D, dtype=np.int64) if tier is None else np.array(tier, dtype=np.int64),
        ramp=np.ones(D),
    )


def workload(
    arrival_s: list[float] | np.ndarray, data_class: int = -1, e2e_s: float = 60.0
) -> Workload:
    t = np.asarray(arrival_s, dtype=np.float64)
    n = t.size
    z = np.zeros(n, dtype=np.int64)
    return Workload(
        arrival_s=t,
        service=z,
        geography=z,
        request_class=z,
        data_class=np.full(n, data_class, dtype=np.int64),
        input_tokens=np.full(n, 100, dtype=np.int64),
        output_tokens=np.full(n, 100, dtype=np.int64),
        e2e_slo_s=np.array([e2e_s]),
        ttft_slo_s=np.array([np.nan]),
        class_tokens=(((100, 100),),),
    )


def router(req: Request, tb: DeploymentTable, health: Health, now: float, draw: float) -> Decision:
    g = tb.geographies.index(req.geography)
    k = tb.data_classes.index(req.data_class) if req.data_class else len(tb.data_classes)
    w = tb.weight[g]
    best, fresh = -1, -1
    for d in range(tb.size):
        if not (tb.allowed[k, d] and health.up[d] and health.load[d] < 1.0):
            continue
        if best < 0 or w[d] > w[best]:
            best = d
        if d not in req.tried and (fresh < 0 or w[d] > w[fresh]):
            fresh = d
    pick = fresh if fresh >= 0 else best
    if pick < 0:
        return Decision(Action.REJECT, reason="no capacity")
    if tb.tier[pick] == 1:
        return Decision(Action.SPILL, pick)
    planned = int(np.argmax(w))
    return Decision(Action.ROUTE if pick == planned else Action.FAILOVER, pick)
