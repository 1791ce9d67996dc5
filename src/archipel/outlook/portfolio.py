"""A plan's portfolio as arrays: spend cells, contract years, reservations bought.

The outlook keeps the plan's placement *shape* and scales it (docs/cli.md, "archipel
outlook"): a service's spend on each offering in a period scales with its demand in a scenario
and with the list-price index of the offering's accelerator; training runs keep their work.
What counts toward which contract year is the plan's split (``Allocation.contract_spend``);
the contract years themselves — commitment inside the horizon, yearly maximum, discount tiers,
carry-over cap, reserved blocks — are :func:`archipel.plan.contract_terms.year_terms`, the
figures the planner and the plan's books use.

A *cell* is one allocation's list-price spend toward one contract year (or toward none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.outlook.scenarios import Frame
from archipel.plan.contract_terms import scope_masks, year_terms
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Plan
from archipel.spec.models import DemandGrowth

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Portfolio:
    frame: Frame
    contracts: tuple[str, ...]
    years: tuple[int, ...]  # calendar years of the horizon
    # cells [J]
    cell_service: IntArray  # index into frame.services; len(services) for training (not scaled)
    cell_period: IntArray
    cell_acc: IntArray  # index into frame.accelerators
    cell_provider: IntArray  # index into frame.providers
    cell_term: IntArray  # index into the terms, -1: counts toward no contract
    cell_list: FloatArray  # list-price USD in the plan
    cell_util: FloatArray  # share of the capacity carrying load (useful)
    cell_year: IntArray  # index into years
    eligible: BoolArray  # [C, J] the cell's offering and workload are in the contract's scope
    egress: FloatArray  # [I, T] network cost of each service's flows (scales with demand)
    # contract-year terms [K], in contract then year order
    term_contract: IntArray
    term_label: tuple[str, ...]  # "contract/year"
    term_committed: FloatArray
    term_cap: FloatArray  # list spend that may count (inf: none)
    term_widths: FloatArray  # [K, M] tier widths (USD of list spend; inf for the last)
    term_rates: FloatArray  # [K, M] tier discounts (fraction)
    term_carry_cap: FloatArray
    term_fixed: FloatArray  # reserved blocks' fixed cost
    term_fixed_useful: FloatArray  # the part of it carrying load in the plan
    term_net: BoolArray
    term_take_or_pay: BoolArray
    term_hours: FloatArray  # hours inside the horizon
    term_start: tuple[dt.datetime, ...]  # when the contract year starts (may be before the horizon)
    term_year: IntArray  # index into years (the calendar year its horizon part ends in)
    savings_plan: BoolArray  # [K] the contract is a savings plan (sized by the plan)
    # reservations bought by the plan [B]
    res_cost: FloatArray  # in-horizon cost, paid used or not
    res_util: FloatArray
    res_od_factor: FloatArray  # on-demand price / reservation price
    res_weight: FloatArray  # [B, I, T] whose demand drives its use (sums to 1 per row)
    res_term: FloatArray  # [B, K] its spend counted toward each contract year
    res_year: FloatArray  # [B, Y] share of its cost in each calendar year
    plan_cost_usd: float
    plan_unused_usd: float

    @property
    def committed_by_year(self) -> FloatArray:
        out = np.zeros(len(self.years))
        np.add.at(out, self.term_year, self.term_committed + 0.0)
        return out

    @property
    def committed_by_contract(self) -> FloatArray:
        out = np.zeros(len(self.contracts))
        np.add.at(out, self.term_contract, self.term_committed)
        return out


def frame_of(inputs: PlanInputs, plan: Plan) -> Frame:
    """Services with the growth their demand follows (0 % for a table), accelerators and
    providers the plan uses, the horizon's periods."""
    spec = inputs.spec
    growth = tuple(
        float(s.demand.growth_pct_per_year) if isinstance(s.demand, DemandGrowth) else 0.0
        for s in spec.services
    )
    accs = sorted({a.accelerator for a in plan.allocations})
    provs = sorted(
        {a.provider for a in plan.allocations}
        | {c.provider for c in spec.contracts}
        | {r.provider for r in plan.reservations}
    )
    return Frame(
        period_start=tuple(p.start for p in inputs.periods),
        period_end=tuple(p.end for p in inputs.periods),
        services=tuple(s.id for s in spec.services),
        plan_growth_pct=growth,
        accelerators=tuple(accs),
        providers=tuple(provs),
    )


