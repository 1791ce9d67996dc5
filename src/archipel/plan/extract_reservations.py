"""Read the reservations a solution buys back into the plan (see :mod:`archipel.plan.extract`).

Each purchase column with nodes becomes a :class:`ReservationPurchase` with its figures
(:mod:`archipel.plan.reservation_result`); :func:`add_purchase_spend` adds what purchases cost to
the plan's totals by period, provider, purchase option and contract year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.build import Built
from archipel.plan.lp.reservations import purchase_spend
from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Allocation, ContractShare

TOL = 1e-9


def reservations_bought(
    built: Built,
    x: NDArray[np.float64],
    allocs: Sequence[Allocation],
    shares: Mapping[int, list[ContractShare]] | None = None,
) -> list[ReservationPurchase]:
    """The purchases of the solution ``x``, with cost, cash and utilisation figures, and the
    spend of each counted toward contract years (``shares`` per purchase column)."""
    prob, bought = built.problem, built.purchases
    inputs = prob.inputs
    res, spec = inputs.reservable, inputs.spec
    T = prob.num_periods
    nodes = x[bought.cols.start : bought.cols.stop]
    if not (nodes > TOL).any():
        return []
    # node-hours bought per column and covered period, and per (offering, period)
    e_nh = nodes[bought.cover_b] * bought.cover_h
    key = bought.o[bought.cover_b] * T + bought.cover_t
    held = np.bincount(key, weights=e_nh, minlength=prob.num_offerings * T)
    index = inputs.offering_index()
    used = np.zeros(prob.num_offerings * T)
    for a in allocs:
        used[index[a.offering_id] * T + a.period] += a.nodes * a.hours
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(held[key] > 0, e_nh / held[key], 0.0)
    used_b = np.bincount(bought.cover_b, weights=used[key] * share, minlength=bought.size)
    held_b = np.bincount(bought.cover_b, weights=e_nh, minlength=bought.size)
    in_h = np.bincount(bought.cover_b, weights=bought.cover_h, minlength=bought.size)
    out = []
    for c in np.flatnonzero(nodes > TOL):
        r, o, s = int(bought.r[c]), int(bought.o[c]), int(bought.s[c])
        option = spec.reservations[int(res.option[r])]
        level = res.levels[int(res.option[r])]
        off = inputs.offerings[o]
        n, rate = float(nodes[c]), float(bought.rate[c])
        total = n * float(bought.term_hours[c]) * rate
        inside = n * float(in_h[c]) * rate
        up = option.upfront_share
        out.append(
            ReservationPurchase(
                option=option.id,
                kind=option.kind,
                offering_id=inputs.keys[o],
                provider=off.provider,
                region=off.region_id,
                instance_type=off.instance_type,
                accelerator=off.accelerator,
                start_period=s,
                start_period_label=inputs.periods[s].label,
                start=bought.start[c],
                end=bought.end[c],
                term_hours=float(bought.term_hours[c]),
                nodes=n,
                discount_pct=100.0 * float(res.discount[r]),
                discount_source="spec" if level is None else level.url,
                discount_assumed=level is not None and level.assumed,
                usd_per_node_hour=rate,
                upfront_pct=100.0 * up,
                total_usd=total,
                upfront_usd=up * total,
                in_horizon_usd=inside,
                recurring_in_horizon_usd=(1.0 - up) * inside,
                beyond_horizon_usd=total - inside,
                bought_node_hours=float(held_b[c]),
                used_node_hours=float(used_b[c]),
                utilisation=float(used_b[c] / held_b[c]) if held_b[c] > 0 else 0.0,
                contract_spend=list((shares or {}).get(int(c), [])),
            )
        )
    return out


def add_purchase_spend(
    built: Built,
    x: NDArray[np.float64],
    by_period: NDArray[np.float64],
    by_provider: dict[str, float],
    by_option: dict[str, float],
) -> None:
    """Add the purchases' in-horizon cost to the totals (in place): per period, per provider,
    under purchase option ``reserved`` (their contract spend is settled with the books)."""
    prob = built.problem
    usd = purchase_spend(prob, built.purchases, x)
    if not usd.any():
        return
    by_period += usd.sum(axis=0)
    offs = prob.inputs.offerings
    for o, t in zip(*np.nonzero(usd), strict=True):
        v = float(usd[o, t])
        by_provider[offs[o].provider] = by_provider.get(offs[o].provider, 0.0) + v
        by_option["reserved"] = by_option.get("reserved", 0.0) + v
