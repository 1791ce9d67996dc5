"""Contracts, re-derived for the verifier: contract years, commitments, scope, discounts.

Reads each allocation's ``contract_spend`` (which contract years its list-price spend counts
toward: a decision of the plan) and checks it against the spec with its own arithmetic — the
contract covers the allocation (provider, region, purchase option, accelerator, workload), the
contract year runs during the period, no more is counted than was spent while it ran, no year
takes more than its maximum — then recomputes discounts by tier, the counted spend, the
shortfall after the plan's carry-over, and the useful, idle and unused figures
(docs/semantics.md, "Contracts"). Shares no code with the planner's ``contract_terms``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Allocation, ContractYear
from archipel.plan.verify_facts import Cells, Facts, Float
from archipel.plan.verify_rules import close
from archipel.spec.contracts import Contract

_SEC_PER_H = 3600.0
_TOL = 1e-6

Problem = tuple[str, str]


@dataclass(frozen=True)
class Year:
    contract: int
    k: int  # 1-based
    start: dt.datetime
    end: dt.datetime
    committed: float
    max_list: float
    thresholds: tuple[float, ...]  # pro-rated, first 0
    discounts: tuple[float, ...]
    carry_cap: float
    fixed: float


@dataclass(frozen=True)
class Settled:
    allocation_usd: Float  # [A] net cost per cell
    rows: tuple[ContractYear, ...]
    billed: dict[str, float]  # take-or-pay shortfall per provider
    discount_usd: float
    unused_usd: float
    problems: list[Problem]


def _anniversary(d: dt.date, k: int) -> dt.datetime:
    y = d.year + k
    day = min(d.day, 28) if (d.month, d.day) == (2, 29) else d.day
    return dt.datetime(y, d.month, day)


def _h(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds() / _SEC_PER_H)


def _years_of(ci: int, c: Contract, h0: dt.datetime, h1: dt.datetime, hourly: float) -> list[Year]:
    bounds = []
    k = 0
    end = dt.datetime.combine(c.end, dt.time())
    while _anniversary(c.start, k) < end:
        bounds.append((_anniversary(c.start, k), min(_anniversary(c.start, k + 1), end)))
        k += 1
    n = len(bounds)
    weights = c.ramp or [1.0] * n
    full = []
    for i, (a, b) in enumerate(bounds):
        if c.schedule_usd is not None:
            full.append(c.schedule_usd[i])
        elif c.total_usd is not None:
            full.append(c.total_usd * weights[i] / sum(weights))
        else:
            year_len = _h(a, _anniversary(c.start, i + 1))
            full.append(c.committed_usd_per_year * _h(a, b) / year_len)
    out = []
    for i, (a, b) in enumerate(bounds):
        inside = _h(max(a, h0), min(b, h1))
        if inside <= 0:
            continue
        frac = inside / _h(a, b)
        committed = full[i] * frac
        if c.spent_to_date_usd is not None and a < h0:
            left = full[i] - max(0.0, c.spent_to_date_usd - sum(full[:i]))
            committed = max(0.0, left) * inside / _h(h0, b)
        max_list = np.inf
        if c.max_usd_per_year is not None:
            max_list = c.max_usd_per_year * _h(a, b) / _h(a, _anniversary(c.start, i + 1)) * frac
        if c.sized_by_plan:  # a savings plan: the plan's USD/hour, for the hours in the horizon
            committed = hourly * inside
            max_list = committed / (1.0 - c.discount_pct / 100.0)
        tiers = [(0.0, c.discount_pct)] + [(t.above_usd, t.discount_pct) for t in c.discount_tiers]
        if len(tiers) > 1 and tiers[1][0] <= 0:
            tiers = tiers[1:]
        fixed = sum(
            blk.nodes
            * blk.usd_per_node_hour
            * _h(
                max(a, h0, dt.datetime.combine(blk.start, dt.time())),
                min(b, h1, dt.datetime.combine(blk.end, dt.time())),
            )
            for blk in c.reserved_blocks
        )
        nxt = i + 1 < n and bounds[i + 1][0] < h1
        out.append(
            Year(
                contract=ci,
                k=i + 1,
                start=a,
                end=b,
                committed=committed,
                max_list=float(max_list),
                thresholds=tuple(x * frac for x, _ in tiers),
                discounts=tuple(d / 100.0 for _, d in tiers),
                carry_cap=c.carry_over_pct / 100.0 * committed if nxt else 0.0,
                fixed=fixed,
            )
        )
    return out


def _saved(spend: float, y: Year) -> float:
    out = 0.0
    for i, d in enumerate(y.discounts):
        lo = y.thresholds[i]
        hi = y.thresholds[i + 1] if i + 1 < len(y.thresholds) else np.inf
        out += d * max(0.0, min(spend, hi) - lo)
    return out


def _covers(facts: Facts, c: Contract, o: int, workload: str) -> bool:
    inputs = facts.inputs
    off = inputs.offerings[o]
    regions = c.regions if c.regions is not None else c.scope.regions
    accs = c.scope.accelerators
    return (
        inputs.reserved_contract[o] is None
        and off.provider == c.provider
        and (regions is None or off.region_id in regions)
        and str(off.purchase_option) in c.scope.purchase_options
        and (accs is None or off.accelerator in {inputs.accelerator_name(a) or a for a in accs})
        and (c.scope.workloads is None or workload in c.scope.workloads)
    )


def settle_contracts(
    facts: Facts,
    cells: Cells,
    allocations: Sequence[Allocation],
    list_usd: Float,
    reported: Sequence[ContractYear],
    hourly: Mapping[str, float] | None = None,
    reservations: Sequence[ReservationPurchase] = (),
) -> Settled:
    """Check each allocation's contract spend and recompute the contract books (``hourly``:
    the savings plans the plan buys, USD/hour; ``bought``: reservations, whose spend counts at
    its own price, with no discount on top: ``reservations``)."""
    inputs = facts.inputs
    spec = inputs.spec
    pers = inputs.periods
    problems: list[Problem] = []
    years: list[Year] = []
    bought = dict(hourly or {})
    for cid, h in bought.items():
        c_of = next((c for c in spec.contracts if c.id == cid), None)
        if c_of is None or not c_of.sized_by_plan:
            problems.append(("contract-max", f"savings plan {cid}: no contract sized by the plan"))
        elif h < -_TOL or h > (c_of.max_usd_per_hour or np.inf) * (1 + _TOL) + _TOL:
            problems.append(
                (
                    "contract-max",
                    f"savings plan {cid}: {h:.6g} USD/hour is outside 0 to "
                    f"{c_of.max_usd_per_hour} (max_usd_per_hour)",
                )
            )
    if pers:
        for ci, c in enumerate(spec.contracts):
            years += _years_of(ci, c, pers[0].start, pers[-1].end, max(bought.get(c.id, 0.0), 0.0))
    per_cell, counted_list = _read_shares(facts, cells, allocations, list_usd, years, problems)
    problems += _savings_cover(facts, cells, per_cell, years, bought)
    saved = np.array([_saved(counted_list[i], y) for i, y in enumerate(years)])
    rate = np.divide(saved, counted_list, out=np.zeros(len(years)), where=counted_list > 0)
    net_cost = list_usd.copy()
    counted = np.zeros(len(years))
    useful = np.zeros(len(years))
    for a, mine in enumerate(per_cell):
        al = allocations[int(cells.index[a])]
        util = 1.0 if al.utilisation is None else min(max(al.utilisation, 0.0), 1.0)
        for i, v in mine:
            net_cost[a] -= v * rate[i]
            gross = spec.contracts[years[i].contract].counts == "gross"
            share = v if gross else v * (1.0 - rate[i])
            counted[i] += share
            useful[i] += share * util
    for r, i, v in _purchase_shares(facts, reservations, years, problems):
        counted_list[i] += v
        counted[i] += v
        useful[i] += v * min(max(r.utilisation, 0.0), 1.0)
    fixed_useful = _fixed_useful(facts, cells, allocations, years)
    stated = {(r.contract, r.year): r for r in reported}
    carry_out = np.zeros(len(years))
    for i, y in enumerate(years):
        c = spec.contracts[y.contract]
        carry_out[i] = stated[c.id, y.k].carried_out_usd if (c.id, y.k) in stated else 0.0
        if carry_out[i] > y.carry_cap * (1 + _TOL) + _TOL or (
            carry_out[i] > _TOL and not c.take_or_pay
        ):
            problems.append(
                (
                    "contract-carry",
                    f"contract {c.id}, year {y.k}: carries {carry_out[i]:.6g} "
                    f"of shortfall into the next year; at most {y.carry_cap:.6g} may move",
                )
            )
        if counted_list[i] > y.max_list * (1 + _TOL) + _TOL:
            problems.append(
                (
                    "contract-max",
                    f"contract {c.id}, year {y.k}: {counted_list[i]:.6g} counted, "
                    f"more than its maximum {y.max_list:.6g}",
                )
            )
    rows = []
    billed: dict[str, float] = {}
    unused_total = 0.0
    for i, y in enumerate(years):
        c = spec.contracts[y.contract]
        cin = carry_out[i - 1] if i > 0 and years[i - 1].contract == y.contract else 0.0
        need = y.committed + cin - carry_out[i]
        spent = counted[i] + y.fixed
        use = useful[i] + fixed_useful[i]
        short = max(0.0, need - spent)
        short = short if short > 1e-9 * max(1.0, y.committed) else 0.0
        unused = max(0.0, need - use) if c.take_or_pay else 0.0
        unused = unused if unused > 1e-9 * max(1.0, y.committed) else 0.0
        if c.take_or_pay and short > 0:
            billed[c.provider] = billed.get(c.provider, 0.0) + short
        unused_total += unused
        rows.append(
            ContractYear(
                contract=c.id,
                provider=c.provider,
                year=y.k,
                start=y.start.date().isoformat(),
                end=y.end.date().isoformat(),
                committed_usd=y.committed,
                list_usd=float(counted_list[i]),
                discount_usd=float(saved[i]),
                spent_usd=float(spent),
                useful_usd=float(use),
                idle_usd=float(max(0.0, spent - use)),
                shortfall_usd=short,
                carried_in_usd=float(cin),
                carried_out_usd=float(carry_out[i]),
                reserved_fixed_usd=y.fixed,
                unused_usd=unused,
            )
        )
    return Settled(net_cost, tuple(rows), billed, float(saved.sum()), unused_total, problems)


def _purchase_shares(
    facts: Facts,
    bought: Sequence[ReservationPurchase],
    years: list[Year],
    problems: list[Problem],
) -> list[tuple[ReservationPurchase, int, float]]:
    """(purchase, year index, USD) for each reservation's spend counted toward a contract year:
    in the contract's scope (no workload named, not a savings plan), at most what the purchase
    costs while that year runs inside the horizon."""
    inputs = facts.inputs
    spec = inputs.spec
    pers = inputs.periods
    index = inputs.offering_index()
    at = {(spec.contracts[y.contract].id, y.k): i for i, y in enumerate(years)}
    out = []
    for r in bought:
        for sh in r.contract_spend:
            where = f"reservation {r.option} on {r.offering_id} from {r.start_period_label}"
            i = at.get((sh.contract, sh.year))
            o = index.get(r.offering_id)
            if i is None or o is None or not pers:
                problems.append(("contract-scope", f"{where}: no year {sh.year} of {sh.contract}"))
                continue
            y = years[i]
            c = spec.contracts[y.contract]
            if c.sized_by_plan or c.scope.workloads is not None or not _covers(facts, c, o, ""):
                problems.append(
                    (
                        "contract-scope",
                        f"{where}: counted toward {c.id}, whose scope does not cover it",
                    )
                )
                continue
            held = _h(max(r.start, y.start, pers[0].start), min(r.end, y.end, pers[-1].end))
            most = r.nodes * r.usd_per_node_hour * held
            if sh.list_usd > most * (1 + _TOL) + _TOL or sh.list_usd < -_TOL:
                problems.append(
                    (
                        "contract-scope",
                        f"{where}: {sh.list_usd:.6g} counted toward {c.id} year "
                        f"{y.k}, but it costs {most:.6g} while that year runs",
                    )
                )
            out.append((r, i, sh.list_usd))
    return out


def _savings_cover(
    facts: Facts,
    cells: Cells,
    per_cell: list[list[tuple[int, float]]],
    years: list[Year],
    hourly: Mapping[str, float],
) -> list[Problem]:
    """A savings plan discounts, in each period, at most its USD/hour / (1 − d) times the hours
    it runs there."""
    spec = facts.inputs.spec
    pers = facts.inputs.periods
    h0, h1 = (pers[0].start, pers[-1].end) if pers else (None, None)
    used: dict[tuple[int, int], float] = {}  # per (year index, period)
    for a, mine in enumerate(per_cell):
        for i, v in mine:
            if spec.contracts[years[i].contract].sized_by_plan:
                key = (i, int(cells.period[a]))
                used[key] = used.get(key, 0.0) + v
    out: list[Problem] = []
    for (i, t), v in sorted(used.items()):
        y, p = years[i], pers[t]
        c = spec.contracts[y.contract]
        assert h0 is not None and h1 is not None
        runs = _h(max(p.start, h0, y.start), min(p.end, h1, y.end))
        cover = max(hourly.get(c.id, 0.0), 0.0) * runs / (1.0 - c.discount_pct / 100.0)
        if v > cover * (1 + _TOL) + _TOL:
            out.append(
                (
                    "contract-max",
                    f"savings plan {c.id}, year {y.k}, period {p.label}: {v:.6g} of list spend "
                    f"discounted, more than its commitment covers ({cover:.6g})",
                )
            )
    return out


def _read_shares(
    facts: Facts,
    cells: Cells,
    allocations: Sequence[Allocation],
    list_usd: Float,
    years: list[Year],
    problems: list[Problem],
) -> tuple[list[list[tuple[int, float]]], Float]:
    """Each cell's (year index, list USD) shares, checked; and the list spend per year."""
    spec = facts.inputs.spec
    pers = facts.inputs.periods
    at = {(spec.contracts[y.contract].id, y.k): i for i, y in enumerate(years)}
    counted_list = np.zeros(len(years))
    per_cell: list[list[tuple[int, float]]] = []
    for a in range(cells.index.size):
        al = allocations[int(cells.index[a])]
        o, t = int(cells.offering[a]), int(cells.period[a])
        p = pers[t]
        where = f"allocation {al.workload}/{al.offering_id}/{p.label}"
        mine: list[tuple[int, float]] = []
        for sh in al.contract_spend:
            i = at.get((sh.contract, sh.year))
            if i is None:
                problems.append(
                    (
                        "contract-scope",
                        f"{where}: contract {sh.contract} has no year {sh.year} in the horizon",
                    )
                )
                continue
            y = years[i]
            c = spec.contracts[y.contract]
            ran = _h(max(p.start, y.start), min(p.end, y.end)) / p.hours
            if sh.list_usd < -_TOL:
                problems.append(("contract-scope", f"{where}: negative spend for {sh.contract}"))
            elif not _covers(facts, c, o, al.workload):
                problems.append(
                    (
                        "contract-scope",
                        f"{where}: counted toward {c.id}, whose scope does not cover it",
                    )
                )
            elif sh.list_usd > ran * list_usd[a] * (1 + _TOL) + _TOL:
                problems.append(
                    (
                        "contract-scope",
                        f"{where}: {sh.list_usd:.6g} counted toward {c.id} year "
                        f"{y.k}, but only {ran * list_usd[a]:.6g} was spent while it ran",
                    )
                )
            mine.append((i, sh.list_usd))
            counted_list[i] += sh.list_usd
        if sum(v for _, v in mine) > list_usd[a] * (1 + _TOL) + _TOL:
            problems.append(
                (
                    "contract-scope",
                    f"{where}: counted {sum(v for _, v in mine):.6g} toward "
                    f"contracts, more than its list cost {list_usd[a]:.6g}",
                )
            )
        per_cell.append(mine)
    return per_cell, counted_list


