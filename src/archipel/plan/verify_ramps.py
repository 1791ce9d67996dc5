"""The verifier's checks of capacity over time, traffic ramps and migration limits.

Recomputed from the spec and the plan's allocations and flows alone (docs/semantics.md,
"Capacity over time", "Traffic ramps", "Migration limits"), with no code of the LP build:

- a provider capacity limit covers the provider's offerings (of its region, accelerator by any
  alias, instance type when given); a period is inside its window only when it lies wholly
  inside ``[available_from, until)`` and no covered node may be allocated outside; inside, the
  period's limit is the smallest value in force at any instant of it;
- a traffic ramp's step in force at a period's start bounds the provider's share of the
  service's peak demand: the plan's flows into the provider's regions over the demand;
- a migration limit bounds the change of each provider's share between consecutive periods
  that both have demand.

Each check returns problems ``(kind, message)``; the tolerance is relative 1e-6 plus absolute
1e-6 (in requests/s for flows, accelerators for limits).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archipel.plan.result import Flow
from archipel.plan.verify_facts import Bool, Cells, Facts, Float
from archipel.spec.models import CapacityLimit, MigrationLimitRule, RampStep, TrafficRampRule
from archipel.spec.periods import Period

Problem = tuple[str, str]
REL = 1e-6
ABS = 1e-6


def _num(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:,.1f}"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "aws aws:us-east-1 Trainium2"
    covers: Bool  # [O]
    inside: list[bool]  # [T] the period lies wholly inside the window
    allowed: list[float]  # [T] accelerators allowed throughout the period (inf: no limit)
    window: str  # e.g. "from 2026-10-01 until 2028-01-01", "" without one


def _throughout(lim: CapacityLimit, p: Period) -> float:
    """The smallest limit in force at any instant of period ``p``."""
    values = [math.inf if lim.max_accelerators is None else lim.max_accelerators]
    for step in lim.steps:
        at = _midnight(step.start)
        if at <= p.start:
            values = [step.max_accelerators]
        elif at < p.end:
            values.append(step.max_accelerators)
    return min(values)


def provider_limits(facts: Facts) -> list[Limit]:
    """Every provider capacity limit of the spec, over the offerings and periods."""
    inputs = facts.inputs
    out = []
    for ps in inputs.spec.providers:
        for lim in ps.capacity:
            chip = (
                inputs.accelerator_name(lim.accelerator) or lim.accelerator
                if lim.accelerator
                else None
            )
            covers = np.array(
                [
                    o.provider == ps.id
                    and (lim.region is None or o.region_id == lim.region)
                    and (chip is None or o.accelerator == chip)
                    and (lim.instance_type is None or o.instance_type == lim.instance_type)
                    for o in inputs.offerings
                ],
                dtype=bool,
            )
            begin = _midnight(lim.available_from) if lim.available_from else None
            end = _midnight(lim.until) if lim.until else None
            inside = [
                (begin is None or p.start >= begin) and (end is None or p.end <= end)
                for p in inputs.periods
            ]
            window = " ".join(
                w
                for w in (
                    f"from {lim.available_from}" if lim.available_from else "",
                    f"until {lim.until}" if lim.until else "",
                )
                if w
            )
            scope = " ".join(
                x for x in (ps.id, lim.region, lim.accelerator, lim.instance_type) if x
            )
            allowed = [_throughout(lim, p) for p in inputs.periods]
            out.append(Limit(scope, covers, inside, allowed, window))
    return out


def check_provider_capacity(facts: Facts, cells: Cells) -> list[Problem]:
    """No node of a limit's scope outside its window; accelerators ≤ the period's limit."""
    out: list[Problem] = []
    keys = facts.inputs.keys
    n_t = len(facts.hours)
    accels = np.zeros((len(facts.price), n_t))
    np.add.at(
        accels, (cells.offering, cells.period), cells.nodes * facts.accels_per_node[cells.offering]
    )
    for lim in provider_limits(facts):
        for a in np.flatnonzero(lim.covers[cells.offering] & (cells.nodes > ABS)):
            t = int(cells.period[a])
            if not lim.inside[t]:
                out.append(
                    (
                        "availability",
                        f"allocation {cells.workload[a]} on {keys[cells.offering[a]]}, period "
                        f"{facts.labels[t]}: {_num(float(cells.nodes[a]))} nodes, but the "
                        f"capacity of provider {lim.scope} is available only {lim.window}, and "
                        "a period counts only when it lies wholly inside that window",
                    )
                )
        total = accels[lim.covers].sum(axis=0)
        out.extend(
            (
                "provider-capacity",
                f"provider {lim.scope}, period {facts.labels[t]}: {_num(float(total[t]))} "
                f"accelerators, limit {_num(lim.allowed[t])}",
            )
            for t in range(n_t)
            if lim.inside[t] and total[t] > lim.allowed[t] + ABS + REL * lim.allowed[t]
        )
    return out


def _provider_flows(flows: Sequence[Flow], n_t: int) -> dict[tuple[str, str], Float]:
    """(service, provider) -> [T] requests/s of the plan's flows into the provider's regions."""
    out: dict[tuple[str, str], Float] = defaultdict(lambda: np.zeros(n_t))
    for fl in flows:
        if 0 <= fl.period < n_t:
            out[fl.service, fl.region.split(":", 1)[0]][fl.period] += fl.requests_per_s
    return out


def _step_at(steps: Sequence[RampStep], start: dt.datetime) -> RampStep | None:
    """The step in force at ``start``: the last one beginning on or before it."""
    found = None
    for step in steps:
        if _midnight(step.start) <= start:
            found = step
    return found


def check_traffic_ramps(facts: Facts, flows: Sequence[Flow]) -> list[Problem]:
    """Per traffic ramp and period with demand: min_share · D ≤ F(provider) ≤ max_share · D,
    with the step in force at the period's start."""
    n_t = len(facts.hours)
    by = _provider_flows(flows, n_t)
    out: list[Problem] = []
    for rule in facts.inputs.spec.rules:
        if not isinstance(rule, TrafficRampRule) or rule.service not in facts.services:
            continue
        demand = facts.services[rule.service].demand.sum(axis=0)
        served = by.get((rule.service, rule.provider), np.zeros(n_t))
        for t, p in enumerate(facts.inputs.periods):
            step = _step_at(rule.steps, p.start)
            d = float(demand[t])
            if step is None or d <= 0:
                continue
            got, slack = float(served[t]), ABS + REL * d
            for bound, word, broken in (
                (step.min_share, "below", got < step.min_share * d - slack),
                (step.max_share, "above", got > step.max_share * d + slack),
            ):
                if broken:
                    out.append(
                        (
                            "traffic_ramp",
                            f"service {rule.service} on provider {rule.provider}, period "
                            f"{facts.labels[t]}: {_num(got)} of {_num(d)} peak requests/s "
                            f"({got / d:.4%}), {word} the traffic ramp's "
                            f"{'min' if word == 'below' else 'max'}_share {bound:g} "
                            f"(step from {step.start})",
                        )
                    )
    return out


