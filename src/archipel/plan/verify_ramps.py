"""The verifier's checks of capacity over time.

Recomputed from the spec and the plan's allocations alone (docs/semantics.md, "Capacity over
time"), with no code of the LP build:

- a provider capacity limit covers the provider's offerings (of its region, accelerator by any
  alias, instance type when given); a period is inside its window only when it lies wholly
  inside ``[available_from, until)`` and no covered node may be allocated outside; inside, the
  period's limit is the smallest value in force at any instant of it.

Each check returns problems ``(kind, message)``; the tolerance is relative 1e-6 plus absolute
1e-6 accelerators.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from archipel.plan.verify_facts import Bool, Cells, Facts
from archipel.spec.models import CapacityLimit
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