def _fixed_useful(
    facts: Facts, cells: Cells, allocations: Sequence[Allocation], years: list[Year]
) -> Float:
    """Per contract year: reserved blocks' fixed cost × the share of their nodes carrying load."""
    inputs = facts.inputs
    fixed = inputs.reserved_fixed_usd
    out = np.zeros(len(years))
    if not years or not fixed.size or not fixed.any():
        return out
    used = np.zeros_like(fixed)
    for a in range(cells.index.size):
        o = int(cells.offering[a])
        if inputs.reserved_contract[o] is not None:
            al = allocations[int(cells.index[a])]
            util = 1.0 if al.utilisation is None else min(max(al.utilisation, 0.0), 1.0)
            used[o, int(cells.period[a])] += float(cells.nodes[a]) * util
    cap = inputs.capacity_nodes
    ok = np.isfinite(cap) & (cap > 0)
    share = np.minimum(np.divide(used, cap, out=np.zeros_like(used), where=ok), 1.0)
    ids = [c.id for c in inputs.spec.contracts]
    for i, y in enumerate(years):
        for o, cid in enumerate(inputs.reserved_contract):
            if cid != ids[y.contract]:
                continue
            for t, p in enumerate(inputs.periods):
                frac = _h(max(p.start, y.start), min(p.end, y.end)) / p.hours
                out[i] += float(fixed[o, t] * share[o, t]) * frac
    return out