def check_migration_limits(facts: Facts, flows: Sequence[Flow]) -> list[Problem]:
    """Per migration limit, service and provider: |share_t − share_{t−1}| ≤ max_shift for
    consecutive periods that both have demand, share = F(provider) / D."""
    n_t = len(facts.hours)
    by = _provider_flows(flows, n_t)
    out: list[Problem] = []
    for rule in facts.inputs.spec.rules:
        if not isinstance(rule, MigrationLimitRule):
            continue
        for s, sf in facts.services.items():
            if rule.services is not None and s not in rule.services:
                continue
            demand = sf.demand.sum(axis=0)
            for provider in sorted(p for (svc, p) in by if svc == s):
                share = np.divide(by[s, provider], demand, out=np.zeros(n_t), where=demand > 0)
                for t in range(1, n_t):
                    if demand[t] <= 0 or demand[t - 1] <= 0:
                        continue  # no shares in a period without demand
                    shift = float(share[t] - share[t - 1])
                    slack = REL + ABS / min(float(demand[t]), float(demand[t - 1]))
                    if abs(shift) > rule.max_shift + slack:
                        out.append(
                            (
                                "migration_limit",
                                f"service {s} on provider {provider}: share {share[t - 1]:.4%} "
                                f"in {facts.labels[t - 1]}, {share[t]:.4%} in "
                                f"{facts.labels[t]}, a shift of {abs(shift):.4%}, above the "
                                f"migration limit's max_shift {rule.max_shift:g}",
                            )
                        )
    return out
