"""The greedy baseline's book of capacity left and what it placed, and the masks and prices every
greedy placement starts from (shared by services and training jobs; docs in
:mod:`archipel.plan.greedy`)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.plan.inputs import PlanInputs
from archipel.spec.models import (
    CapacityLimit,
    CloudActExclusionRule,
    ExclusivityRule,
    ResidencyRule,
)

F = NDArray[np.float64]
B = NDArray[np.bool_]
EPS = 1e-9


@dataclass
class Book:
    """Capacity left, and what has been placed so far (local to one ``plan_greedy`` call)."""

    cap: F  # [O, T] nodes left
    limits: list[tuple[B, F]]  # per provider limit: offerings it covers, accelerators left [T]
    nodes: dict[tuple[str, str, int, int], float]  # (kind, workload, offering, period)
    flows: dict[tuple[str, str, str, str, int], float]  # (service, class, geography, region, t)

    def copy(self) -> Book:
        return Book(
            self.cap.copy(),
            [(m, left.copy()) for m, left in self.limits],
            dict(self.nodes),
            dict(self.flows),
        )

    def room(self, o: int, t: int, apn: float, step: float = 1.0) -> float:
        """Whole steps of nodes (``step`` nodes each) still free on offering o in period t."""
        n = float(self.cap[o, t])
        for m, left in self.limits:
            if m[o]:
                n = min(n, float(left[t]) / apn)
        return max(0.0, float(np.floor(n / step + 1e-9)) * step)

    def take(self, o: int, t: int, want: float, apn: float, step: float = 1.0) -> float:
        """Take up to ``want`` nodes of offering o in period t, rounded up to whole steps of
        ``step`` nodes where room allows; returns what was taken."""
        want = np.ceil(want / step - 1e-9) * step
        n = max(0.0, min(want, self.room(o, t, apn, step)))
        self.cap[o, t] -= n
        for m, left in self.limits:
            if m[o]:
                left[t] -= n * apn
        return n


def base_mask(inputs: PlanInputs, data_class: str | None, model: str | None) -> B:
    """[O, T]: residency, CLOUD Act and exclusivity allow the cell."""
    cat, offs, spec = inputs.catalog, inputs.offerings, inputs.spec
    ok = np.ones((len(offs), len(inputs.periods)), dtype=bool)
    for rule in spec.rules:
        if (
            isinstance(rule, ResidencyRule)
            and data_class is not None
            and rule.data_class == data_class
        ):
            for i, o in enumerate(offs):
                reg = cat.region(o.region_id) if cat.has_region(o.region_id) else None
                if reg is None or not (
                    set(reg.jurisdictions) & set(rule.jurisdictions)
                    or reg.country in rule.countries
                ):
                    ok[i] = False
        if isinstance(rule, CloudActExclusionRule) and data_class in rule.data_classes:
            ok &= np.array([not inputs.cloud_act.get(o.provider, True) for o in offs])[:, None]
        if isinstance(rule, ExclusivityRule) and model is not None and rule.model == model:
            until = dt.datetime.combine(rule.until, dt.time())
            early = np.array([p.start < until for p in inputs.periods])
            inside = np.array([o.provider in rule.providers for o in offs])
            ok &= inside[:, None] | ~early[None, :]
    return ok


def effective_price(inputs: PlanInputs) -> F:
    """[O, T] price after the largest base discount of a contract covering the offering for the
    whole period (an estimate to rank offerings; the plan's books settle the real discounts)."""
    from archipel.plan.contract_terms import scope_masks

    offs = inputs.offerings
    price = np.array([o.price_usd_per_node_hour for o in offs])[:, None]
    disc = np.zeros((len(offs), len(inputs.periods)))
    off_ok, _ = scope_masks(inputs)
    for ci, c in enumerate(inputs.spec.contracts):
        d = c.tiers()[0][1]
        whole = np.array(
            [c.start <= p.start.date() and p.end.date() <= c.end for p in inputs.periods]
        )
        cell = off_ok[ci][:, None] & whole[None, :]
        disc = np.where(cell, np.maximum(disc, d), disc)
    return np.asarray(price * (1 - disc), dtype=float)


def limits(inputs: PlanInputs) -> Iterable[tuple[B, F]]:
    """Per provider capacity limit: the offerings it covers and the accelerators it leaves per
    period (docs/semantics.md, Capacity over time: none in a period not wholly inside its
    window, else the smallest value in force during the period; inf: no limit)."""
    for ps in inputs.spec.providers:
        for lim in ps.capacity:
            acc = (
                inputs.accelerator_name(lim.accelerator) or lim.accelerator
                if lim.accelerator
                else None
            )
            m = np.array(
                [
                    o.provider == ps.id
                    and (lim.region is None or o.region_id == lim.region)
                    and (acc is None or o.accelerator == acc)
                    and (lim.instance_type is None or o.instance_type == lim.instance_type)
                    for o in inputs.offerings
                ]
            )
            yield m, np.array([_allowed(lim, p.start, p.end) for p in inputs.periods])


def _allowed(lim: CapacityLimit, start: dt.datetime, end: dt.datetime) -> float:
    """Accelerators a limit allows throughout ``[start, end)``."""
    since = dt.datetime.combine(lim.available_from or dt.date.min, dt.time())
    until = dt.datetime.combine(lim.until or dt.date.max, dt.time())
    if start < since or end > until:
        return 0.0
    lowest = math.inf if lim.max_accelerators is None else lim.max_accelerators
    for step in lim.steps:
        at = dt.datetime.combine(step.start, dt.time())
        if at <= start:
            lowest = step.max_accelerators  # in force when the period starts
        elif at < end:
            lowest = min(lowest, step.max_accelerators)  # takes over during the period
    return lowest
