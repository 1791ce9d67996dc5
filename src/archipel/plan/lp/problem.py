"""The planning problem as arrays: offerings, regions, periods, prices and masks.

Everything here is data derived from :class:`PlanInputs`; the LP families index into it. Masks
follow docs/semantics.md: a cell that a rule forbids is never created.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.plan.inputs import PlanInputs
from archipel.plan.lp.windows import limit_schedule
from archipel.spec.models import (
    CapacityLimit,
    CloudActExclusionRule,
    ExclusivityRule,
    ResidencyRule,
)
from archipel.spec.periods import overlap_hours

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Problem:
    inputs: PlanInputs
    hours: FloatArray  # [T]
    period_year: IntArray  # [T] calendar year of each period's start
    providers: tuple[str, ...]
    regions: tuple[str, ...]  # region ids present in offerings
    off_provider: IntArray  # [O] index into providers
    off_region: IntArray  # [O] index into regions
    off_acc_per_node: FloatArray  # [O]
    off_price: FloatArray  # [O] USD per node-hour
    off_option: tuple[PurchaseOption, ...]
    off_accelerator: tuple[str, ...]
    off_spot: BoolArray  # [O] spot: uncertain capacity
    off_availability: FloatArray  # [O] expected share of time a node is up (1 unless spot)
    off_fabric: BoolArray  # [O] the instance type has a scale-out fabric between nodes
    region_lat: FloatArray
    region_lon: FloatArray

    @property
    def num_offerings(self) -> int:
        return int(self.off_price.shape[0])

    @property
    def num_periods(self) -> int:
        return int(self.hours.shape[0])


def build_problem(inputs: PlanInputs) -> Problem:
    offs = inputs.offerings
    providers = tuple(sorted({o.provider for o in offs}))
    regions = tuple(sorted({o.region_id for o in offs}))
    p_index = {p: i for i, p in enumerate(providers)}
    r_index = {r: i for i, r in enumerate(regions)}
    region_objs = [inputs.catalog.region(r) for r in regions]
    return Problem(
        inputs=inputs,
        hours=inputs.period_hours,
        period_year=np.array([p.year for p in inputs.periods], dtype=np.int64),
        providers=providers,
        regions=regions,
        off_provider=np.array([p_index[o.provider] for o in offs], dtype=np.int64),
        off_region=np.array([r_index[o.region_id] for o in offs], dtype=np.int64),
        off_acc_per_node=np.array([o.accelerators_per_node for o in offs], dtype=float),
        off_price=np.array([o.price_usd_per_node_hour for o in offs], dtype=float).reshape(-1),
        off_option=tuple(o.purchase_option for o in offs),
        off_accelerator=tuple(o.accelerator for o in offs),
        off_spot=np.array([o.purchase_option == PurchaseOption.SPOT for o in offs], dtype=bool),
        off_availability=np.array([o.availability for o in offs], dtype=float).reshape(-1),
        off_fabric=np.array([bool(o.fabric) for o in offs], dtype=bool),
        region_lat=np.array([r.lat for r in region_objs], dtype=float),
        region_lon=np.array([r.lon for r in region_objs], dtype=float),
    )


def workload_mask(
    prob: Problem,
    data_class: str | None,
    model: str | None,
    options: set[PurchaseOption],
) -> BoolArray:
    """[O, T]: offerings a workload may use in each period (purchase option, rules, capacity
    windows)."""
    inputs = prob.inputs
    catalog = inputs.catalog
    options = options | {PurchaseOption.OWNED}  # the spec's own capacity is always allowed
    ok_o = np.array([opt in options for opt in prob.off_option], dtype=bool)
    region_objs = [catalog.region(r) for r in prob.regions]
    for rule in inputs.spec.rules:
        if (
            isinstance(rule, ResidencyRule)
            and data_class is not None
            and rule.data_class == data_class
        ):
            allowed_r = np.array(
                [
                    bool(set(r.jurisdictions) & set(rule.jurisdictions))
                    or r.country in rule.countries
                    for r in region_objs
                ],
                dtype=bool,
            )
            ok_o &= allowed_r[prob.off_region]
        elif isinstance(rule, CloudActExclusionRule) and data_class in rule.data_classes:
            exposed = np.array([inputs.cloud_act.get(p, False) for p in prob.providers], dtype=bool)
            ok_o &= ~exposed[prob.off_provider]
    mask = np.repeat(ok_o[:, None], prob.num_periods, axis=1)
    for rule in inputs.spec.rules:
        if isinstance(rule, ExclusivityRule) and model is not None and rule.model == model:
            allowed_p = np.array([p in rule.providers for p in prob.providers], dtype=bool)
            before = np.array([p.start.date() < rule.until for p in inputs.periods], dtype=bool)
            mask &= ~(before[None, :] & ~allowed_p[prob.off_provider][:, None])
    return mask & available(prob)


def limits(prob: Problem) -> list[tuple[str, CapacityLimit, BoolArray]]:
    """Each provider capacity limit of the spec with the offerings it covers (its accelerator
    by any alias): (entity label, limit, [O] mask)."""
    out = []
    for ps in prob.inputs.spec.providers:
        for lim in ps.capacity:
            want = (
                prob.inputs.accelerator_name(lim.accelerator) or lim.accelerator
                if lim.accelerator is not None
                else None
            )
            covered = np.array(
                [
                    o.provider == ps.id
                    and (lim.region is None or o.region_id == lim.region)
                    and (want is None or o.accelerator == want)
                    and (lim.instance_type is None or o.instance_type == lim.instance_type)
                    for o in prob.inputs.offerings
                ],
                dtype=bool,
            )
            scope = f"{ps.id}/{lim.region or '*'}/{lim.accelerator or '*'}"
            out.append(
                (scope + (f"/{lim.instance_type}" if lim.instance_type else ""), lim, covered)
            )
    return out


def available(prob: Problem) -> BoolArray:
    """[O, T]: cells inside the window of every capacity limit covering the offering (a period
    lies wholly inside ``[available_from, until)``; docs/semantics.md, Capacity over time)."""
    ok = np.ones((prob.num_offerings, prob.num_periods), dtype=bool)
    for _, lim, covered in limits(prob):
        if lim.available_from is not None or lim.until is not None:
            inside, _ = limit_schedule(prob.inputs.periods, lim)
            ok &= ~covered[:, None] | inside[None, :]
    return ok


def rtt_matrix(prob: Problem, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """[G, R] estimated round trip in ms from each geography to each region."""
    d = haversine_km(lat[:, None], lon[:, None], prob.region_lat[None, :], prob.region_lon[None, :])
    return rtt_ms(d)


def window_hours(prob: Problem, start: dt.date, end: dt.date) -> FloatArray:
    """[T] hours of each period inside ``[start, end)``."""
    return np.array([overlap_hours(p, start, end) for p in prob.inputs.periods], dtype=float)
