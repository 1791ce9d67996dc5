"""Cost recomputation for the verifier: allocation costs, contract years, totals.

Allocation cost = nodes × active hours × price × (1 − discount); the contract with the largest
discount covering (offering, period start) receives the spend; reserved blocks cost their fixed
cost, counted in their contract's spend (docs/semantics.md, "Cost").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from archipel.plan.result import ContractYear
from archipel.plan.verify_facts import Cells, Facts, Float

_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Costs:
    """Costs recomputed from the plan's allocations (see ``recompute_costs``)."""

    allocation_usd: Float  # [A] one per cell
    spend_by_provider_usd: dict[str, float]  # allocations + reserved fixed, no shortfall
    cost_by_provider_usd: dict[str, float]  # spend + billed shortfall
    cost_by_period_usd: Float  # [T] allocations + reserved fixed
    cost_by_purchase_option_usd: dict[str, float]  # reserved fixed counted under "reserved"
    reserved_fixed_usd: float
    shortfall_usd: float  # billed (take-or-pay) shortfall
    objective_usd: float
    contracts: tuple[ContractYear, ...]


def committed_by_year(facts: Facts, contract_index: int) -> dict[int, float]:
    """committed_usd_per_year × hours(y ∩ contract ∩ horizon) / hours(y), per calendar year."""
    pers = facts.inputs.periods
    c = facts.inputs.spec.contracts[contract_index]
    if not pers:
        return {}
    a = max(dt.datetime.combine(c.start, dt.time()), pers[0].start)
    b = min(dt.datetime.combine(c.end, dt.time()), pers[-1].end)
    out: dict[int, float] = {}
    for y in range(a.year, b.year + 1):
        ys, ye = dt.datetime(y, 1, 1), dt.datetime(y + 1, 1, 1)
        inside = (min(b, ye) - max(a, ys)) / _HOUR
        if inside > 0:
            out[y] = c.committed_usd_per_year * inside / ((ye - ys) / _HOUR)
    return out


def recompute_costs(facts: Facts, cells: Cells, bought: Float | None = None) -> Costs:
    """Every cost figure of a plan, from its allocations' nodes and the facts alone, plus
    ``bought``: [O, T] USD of reservations bought (recomputed by ``verify_reservations``), which
    count like allocations of purchase option ``reserved``, toward the contracts covering them."""
    inputs = facts.inputs
    o, t = cells.offering, cells.period
    cost = cells.nodes * cells.active_hours(facts) * facts.price[o] * (1.0 - facts.discount[o, t])
    fixed = inputs.reserved_fixed_usd
    years = np.array([p.year for p in inputs.periods], dtype=np.int64)
    opts = [str(x.purchase_option) for x in inputs.offerings]

    by_period = np.bincount(t, weights=cost, minlength=len(facts.hours)) + fixed.sum(axis=0)
    spend: dict[str, float] = defaultdict(float)
    by_option: dict[str, float] = defaultdict(float)
    for ai, oi in enumerate(o.tolist()):
        spend[facts.provider_of[oi]] += float(cost[ai])
        by_option[opts[oi]] += float(cost[ai])
    bought = np.zeros(inputs.reserved_fixed_usd.shape) if bought is None else bought
    bought_o, bought_t = np.nonzero(bought)
    for bo, bt in zip(bought_o, bought_t, strict=True):  # reservations bought
        by_period[bt] += bought[bo, bt]
        spend[facts.provider_of[bo]] += float(bought[bo, bt])
        by_option["reserved"] += float(bought[bo, bt])
    for fo in np.flatnonzero(fixed.sum(axis=1) > 0):
        spend[facts.provider_of[fo]] += float(fixed[fo].sum())
        by_option["reserved"] += float(fixed[fo].sum())

    contract_ids = {c.id: i for i, c in reversed(list(enumerate(inputs.spec.contracts)))}
    spent: dict[tuple[int, int], float] = defaultdict(float)
    reserved_spent: dict[tuple[int, int], float] = defaultdict(float)
    who = facts.contract_of[o, t]
    for c_ in np.flatnonzero(who >= 0):
        spent[int(who[c_]), int(years[t[c_]])] += float(cost[c_])
    for bo, bt in zip(bought_o, bought_t, strict=True):
        if facts.contract_of[bo, bt] >= 0:
            spent[int(facts.contract_of[bo, bt]), int(years[bt])] += float(bought[bo, bt])
    for oi, cid in enumerate(inputs.reserved_contract):
        if cid is None or cid not in contract_ids:
            continue
        for ti in np.flatnonzero(fixed[oi] > 0):
            key = (contract_ids[cid], int(years[ti]))
            spent[key] += float(fixed[oi, ti])
            reserved_spent[key] += float(fixed[oi, ti])

    rows: list[ContractYear] = []
    billed = 0.0
    cost_by_provider = dict(spend)
    for ci, c in enumerate(inputs.spec.contracts):
        committed = committed_by_year(facts, ci)
        for y in sorted(set(committed) | {yy for cc, yy in spent if cc == ci}):
            s = spent.get((ci, y), 0.0)
            short = max(0.0, committed.get(y, 0.0) - s)
            rows.append(
                ContractYear(
                    contract=c.id,
                    provider=c.provider,
                    year=y,
                    committed_usd=committed.get(y, 0.0),
                    spent_usd=s,
                    shortfall_usd=short,
                    reserved_fixed_usd=reserved_spent.get((ci, y), 0.0),
                )
            )
            if c.take_or_pay and short > 0:
                billed += short
                cost_by_provider[c.provider] = cost_by_provider.get(c.provider, 0.0) + short
    return Costs(
        allocation_usd=cost,
        spend_by_provider_usd=dict(spend),
        cost_by_provider_usd=cost_by_provider,
        cost_by_period_usd=by_period,
        cost_by_purchase_option_usd=dict(by_option),
        reserved_fixed_usd=float(fixed.sum()),
        shortfall_usd=billed,
        objective_usd=float(by_period.sum()) + billed,
        contracts=tuple(rows),
    )