def _tiers(terms: list[tuple[tuple[float, float], ...]]) -> tuple[FloatArray, FloatArray]:
    m = max((len(t) for t in terms), default=1)
    widths = np.zeros((len(terms), m))
    rates = np.zeros((len(terms), m))
    for k, t in enumerate(terms):
        for i, (w, d) in enumerate(t):
            widths[k, i], rates[k, i] = w, d
    return widths, rates


def build_portfolio(inputs: PlanInputs, plan: Plan) -> Portfolio:
    """The arrays of ``plan`` (made from ``inputs``'s spec) for :mod:`archipel.outlook.evaluate`."""
    spec = inputs.spec
    frame = frame_of(inputs, plan)
    svc = {s: i for i, s in enumerate(frame.services)}
    acc = {a: i for i, a in enumerate(frame.accelerators)}
    prov = {p: i for i, p in enumerate(frame.providers)}
    years = tuple(sorted({p.start.year for p in inputs.periods}))
    yidx = {y: i for i, y in enumerate(years)}
    period_year = np.array([yidx[p.start.year] for p in inputs.periods], dtype=np.int64)
    h1 = inputs.periods[-1].end

    terms = year_terms(inputs, plan.savings_plans_usd_per_hour)
    key = {(spec.contracts[x.contract].id, x.year): k for k, x in enumerate(terms)}
    off_ok, wl_ok = scope_masks(inputs)
    oidx = inputs.offering_index()
    widx = {
        w: i for i, w in enumerate([s.id for s in spec.services] + [j.id for j in spec.training])
    }

    rows: list[tuple[int, int, int, int, int, float, float, int, int]] = []
    for a in plan.allocations:
        gross = a.list_cost_usd if a.list_cost_usd is not None else a.cost_usd
        util = 1.0 if a.utilisation is None else min(1.0, a.utilisation)
        if a.workload_kind == "training":
            util = 1.0
        i = svc.get(a.workload, len(frame.services))
        base = (i, a.period, acc[a.accelerator], prov[a.provider])
        o, w = oidx.get(a.offering_id, -1), widx.get(a.workload, -1)
        left = gross
        for sh in a.contract_spend:
            k = key.get((sh.contract, sh.year))
            if k is not None:
                rows.append((*base, k, sh.list_usd, util, o, w))
                left -= sh.list_usd
        if left > 1e-9 * max(1.0, gross):
            rows.append((*base, -1, left, util, o, w))
    J = len(rows)
    col = list(zip(*rows, strict=True)) if rows else [()] * 9
    cell_o = np.array(col[7], dtype=np.int64)
    cell_w = np.array(col[8], dtype=np.int64)
    C = len(spec.contracts)
    cell_term = np.array(col[4], dtype=np.int64)
    eligible = np.zeros((C, J), dtype=bool)
    ok = (cell_o >= 0) & (cell_w >= 0)
    eligible[:, ok] = off_ok[:, cell_o[ok]] & wl_ok[:, cell_w[ok]]
    counted = np.flatnonzero(cell_term >= 0)
    term_of = np.array([x.contract for x in terms], dtype=np.int64)
    eligible[term_of[cell_term[counted]], counted] = True

    egress = np.zeros((len(frame.services), frame.periods))
    for f in plan.flows:
        if f.service in svc:
            egress[svc[f.service], f.period] += f.egress_usd

    K = len(terms)
    widths, rates = _tiers([x.tiers for x in terms])
    term_contract = np.array([x.contract for x in terms], dtype=np.int64)
    term_year = np.array(
        [
            yidx.get((min(x.end, h1) - dt.timedelta(microseconds=1)).year, len(years) - 1)
            for x in terms
        ],
        dtype=np.int64,
    )
    fixed = np.array([x.reserved_fixed_usd for x in terms])
    fixed_useful = _fixed_useful(
        plan, [(spec.contracts[x.contract].id, x.year) for x in terms], fixed
    )

    res = plan.reservations
    B, T = len(res), frame.periods
    res_weight = np.zeros((B, len(frame.services), T))
    res_term = np.zeros((B, K))
    res_year = np.zeros((B, len(years)))
    for b, r in enumerate(res):
        for a in plan.allocations:
            if a.offering_id == r.offering_id and a.workload in svc:
                res_weight[b, svc[a.workload], a.period] += a.nodes * a.hours
        tot = res_weight[b].sum()
        if tot > 0:
            res_weight[b] /= tot
        for sh in r.contract_spend:
            k = key.get((sh.contract, sh.year))
            if k is not None:
                res_term[b, k] += sh.list_usd
        active = np.array(
            [
                max(0.0, (min(p.end, r.end) - max(p.start, r.start)) / dt.timedelta(hours=1))
                for p in inputs.periods
            ]
        )
        if active.sum() > 0:
            np.add.at(res_year[b], period_year, active / active.sum())

    return Portfolio(
        frame=frame,
        contracts=tuple(c.id for c in spec.contracts),
        years=years,
        cell_service=np.array(col[0], dtype=np.int64),
        cell_period=np.array(col[1], dtype=np.int64),
        cell_acc=np.array(col[2], dtype=np.int64),
        cell_provider=np.array(col[3], dtype=np.int64),
        cell_term=cell_term,
        cell_list=np.array(col[5], dtype=float),
        cell_util=np.array(col[6], dtype=float),
        cell_year=period_year[np.array(col[1], dtype=np.int64)] if J else np.zeros(0, np.int64),
        eligible=eligible,
        egress=egress,
        term_contract=term_contract,
        term_label=tuple(f"{spec.contracts[x.contract].id}/{x.year}" for x in terms),
        term_committed=np.array([x.committed_usd for x in terms]),
        term_cap=np.array([x.max_usd for x in terms]),
        term_widths=widths,
        term_rates=rates,
        term_carry_cap=np.array([x.carry_cap_usd for x in terms]),
        term_fixed=fixed,
        term_fixed_useful=fixed_useful,
        term_net=np.array([spec.contracts[x.contract].counts == "net" for x in terms], dtype=bool),
        term_take_or_pay=np.array(
            [spec.contracts[x.contract].take_or_pay for x in terms], dtype=bool
        ),
        term_hours=np.array([x.horizon_hours for x in terms]),
        term_start=tuple(x.start for x in terms),
        term_year=term_year,
        savings_plan=np.array(
            [spec.contracts[x.contract].sized_by_plan for x in terms], dtype=bool
        ),
        res_cost=np.array([r.in_horizon_usd for r in res]),
        res_util=np.array([r.utilisation for r in res]),
        res_od_factor=np.array([1.0 / max(1e-9, 1.0 - r.discount_pct / 100.0) for r in res]),
        res_weight=res_weight,
        res_term=res_term,
        res_year=res_year,
        plan_cost_usd=float(plan.objective_usd or 0.0),
        plan_unused_usd=float(plan.unused_commitment_usd),
    )


def _fixed_useful(plan: Plan, keys: list[tuple[str, int]], fixed: FloatArray) -> FloatArray:
    """The part of each year's reserved-block cost carried by load: the fixed cost times the
    useful share of the year's counted spend in the plan's books (an approximation)."""
    out = np.zeros(len(keys))
    rows = {(c.contract, c.year): c for c in plan.contracts}
    for k, key in enumerate(keys):
        row = rows.get(key)
        if row is not None and fixed[k] > 0 and row.spent_usd > 0:
            out[k] = fixed[k] * min(1.0, row.useful_usd / row.spent_usd)
    return out
