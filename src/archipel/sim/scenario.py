"""A simulation scenario from a plan: the period's deployment table and a trace replayed as the
plan's own traffic, every transform logged (``notes``).

- **Rate**: the trace's time is scaled so that its mean rate is the plan's peak requests/s of
  the period (the sum of its flows) times ``sample``: the replay is the period's peak, the load
  the plan was sized for (times ``load``: 0.8 replays at 80 % of it), the trace's own bursts on
  top. With ``sample`` < 1 the table is shrunk with it (``shrink``): each
  deployment keeps round(replicas × sample) replicas, at least 1 — a sample of the fleet, so
  that a fleet of 10^5 replicas can be replayed request by request over the trace's own hour
  (the rounding's effect on capacity is reported).
- **Who asks**: each request is given a (service, geography) pair with probability equal to its
  share of the period's flows (``split_geographies`` on the pairs, from the seed).
- **What**: each request takes the nearest request class of its service by token counts
  (``assign_classes``); its data class is its service's.
- **SLOs**: one time-to-first-token and one end-to-end target for every service (the spec holds
  only a network latency SLO).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Plan
from archipel.route.types import DeploymentTable
from archipel.sim.engine import Workload
from archipel.sim.traces import (
    RequestClass,
    Trace,
    assign_classes,
    scale_to_rate,
    split_geographies,
)


@dataclass(frozen=True)
class Scenario:
    workload: Workload
    notes: tuple[str, ...]
    peak_rps: float
    table: DeploymentTable  # shrunk to the sample


def shrink(table: DeploymentTable, sample: float) -> tuple[DeploymentTable, str]:
    """The table with round(replicas × sample) replicas per deployment (at least 1 where it had
    any), and a note of how far the rounding moves capacity from the exact sample."""
    if sample >= 1.0:
        return table, "full fleet"
    scaled = np.where(table.replicas > 0, np.maximum(1, np.rint(table.replicas * sample)), 0)
    exact = float((table.replicas * sample).sum())
    kept = float(scaled.sum())
    note = (
        f"fleet sampled at {sample:.6g}: {int(kept)} replicas for {exact:.6g} exact "
        f"({kept / exact - 1.0:+.1%} capacity from rounding)"
    )
    return replace(table, replicas=scaled.astype(np.int64)), note


def plan_workload(
    plan: Plan,
    inputs: PlanInputs,
    table: DeploymentTable,
    trace: Trace,
    seed: int,
    e2e_slo_s: float,
    ttft_slo_s: float,
    sample: float = 1.0,
    load: float = 1.0,
) -> Scenario:
    """The trace as the traffic of ``table``'s period of ``plan`` (see the module docstring)."""
    spec = inputs.spec
    pairs: dict[str, float] = {}
    for f in plan.flows:
        if f.period == table.period and f.requests_per_s > 0:
            key = f"{f.service}|{f.geography}"
            pairs[key] = pairs.get(key, 0.0) + f.requests_per_s
    if not pairs:
        raise ValueError(f"the plan routes no demand in period {table.period_label}")
    peak = sum(pairs.values())
    table, fleet_note = shrink(table, sample)
    scaled = scale_to_rate(trace, peak * min(sample, 1.0) * load)
    who = split_geographies(scaled, pairs, seed)
    pair_names = [who.names[i].split("|", 1) for i in range(len(who.names))]
    s_of_pair = np.array([table.services.index(s) for s, _ in pair_names], dtype=np.int64)
    g_of_pair = np.array([table.geographies.index(g) for _, g in pair_names], dtype=np.int64)
    service = s_of_pair[who.index]
    geography = g_of_pair[who.index]
    by_id = {s.id: s for s in spec.services}
    request_class = np.zeros(scaled.size, dtype=np.int64)
    span = float(scaled.arrival_s[-1] - scaled.arrival_s[0])
    notes = [*scaled.transforms, fleet_note, f"the replay spans {span:.6g} s", who.note]
    class_tokens = []
    data_class = np.full(scaled.size, -1, dtype=np.int64)
    for s, sid in enumerate(table.services):
        svc = by_id[sid]
        classes = [
            RequestClass(c.name, c.input_tokens, c.output_tokens) for c in svc.request_classes
        ]
        class_tokens.append(tuple((c.input_tokens, c.output_tokens) for c in classes))
        mine = np.flatnonzero(service == s)
        if mine.size:
            sub = Trace(
                f"{trace.name}/{sid}",
                scaled.arrival_s[mine],
                scaled.input_tokens[mine],
                scaled.output_tokens[mine],
            )
            split = assign_classes(sub, classes)
            request_class[mine] = split.index
            notes.append(f"{sid}: {split.note}")
        if svc.data_class is not None:
            data_class[service == s] = table.data_classes.index(svc.data_class)
    S = len(table.services)
    workload = Workload(
        arrival_s=scaled.arrival_s,
        service=service,
        geography=geography,
        request_class=request_class,
        data_class=data_class,
        input_tokens=scaled.input_tokens,
        output_tokens=scaled.output_tokens,
        e2e_slo_s=np.full(S, e2e_slo_s),
        ttft_slo_s=np.full(S, ttft_slo_s),
        class_tokens=tuple(class_tokens),
    )
    return Scenario(workload, tuple(notes), peak, table)