def _row_values(r: ContractYear) -> dict[str, float]:
    return {
        "committed_usd": r.committed_usd,
        "list_usd": r.list_usd,
        "discount_usd": r.discount_usd,
        "spent_usd": r.spent_usd,
        "useful_usd": r.useful_usd,
        "idle_usd": r.idle_usd,
        "shortfall_usd": r.shortfall_usd,
        "carried_in_usd": r.carried_in_usd,
        "reserved_fixed_usd": r.reserved_fixed_usd,
        "unused_usd": r.unused_usd,
    }


def check_contract_rows(
    reported: Sequence[ContractYear], expected: Sequence[ContractYear]
) -> list[Problem]:
    """Every (contract, year) with a non-zero figure is reported with the recomputed figures."""
    out: list[Problem] = []
    seen: dict[tuple[str, int], ContractYear] = {}
    for r in reported:
        if (r.contract, r.year) in seen:
            out.append(("contract-rows", f"contract {r.contract}, year {r.year}: reported twice"))
        seen[r.contract, r.year] = r
    want = {(r.contract, r.year): r for r in expected}
    for key in list(want) + [k for k in seen if k not in want]:
        exp, got = want.get(key), seen.get(key)
        ev = _row_values(exp) if exp else dict.fromkeys(_row_values(got) if got else {}, 0.0)
        gv = _row_values(got) if got else dict.fromkeys(ev, 0.0)
        for name, v in ev.items():
            if not close(gv[name], v):
                state = "" if got else " (row missing)"
                out.append(
                    (
                        "contract-rows",
                        f"contract {key[0]}, year {key[1]}: {name} reported {gv[name]:.6g}, "
                        f"expected {v:.6g}{state}",
                    )
                )
    return out
