"""Fluid replay of a plan over days: the ServeGen 14-day rate windows (Alibaba production,
diurnal and weekly) shaped to the plan's demand, every service at once.

Each (service, geography) demands ``peak × r(t) / max r`` requests/s at step ``t``: the plan's
peak flow of the period times the trace's rate relative to its own peak, so the busiest window
of the two weeks is the load the plan was sized for. Capacity per deployment is its replicas at
the service's request-class mix (``mixed_capacity``); faults remove capacity as
``available_fraction`` says, and 429 windows send traffic elsewhere (``accepted_fraction``). No
queueing or retries: how much the plan could serve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Plan
from archipel.route.types import DeploymentTable
from archipel.sim.faults import FaultSchedule
from archipel.sim.fluid import accepted_fraction, available_fraction, fluid, mixed_capacity
from archipel.sim.traces import RateWindows


@dataclass(frozen=True)
class FluidReplay:
    step_s: float
    steps: int
    demand: float  # requests over the replay
    served: float
    lost_by_service: dict[str, float]
    worst_step_served_share: float


def fluid_replay(
    plan: Plan,
    inputs: PlanInputs,
    table: DeploymentTable,
    windows: RateWindows,
    faults: FaultSchedule,
) -> FluidReplay:
    shape = windows.rate_rps / max(float(windows.rate_rps.max()), 1e-300)
    step = windows.window_s
    T, G = shape.size, len(table.geographies)
    avail = available_fraction(table, faults, step, T)
    accept = accepted_fraction(table, faults, step, T)
    by_id = {s.id: s for s in inputs.spec.services}
    demand_total = served_total = 0.0
    lost: dict[str, float] = {}
    served_t = np.zeros(T)
    demand_t = np.zeros(T)
    for s, sid in enumerate(table.services):
        peak = np.zeros(G)
        for f in plan.flows:
            if f.period == table.period and f.service == sid:
                peak[table.geographies.index(f.geography)] += f.requests_per_s
        if not peak.any():
            continue
        mix = np.zeros(table.rate.shape[1])
        classes = by_id[sid].request_classes
        mix[: len(classes)] = [c.share for c in classes]
        result = fluid(
            table,
            s,
            shape[:, None] * peak[None, :],
            mixed_capacity(table, mix),
            avail,
            step,
            accepted=accept,
        )
        demand_total += float(result.demand.sum())
        served_total += float(result.served.sum())
        lost[sid] = float(result.lost.sum())
        served_t += result.served
        demand_t += result.demand
    share = np.divide(served_t, demand_t, out=np.ones(T), where=demand_t > 0)
    return FluidReplay(step, T, demand_total, served_total, lost, float(share.min()))
