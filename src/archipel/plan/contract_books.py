"""A plan's contract books: discounts, counted spend, useful and idle spend, shortfall, unused
commitment — from allocations that say which contract years their spend counts toward.

The LP planner reads the split from its solution; the greedy baseline uses ``assign_best``.
Both settle with ``settle``; the verifier recomputes everything with its own code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archipel.plan.contract_terms import YearTerm, scope_masks, segments, year_terms
from archipel.plan.inputs import PlanInputs
from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Allocation, ContractShare, ContractYear

_ROUND_OFF = 1e-9  # relative: solver round-off is no shortfall


@dataclass(frozen=True)
class Books:
    allocations: list[Allocation]  # with cost_usd after discounts
    contracts: list[ContractYear]
    billed_by_provider: dict[str, float]  # take-or-pay shortfall
    discount_usd: float
    unused_usd: float


def tier_savings(spend: float, tiers: tuple[tuple[float, float], ...]) -> float:
    """Discount on ``spend`` (list price) filled through (width, discount) tiers in order."""
    left, saved = spend, 0.0
    for width, d in tiers:
        part = min(left, width)
        saved += part * d
        left -= part
        if left <= 0:
            break
    return saved


def assign_best(
    inputs: PlanInputs, allocs: list[Allocation], hourly: Mapping[str, float] | None = None
) -> list[Allocation]:
    """Each allocation's spend counted toward the running contract in scope with the largest
    base discount (the first on ties), stretch by stretch of its period, while the contract
    year's maximum allows (a savings plan: its ``hourly`` commitment; none when not given)."""
    terms = year_terms(inputs, hourly or {})
    if not terms:
        return allocs
    spec = inputs.spec
    off_ok, wl_ok = scope_masks(inputs)
    idx = inputs.offering_index()
    wl = {w: i for i, w in enumerate([s.id for s in spec.services] + [j.id for j in spec.training])}
    segs: dict[tuple[str, int], list[tuple[float, tuple[int, ...]]]] = {}
    for sg in segments(inputs, terms):
        segs.setdefault((sg.provider, sg.period), []).append((sg.fraction, sg.terms))
    room = [x.max_usd for x in terms]
    out = []
    for a in allocs:
        o, w = idx[a.offering_id], wl[a.workload]
        gross = a.list_cost_usd if a.list_cost_usd is not None else a.cost_usd
        shares: dict[int, float] = {}
        for frac, running in segs.get((a.provider, a.period), []):
            ok = [
                i
                for i in running
                if off_ok[terms[i].contract, o] and wl_ok[terms[i].contract, w] and room[i] > 0
            ]
            if ok:
                best = max(ok, key=lambda i: (terms[i].tiers[0][1], -i))
                part = min(frac * gross, room[best])
                room[best] -= part
                shares[best] = shares.get(best, 0.0) + part
        spend = [
            ContractShare(
                contract=spec.contracts[terms[i].contract].id, year=terms[i].year, list_usd=v
            )
            for i, v in sorted(shares.items())
            if v > 0
        ]
        out.append(a.model_copy(update={"list_cost_usd": gross, "contract_spend": spend}))
    return out


def _date(x: dt.datetime) -> str:
    return x.date().isoformat()


