"""The verifier's check of reservation purchases: economics, windows, capacity, from scratch.

For every purchase a plan states (``plan.reservations``) the verifier re-derives, with its own
code, from the spec's option, the on-demand offering the purchase is priced from and the plan's
allocations (docs/semantics.md, "Reservations (decisions)"):

- that the option exists and the offering is one it may buy, in the option's provider, regions,
  instance types and accelerators;
- that the purchase starts at a period start inside the option's buy window, in whole nodes in a
  whole-node plan, with nodes ≥ 0;
- its term end (months keep the day of the month, clamped to the month's end; days are 24 h),
  rate = on-demand price × (1 − discount), and every figure: term hours, total, upfront,
  in-horizon, recurring in horizon, beyond the horizon, node-hours bought and used, utilisation;
- per derived offering and period: nodes used ≤ Σ purchases' nodes × hours of the period inside
  their term / period hours (``reservation-capacity``);
- per option with ``max_nodes`` and period: nodes of purchases whose term overlaps the period
  ≤ max_nodes (``reservation-limit``);
- per on-demand offering with a capacity: its nodes plus the nodes on the offerings derived
  from it ≤ its capacity (``offering-capacity``; the offering alone is checked by
  :func:`archipel.plan.verify_rules.check_offering_capacity`).

It returns the purchases' cost per (offering, period) — nodes × in-period term hours × rate — for
the cost recomputation (:func:`archipel.plan.verify_costs.recompute_costs`). From the inputs it
takes only which option each derived offering belongs to, and checks that offering against the
option itself; prices come from the on-demand offerings, discounts from the spec (its
``discount_pct`` or the documented level, :func:`archipel.spec.reservations.resolve_discount`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archipel.catalog.model import Offering, PurchaseOption
from archipel.perf.accelerators import canonical_name
from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.verify_facts import Cells, Facts, Float
from archipel.plan.verify_rules import ABS, Problem, close, exceeds
from archipel.spec.reservations import ReservationOption, resolve_discount

_H = dt.timedelta(hours=1)


@dataclass(frozen=True)
class _Bought:
    """A purchase the verifier accepted, as it recomputes it."""

    option: int
    offering: int
    start: dt.datetime
    end: dt.datetime
    nodes: float
    rate: float


def _end(option: ReservationOption, start: dt.datetime) -> dt.datetime:
    months = (
        12 * option.term_years if option.term_years is not None else option.term_months
    )  # one term is given (the spec model checks it)
    if months is None:
        return start + dt.timedelta(days=option.term_days or 0)
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def _overlap(a0: dt.datetime, a1: dt.datetime, b0: dt.datetime, b1: dt.datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)) / _H)


def check_reservations(
    facts: Facts, cells: Cells, bought: Sequence[ReservationPurchase], whole: bool
) -> tuple[list[Problem], Float]:
    """Problems and stale figures of the plan's purchases, and their cost per (offering,
    period) as recomputed here (see the module docstring)."""
    inputs = facts.inputs
    spec, pers = inputs.spec, inputs.periods
    n_o, n_t = len(inputs.offerings), len(pers)
    spend = np.zeros((n_o, n_t))
    out: list[Problem] = []
    index = inputs.offering_index()
    option_of = dict(
        zip(inputs.reservable.offering.tolist(), inputs.reservable.option.tolist(), strict=True)
    )
    ids = {r.id: i for i, r in enumerate(spec.reservations)}
    kept: list[_Bought] = []
    stated: list[tuple[ReservationPurchase, ReservationOption, float, bool]] = []
    for p in bought:
        where = f"reservation {p.option} on {p.offering_id}, from {p.start_period_label}"
        i, o = ids.get(p.option), index.get(p.offering_id)
        if i is None or o is None or option_of.get(o) != i:
            out.append(
                (
                    "reservation-offering",
                    f"{where}: no reservation option {p.option!r} of the spec may buy that offering",
                )
            )
            continue
        option = spec.reservations[i]
        base = _base_price(facts, o)
        if base is None or not _in_scope(option, inputs.offerings[o]):
            out.append(("reservation-offering", f"{where}: the offering is outside the option"))
            continue
        if not 0 <= p.start_period < n_t:
            out.append(("reservation-window", f"{where}: start period {p.start_period} is outside"))
            continue
        start = pers[p.start_period].start
        lo = dt.datetime.combine(option.buy_from, dt.time()) if option.buy_from else None
        hi = dt.datetime.combine(option.buy_until, dt.time()) if option.buy_until else None
        if (lo is not None and start < lo) or (hi is not None and start >= hi):
            out.append(
                (
                    "reservation-window",
                    f"{where}: bought at {start:%Y-%m-%d %H:%M}, outside the buy window "
                    f"[{option.buy_from or 'start'}, {option.buy_until or 'end'})",
                )
            )
        if p.nodes < -ABS:
            out.append(("reservation-nodes", f"{where}: {p.nodes:g} nodes is negative"))
        if whole and abs(p.nodes - round(p.nodes)) > 1e-6:
            out.append(("whole-nodes", f"{where}: {p.nodes:g} nodes bought is not whole"))
        pct, level = resolve_discount(option, spec.catalog.exclude_assumed)
        b = _Bought(i, o, start, _end(option, start), p.nodes, base * (1.0 - pct / 100.0))
        kept.append(b)
        stated.append((p, option, pct, level is not None and level.assumed))
        for t, per in enumerate(pers):
            spend[o, t] += b.nodes * _overlap(b.start, b.end, per.start, per.end) * b.rate
    held = _held(facts, kept)
    used = _used_node_hours(facts, cells)
    for b, (p, option, pct, assumed) in zip(kept, stated, strict=True):
        use = _attributed_use(facts, b, held, used[b.offering])
        out += _figures(facts, p, b, option, pct, assumed, use)
    out += _capacity(facts, cells, held, set(option_of)) + _limits(facts, kept)
    out += _shared_capacity(facts, cells, set(option_of))
    return out, spend


def _base(facts: Facts, o: int) -> int | None:
    """The on-demand offering a derived offering stands for, found by its provider, region and
    instance type among the inputs' on-demand offerings."""
    d = facts.inputs.offerings[o]
    want = (d.provider, d.region, d.instance_type)
    for k, x in enumerate(facts.inputs.offerings):
        if x.purchase_option == PurchaseOption.ON_DEMAND and (
            (x.provider, x.region, x.instance_type) == want
        ):
            return k
    return None


