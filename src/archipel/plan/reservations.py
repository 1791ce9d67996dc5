"""Reservation options as offerings: what the planner may buy, resolved against the offerings.

For each option of the spec's ``reservations:`` (:mod:`archipel.spec.reservations`) and each
on-demand offering it matches (its provider; its regions, instance types and accelerators when
given), :func:`derive` makes one **derived offering**: the same node with purchase option
``reserved``, price 0 per use and no fixed capacity — its capacity in a period is whatever is
bought and still active then, a decision of the planner (:mod:`archipel.plan.lp.reservations`).
Workloads use it like any reserved offering, within their masks.

It also says, per derived offering, the on-demand price the purchase is priced from and the
discount (the option's ``discount_pct``, else the level documented in
:mod:`archipel.catalog.commitments`, flagged ``discount-assumed`` when that level is an "up to"
one). Purchases start at period starts; :func:`term_end` says when a term that starts at an
instant ends.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.commitments import CommitmentLevel
from archipel.catalog.flags import FLAG_DISCOUNT_ASSUMED
from archipel.catalog.model import Offering, PurchaseOption
from archipel.errors import Issue, SpecError
from archipel.perf.accelerators import canonical_name
from archipel.spec.models import Spec
from archipel.spec.reservations import ReservationOption, resolve_discount


def _empty_int() -> NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


def _empty_float() -> NDArray[np.float64]:
    return np.zeros(0)


@dataclass(frozen=True)
class Reservable:
    """The derived offerings: one per (option, matching on-demand offering)."""

    offering: NDArray[np.int64] = field(default_factory=_empty_int)  # in inputs.offerings
    option: NDArray[np.int64] = field(default_factory=_empty_int)  # in spec.reservations
    base: NDArray[np.int64] = field(default_factory=_empty_int)  # the on-demand offering
    price: NDArray[np.float64] = field(default_factory=_empty_float)  # on-demand USD/node-hour
    discount: NDArray[np.float64] = field(default_factory=_empty_float)  # fraction off
    levels: tuple[CommitmentLevel | None, ...] = ()  # per option: the level used, None: spec's

    @property
    def size(self) -> int:
        return int(self.offering.size)


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``months`` calendar months after ``when``: the same day (the month's last day when it
    is shorter) and time."""
    m = when.month - 1 + months
    year, month = when.year + m // 12, m % 12 + 1
    return when.replace(
        year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1])
    )


def term_end(option: ReservationOption, start: dt.datetime) -> dt.datetime:
    """When a term of ``option`` bought at ``start`` ends (exclusive)."""
    months = option.months
    if months is not None:
        return add_months(start, months)
    assert option.term_days is not None  # the model gives exactly one term
    return start + dt.timedelta(days=option.term_days)


def _matches(option: ReservationOption, o: Offering) -> bool:
    accels = (
        {canonical_name(a) or a for a in option.accelerators}
        if option.accelerators is not None
        else None
    )
    return (
        o.purchase_option == PurchaseOption.ON_DEMAND
        and o.provider == option.provider
        and (option.regions is None or o.region_id in option.regions)
        and (option.instance_types is None or o.instance_type in option.instance_types)
        and (accels is None or o.accelerator in accels)
    )


def derive(
    spec: Spec, offerings: Sequence[Offering], first: int
) -> tuple[list[Offering], list[str], Reservable]:
    """Derived offerings, their keys, and the table of what they are; ``first`` is the index
    the first derived offering takes among the inputs' offerings. Raises :class:`SpecError`
    for an option that matches no on-demand offering or has no discount to use."""
    out: list[Offering] = []
    keys: list[str] = []
    option, base, price, discount = [], [], [], []
    chosen: list[CommitmentLevel | None] = []
    issues: list[Issue] = []
    for i, r in enumerate(spec.reservations):
        where = f"reservations[{i}]"
        try:
            pct, level = resolve_discount(r, spec.catalog.exclude_assumed)
        except ValueError as exc:
            issues.append(Issue("<spec>", 0, 0, where, str(exc)))
            chosen.append(None)
            continue
        chosen.append(level)
        flag = (FLAG_DISCOUNT_ASSUMED,) if level is not None and level.assumed else ()
        matched = [k for k, o in enumerate(offerings) if _matches(r, o)]
        if not matched:
            issues.append(
                Issue(
                    "<spec>",
                    0,
                    0,
                    where,
                    f"option {r.id!r} matches no on-demand offering of {r.provider} the spec's "
                    "catalog selection keeps",
                    "check its regions, instance_types and accelerators, and catalog.providers, "
                    "catalog.accelerators and catalog.purchase_options (on_demand)",
                )
            )
        for k in matched:
            o = offerings[k]
            out.append(
                replace(
                    o,
                    purchase_option=PurchaseOption.RESERVED,
                    price_usd_per_node_hour=0.0,
                    max_nodes=None,
                    flags=tuple(dict.fromkeys(o.flags + flag)),
                )
            )
            keys.append(f"{o.provider}:{o.region}:{o.instance_type}:reserved~{r.id}")
            option.append(i)
            base.append(k)
            price.append(o.price_usd_per_node_hour)
            discount.append(pct / 100.0)
    if issues:
        raise SpecError(issues)
    table = Reservable(
        offering=np.arange(first, first + len(out), dtype=np.int64),
        option=np.array(option, dtype=np.int64),
        base=np.array(base, dtype=np.int64),
        price=np.array(price, dtype=float),
        discount=np.array(discount, dtype=float),
        levels=tuple(chosen),
    )
    return out, keys, table
