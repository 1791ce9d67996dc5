"""What users saw, per service, geography and time window, from a simulation's outcomes.

Per group: requests arriving in the window; served, failed and rejected (``lost`` = failed +
rejected); SLO attainment = requests served within the TTFT target (where the service has one)
and within the end-to-end target, over all requests of the group (a lost request misses both);
availability = served / requests; requests retried (more than one attempt or a RETRY decision),
failed over, spilled; residency violations (some attempt outside the request's allowed set).

Capacity cost: replica-hours billed per deployment (replicas in an outage or hung are still
billed; preempted spot replicas are not), times
``price_per_replica_hour`` when given. The deployment table carries no prices, so without them
the cost is left out (``None``) and only replica-hours are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.route.types import DeploymentTable, FloatArray
from archipel.sim.engine import FAILED, REJECTED, SERVED, SimResult, Workload


@dataclass(frozen=True)
class WindowMetrics:
    service: str
    geography: str
    window_start_s: float
    requests: int
    served: int
    failed: int
    rejected: int
    ttft_attained: float
    e2e_attained: float
    availability: float
    retried: int
    failed_over: int
    spilled: int
    residency_violations: int

    @property
    def lost(self) -> int:
        return self.failed + self.rejected


@dataclass(frozen=True)
class CapacityUse:
    replica_hours: FloatArray  # [D]
    cost: float | None  # None: no prices given


def window_metrics(
    table: DeploymentTable, w: Workload, result: SimResult, window_s: float
) -> list[WindowMetrics]:
    o = result.outcomes
    S, G = len(table.services), len(table.geographies)
    win = np.floor(w.arrival_s / window_s).astype(np.int64)
    W = int(win.max()) + 1 if win.size else 0
    key = (w.service * G + w.geography) * W + win
    n = S * G * W
    ttft_slo = w.ttft_slo_s[w.service]
    ttft_ok = (o.status == SERVED) & (np.isnan(ttft_slo) | (o.ttft_s <= ttft_slo))
    e2e_ok = (o.status == SERVED) & (o.e2e_s <= w.e2e_slo_s[w.service])

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=mask.astype(np.float64), minlength=n)

    total = np.bincount(key, minlength=n)
    cols = {
        "served": count(o.status == SERVED),
        "failed": count(o.status == FAILED),
        "rejected": count(o.status == REJECTED),
        "ttft": count(ttft_ok),
        "e2e": count(e2e_ok),
        "retried": count((o.attempts > 1) | (o.retries > 0)),
        "failover": count(o.failovers > 0),
        "spill": count(o.spills > 0),
        "resid": count(o.outside_allowed),
    }
    rows = []
    for k in np.flatnonzero(total):
        sg, wi = divmod(int(k), W)
        s, g = divmod(sg, G)
        req = int(total[k])
        rows.append(
            WindowMetrics(
                table.services[s],
                table.geographies[g],
                wi * window_s,
                req,
                int(cols["served"][k]),
                int(cols["failed"][k]),
                int(cols["rejected"][k]),
                float(cols["ttft"][k] / req),
                float(cols["e2e"][k] / req),
                float(cols["served"][k] / req),
                int(cols["retried"][k]),
                int(cols["failover"][k]),
                int(cols["spill"][k]),
                int(cols["resid"][k]),
            )
        )
    return rows


def capacity_use(
    result: SimResult, price_per_replica_hour: FloatArray | None = None
) -> CapacityUse:
    hours = result.replica_seconds / 3600.0
    cost = None if price_per_replica_hour is None else float(hours @ price_per_replica_hour)
    return CapacityUse(hours, cost)