def _base_price(facts: Facts, o: int) -> float | None:
    """The on-demand price of the node a derived offering stands for."""
    k = _base(facts, o)
    return None if k is None else facts.inputs.offerings[k].price_usd_per_node_hour


def _shared_capacity(facts: Facts, cells: Cells, derived: set[int]) -> list[Problem]:
    """Nodes on an on-demand offering and on the offerings derived from it ≤ its capacity."""
    inputs = facts.inputs
    used = np.zeros((len(inputs.offerings), len(facts.hours)))
    np.add.at(used, (cells.offering, cells.period), cells.nodes)
    total = used.copy()
    for o in derived:
        k = _base(facts, o)
        if k is not None:
            total[k] += used[o]
    cap = inputs.capacity_nodes
    out: list[Problem] = []
    for k, t in zip(*np.nonzero(np.isfinite(cap) & (total > used)), strict=True):
        if exceeds(float(total[k, t]), float(cap[k, t])) and not exceeds(
            float(used[k, t]), float(cap[k, t])
        ):
            out.append(
                (
                    "offering-capacity",
                    f"offering {inputs.keys[k]}, period {facts.labels[t]}: {total[k, t]:.6g} "
                    f"nodes on demand and reserved, capacity {cap[k, t]:.6g}",
                )
            )
    return out


def _in_scope(option: ReservationOption, o: Offering) -> bool:
    accels = {canonical_name(a) or a for a in option.accelerators or ()}
    return (
        o.provider == option.provider
        and o.purchase_option == PurchaseOption.RESERVED
        and (option.regions is None or o.region_id in option.regions)
        and (option.instance_types is None or o.instance_type in option.instance_types)
        and (option.accelerators is None or o.accelerator in accels)
    )


def _used_node_hours(facts: Facts, cells: Cells) -> Float:
    """[O, T] node-hours the allocations use (active hours: window overlap for training)."""
    used = np.zeros((len(facts.inputs.offerings), len(facts.hours)))
    np.add.at(used, (cells.offering, cells.period), cells.nodes * cells.active_hours(facts))
    return used


