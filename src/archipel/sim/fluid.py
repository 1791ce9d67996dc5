"""Fluid mode: aggregate traffic over long horizons, vectorised over time steps.

For one service, per time step ``t`` and geography ``g`` a demand in requests/s is routed by the
plan's weights ``table.weight[g, d]`` over the service's deployments that are up in that step;
a deployment down shifts its share to the up ones in proportion to their weights (the weights of
the up deployments renormalised). Each deployment serves at most its capacity in that step
(``capacity_rps[d]`` × the fraction of its replicas available); what exceeds it is lost, shared
over the geographies sending to it in proportion to their flows. No queueing carries over between
steps, no retries: fluid mode answers "how much traffic could the plan serve", not latency.

Availability per step and deployment (:func:`available_fraction`): outages remove the deployment
for the part of the step they cover; preemptions and hangs remove ``value`` replicas for the part
they cover. A 429 window (:func:`accepted_fraction`) leaves capacity alone but turns away a
share ``value`` of what is sent there for the part of the step it covers; that traffic goes to
the service's other deployments that are up, in proportion to their weights (what failover does
to it), and is lost when there are none. Latency spikes are not modelled here (fluid mode
measures traffic served, not latency: the per-request mode does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.route.types import DeploymentTable, FloatArray
from archipel.sim.faults import Fault, FaultKind, FaultSchedule


@dataclass(frozen=True)
class FluidResult:
    step_s: float
    demand: FloatArray  # [T] requests in the step
    served: FloatArray  # [T]
    lost: FloatArray  # [T]
    served_by_deployment: FloatArray  # [T, D] requests
    lost_by_geography: FloatArray  # [T, G] requests


def mixed_capacity(table: DeploymentTable, mix: FloatArray) -> FloatArray:
    """[D] requests/s of all replicas for a class mix (shares over classes, summing to 1):
    replicas / Σ_c mix_c / rate_c (time per request averaged over the mix)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_request = np.where(mix[None, :] > 0, mix[None, :] / table.rate, 0.0).sum(axis=1)
        return np.where(per_request > 0, table.replicas / per_request, 0.0)


def _cover(f: Fault, step_s: float, steps: int) -> tuple[int, int, FloatArray]:
    """The steps ``[lo, hi)`` that fault ``f`` touches and the share of each it covers."""
    lo = max(0, int(f.start_s // step_s))
    hi = min(steps, int(np.ceil(f.end_s / step_s)))
    edges = np.arange(lo, max(lo, hi) + 1) * step_s
    cover = (np.minimum(edges[1:], f.end_s) - np.maximum(edges[:-1], f.start_s)) / step_s
    return lo, hi, cover


def available_fraction(
    table: DeploymentTable, faults: FaultSchedule, step_s: float, steps: int
) -> FloatArray:
    """[T, D] share of each deployment's capacity available in each step (0..1)."""
    D = table.size
    down = np.zeros((steps, D))
    lost = np.zeros((steps, D))
    for f in faults.faults:
        if f.kind not in (FaultKind.OUTAGE, FaultKind.PREEMPTION, FaultKind.HUNG):
            continue
        lo, hi, cover = _cover(f, step_s, steps)
        if hi <= lo:
            continue
        mask = f.mask(table)
        if f.kind is FaultKind.OUTAGE:
            down[lo:hi, mask] += cover[:, None]
        else:
            lost[lo:hi, mask] += f.value * cover[:, None]
    reps = np.maximum(table.replicas, 1).astype(np.float64)
    return np.clip(1.0 - down, 0.0, 1.0) * np.clip(1.0 - lost / reps, 0.0, 1.0)


def accepted_fraction(
    table: DeploymentTable, faults: FaultSchedule, step_s: float, steps: int
) -> FloatArray:
    """[T, D] share of the traffic sent to each deployment that it accepts (429 windows turn
    away ``value`` of it for the part of the step they cover)."""
    refused = np.zeros((steps, table.size))
    for f in faults.faults:
        if f.kind is not FaultKind.CAPACITY_ERROR:
            continue
        lo, hi, cover = _cover(f, step_s, steps)
        if hi <= lo:
            continue
        refused[lo:hi, f.mask(table)] += f.value * cover[:, None]
    out: FloatArray = np.clip(1.0 - refused, 0.0, 1.0)
    return out


def fluid(
    table: DeploymentTable,
    service: int,
    demand_rps: FloatArray,
    capacity_rps: FloatArray,
    available: FloatArray | None = None,
    step_s: float = 60.0,
    block: int = 65536,
    accepted: FloatArray | None = None,
) -> FluidResult:
    """``demand_rps`` is [T, G]; ``capacity_rps`` [D]; ``available`` and ``accepted`` [T, D]
    (default all 1)."""
    T, G = demand_rps.shape
    D = table.size
    mine = (table.service == service).astype(np.float64)
    w = table.weight * mine[None, :]  # [G, D]
    served_d = np.zeros((T, D))
    lost_g = np.zeros((T, G))
    for lo in range(0, T, block):
        hi = min(T, lo + block)
        av = np.ones((hi - lo, D)) if available is None else available[lo:hi]
        up = (av > 0).astype(np.float64)
        if accepted is not None:  # traffic a 429 turns away goes where the rest goes
            up = up * accepted[lo:hi]
        wt = w[None, :, :] * up[:, None, :]  # [t, G, D]
        norm = wt.sum(axis=2, keepdims=True)
        share = np.divide(wt, norm, out=np.zeros_like(wt), where=norm > 0)
        flow = demand_rps[lo:hi, :, None] * share  # [t, G, D] requests/s
        load = flow.sum(axis=1)  # [t, D]
        cap = capacity_rps[None, :] * av
        served = np.minimum(load, cap)
        ratio = np.divide(served, load, out=np.zeros_like(load), where=load > 0)
        served_d[lo:hi] = served * step_s
        lost_g[lo:hi] = (demand_rps[lo:hi] - (flow * ratio[:, None, :]).sum(axis=2)) * step_s
    demand = demand_rps.sum(axis=1) * step_s
    served_t = served_d.sum(axis=1)
    return FluidResult(step_s, demand, served_t, demand - served_t, served_d, lost_g)