def settle(
    inputs: PlanInputs,
    allocs: list[Allocation],
    carried_out: dict[int, float] | None = None,
    hourly: Mapping[str, float] | None = None,
    bought: Sequence[ReservationPurchase] = (),
) -> Books:
    """Discounts, counted spend and shortfall per contract year. ``carried_out``: shortfall moved
    to the next year, per index of ``year_terms`` (the LP's choice; none for greedy);
    ``hourly``: each savings plan's USD/hour (the LP's choice; none bought when absent);
    ``bought``: reservations, whose spend counts at its own price (no discount on top)."""
    spec = inputs.spec
    terms = year_terms(inputs, hourly or {})
    key = {(spec.contracts[x.contract].id, x.year): i for i, x in enumerate(terms)}
    n = len(terms)
    listed = np.zeros(n)
    for a in allocs:
        for sh in a.contract_spend:
            listed[key[sh.contract, sh.year]] += sh.list_usd
    saved = np.array([tier_savings(listed[i], x.tiers) for i, x in enumerate(terms)])
    rate = np.divide(saved, listed, out=np.zeros(n), where=listed > 0)
    net = np.array([spec.contracts[x.contract].counts == "net" for x in terms], dtype=bool)
    counted, useful, listed_bought = np.zeros(n), np.zeros(n), np.zeros(n)
    out_allocs = []
    for a in allocs:
        gross = a.list_cost_usd if a.list_cost_usd is not None else a.cost_usd
        off = 0.0
        util = 1.0 if a.utilisation is None else min(1.0, a.utilisation)
        for sh in a.contract_spend:
            i = key[sh.contract, sh.year]
            off += sh.list_usd * rate[i]
            c = sh.list_usd * (1.0 - rate[i] if net[i] else 1.0)
            counted[i] += c
            useful[i] += c * util
        out_allocs.append(a.model_copy(update={"list_cost_usd": gross, "cost_usd": gross - off}))
    for r in bought:
        for sh in r.contract_spend:
            i = key[sh.contract, sh.year]
            listed_bought[i] += sh.list_usd
            counted[i] += sh.list_usd
            useful[i] += sh.list_usd * min(1.0, r.utilisation)
    fixed_useful = _reserved_useful(inputs, terms, allocs)
    carry = (
        np.zeros(n)
        if carried_out is None
        else np.array([carried_out.get(i, 0.0) for i in range(n)])
    )
    rows: list[ContractYear] = []
    billed: dict[str, float] = {}
    unused_total = 0.0
    for i, x in enumerate(terms):
        ct = spec.contracts[x.contract]
        cin = carry[i - 1] if i > 0 and terms[i - 1].contract == x.contract else 0.0
        spent = counted[i] + x.reserved_fixed_usd
        need = x.committed_usd + cin - carry[i]
        short = need - spent
        short = short if short > _ROUND_OFF * max(1.0, x.committed_usd) else 0.0
        use = useful[i] + fixed_useful[i]
        unused = max(0.0, need - use) if ct.take_or_pay else 0.0
        unused = unused if unused > _ROUND_OFF * max(1.0, x.committed_usd) else 0.0
        rows.append(
            ContractYear(
                contract=ct.id,
                provider=ct.provider,
                year=x.year,
                start=_date(x.start),
                end=_date(x.end),
                committed_usd=x.committed_usd,
                list_usd=float(listed[i] + listed_bought[i]),
                discount_usd=float(saved[i]),
                spent_usd=float(spent),
                useful_usd=float(use),
                idle_usd=float(max(0.0, spent - use)),
                shortfall_usd=short,
                carried_in_usd=float(cin),
                carried_out_usd=float(carry[i]),
                reserved_fixed_usd=x.reserved_fixed_usd,
                unused_usd=unused,
            )
        )
        if ct.take_or_pay and short > 0:
            billed[ct.provider] = billed.get(ct.provider, 0.0) + short
        unused_total += unused
    return Books(out_allocs, rows, billed, float(saved.sum()), unused_total)


def _reserved_useful(
    inputs: PlanInputs, terms: list[YearTerm], allocs: list[Allocation]
) -> np.ndarray:
    """Per year term: the part of its reserved blocks' fixed cost carried by load — each
    period's fixed cost × (node-hours used × utilisation / node-hours reserved), counted in the
    year in proportion to the hours the period spends in it."""
    out = np.zeros(len(terms))
    fixed = inputs.reserved_fixed_usd
    if not terms or not fixed.size or not fixed.any():
        return out
    idx = inputs.offering_index()
    used = np.zeros_like(fixed)
    for a in allocs:
        o = idx[a.offering_id]
        if inputs.reserved_contract[o] is not None:
            util = 1.0 if a.utilisation is None else min(1.0, a.utilisation)
            used[o, a.period] += a.nodes * util
    cap = inputs.capacity_nodes
    share = np.divide(used, cap, out=np.zeros_like(used), where=np.isfinite(cap) & (cap > 0))
    ids = [c.id for c in inputs.spec.contracts]
    for i, x in enumerate(terms):
        rows = [o for o, cid in enumerate(inputs.reserved_contract) if cid == ids[x.contract]]
        for t, p in enumerate(inputs.periods):
            frac = max(0.0, (min(p.end, x.end) - max(p.start, x.start)) / (p.end - p.start))
            if frac > 0:
                out[i] += float((fixed[rows, t] * np.minimum(share[rows, t], 1.0)).sum()) * frac
    return out