def _figures(
    facts: Facts,
    p: ReservationPurchase,
    b: _Bought,
    option: ReservationOption,
    pct: float,
    assumed: bool,
    used: float,
) -> list[Problem]:
    """Every stated figure of one purchase against the recomputation (stale when different)."""
    pers = facts.inputs.periods
    h0, h1 = pers[0].start, pers[-1].end
    term_h = (b.end - b.start) / _H
    inside_h = _overlap(b.start, b.end, h0, h1)
    total = b.nodes * term_h * b.rate
    inside = b.nodes * inside_h * b.rate
    up = option.upfront_share
    off = facts.inputs.offerings[b.offering]
    want: dict[str, float | str | bool] = {
        "kind": option.kind,
        "provider": off.provider,
        "region": off.region_id,
        "instance_type": off.instance_type,
        "accelerator": off.accelerator,
        "start_period_label": facts.labels[p.start_period],
        "start": b.start.isoformat(),
        "end": b.end.isoformat(),
        "discount_assumed": assumed,
    }
    got: dict[str, float | str | bool] = {
        k: (getattr(p, k).isoformat() if k in ("start", "end") else getattr(p, k)) for k in want
    }
    where = f"reservation {p.option} on {p.offering_id}, from {p.start_period_label}"
    out: list[Problem] = [
        ("reservation-fields", f"{where}: {k} is {got[k]!r}, the recomputation says {v!r}")
        for k, v in want.items()
        if got[k] != v
    ]
    figures = {
        "term_hours": term_h,
        "discount_pct": pct,
        "usd_per_node_hour": b.rate,
        "upfront_pct": 100.0 * up,
        "total_usd": total,
        "upfront_usd": up * total,
        "in_horizon_usd": inside,
        "recurring_in_horizon_usd": (1.0 - up) * inside,
        "beyond_horizon_usd": total - inside,
        "bought_node_hours": b.nodes * inside_h,
        "used_node_hours": used,
        "utilisation": used / (b.nodes * inside_h) if b.nodes * inside_h > 0 else 0.0,
    }
    out += [
        ("reservation-figures", f"{where}: {k} is {getattr(p, k):.6g}, expected {v:.6g}")
        for k, v in figures.items()
        if not close(float(getattr(p, k)), v)
    ]
    return out


def _attributed_use(
    facts: Facts, b: _Bought, held: dict[tuple[int, int], float], used: Float
) -> float:
    """Node-hours of the offering's use (``used`` per period) attributed to purchase ``b``:
    per period, the use times b's share of the node-hours held of the offering then."""
    total = 0.0
    for t, per in enumerate(facts.inputs.periods):
        mine = b.nodes * _overlap(b.start, b.end, per.start, per.end)
        all_held = held.get((b.offering, t), 0.0)
        if mine > 0 and all_held > 0:
            total += used[t] * mine / all_held
    return total


def _capacity(
    facts: Facts, cells: Cells, held: dict[tuple[int, int], float], derived: set[int]
) -> list[Problem]:
    """Nodes used on each derived offering per period ≤ nodes bought and active then."""
    used = np.zeros((len(facts.inputs.offerings), len(facts.hours)))
    np.add.at(used, (cells.offering, cells.period), cells.nodes)
    out: list[Problem] = []
    for o, t in zip(*np.nonzero(used > ABS), strict=True):
        if int(o) not in derived:
            continue
        active = held.get((int(o), int(t)), 0.0) / facts.hours[t]
        if exceeds(float(used[o, t]), active):
            out.append(
                (
                    "reservation-capacity",
                    f"offering {facts.inputs.keys[o]}, period {facts.labels[t]}: "
                    f"{used[o, t]:.6g} nodes used, {active:.6g} bought and active",
                )
            )
    return out


def _held(facts: Facts, kept: list[_Bought]) -> dict[tuple[int, int], float]:
    held: dict[tuple[int, int], float] = {}
    for b in kept:
        for t, per in enumerate(facts.inputs.periods):
            h = _overlap(b.start, b.end, per.start, per.end)
            if h > 0:
                held[b.offering, t] = held.get((b.offering, t), 0.0) + b.nodes * h
    return held


def _limits(facts: Facts, kept: list[_Bought]) -> list[Problem]:
    """Nodes of an option whose term overlaps a period ≤ the option's max_nodes."""
    spec = facts.inputs.spec
    out: list[Problem] = []
    for i, option in enumerate(spec.reservations):
        if option.max_nodes is None:
            continue
        for t, per in enumerate(facts.inputs.periods):
            n = sum(
                b.nodes
                for b in kept
                if b.option == i and _overlap(b.start, b.end, per.start, per.end) > 0
            )
            if exceeds(n, float(option.max_nodes)):
                out.append(
                    (
                        "reservation-limit",
                        f"reservation option {option.id}, period {facts.labels[t]}: {n:.6g} "
                        f"nodes held, max_nodes {option.max_nodes}",
                    )
                )
    return out
