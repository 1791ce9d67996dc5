"""Evaluate a fixed portfolio on a batch of scenarios, vectorised over scenarios.

For scenario s and cell j (service i, period t, accelerator a, provider p, contract year k):

- spend X[s,j] = list[j] · demand[s,i,t] · price[s,a,t] (training: price only);
- while p is lost, X is bought elsewhere at list × the outage's replacement factor and counts
  toward no contract; otherwise a cell counted in the plan counts toward the same contract year;
- per contract year k: listed = Σ X toward k; the part above the yearly maximum pays list and
  does not count; the discount fills the tiers in order (:func:`archipel.plan.contract_books.
  tier_savings`, vectorised); counted = capped − discount (``net``) or capped (``gross``), plus
  reserved blocks' fixed cost and reservations' spend in scope;
- carry-over, year by year inside a contract: a shortfall moves to the next year up to the cap
  (as much as allowed, the policy here; the planner chooses it), the rest is billed when
  take-or-pay: shortfall = max(0, committed + carried in − carried out − counted);
- unused (stranded) = max(0, committed + carried in − carried out − useful), useful being
  counted spend × the plan's utilisation of that capacity (take-or-pay contracts only), plus a
  reservation's cost × (1 − its utilisation × its services' demand ratio);
- total cost = spend outside contracts + contract spend after discounts + shortfall billed +
  reserved blocks + reservations (with demand above them bought on demand) + network cost ×
  demand ratio.

The recourse keeps the plan's placement shape: load is not moved between providers to fill a
commitment, so stranding is an upper bound on what re-planning each scenario would leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.outlook.portfolio import Portfolio
from archipel.outlook.scenarios import Scenarios

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BatchResult:
    """Per-scenario figures of one batch (rows are scenarios, in sampling order)."""

    total_cost: FloatArray  # [S]
    stranded: FloatArray  # [S]
    contract_cost: FloatArray  # [S, C] spend after discounts + shortfall + reserved blocks
    contract_stranded: FloatArray  # [S, C]
    contract_useful: FloatArray  # [S, C] useful spend counted (for utilisation)
    year_cost: FloatArray  # [S, Y]
    term_list: FloatArray  # [S, K] list spend in each contract year's scope (before caps)
    term_cost: FloatArray  # [S, K] what each contract year costs

    @staticmethod
    def concat(parts: list[BatchResult]) -> BatchResult:
        return BatchResult(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in BatchResult.__dataclass_fields__
            )
        )

    @property
    def size(self) -> int:
        return int(self.total_cost.shape[0])


def tier_savings_v(spend: FloatArray, widths: FloatArray, rates: FloatArray) -> FloatArray:
    """Discount on ``spend[S, K]`` through each K's (width, rate) tiers, filled in order."""
    starts = np.concatenate(
        [np.zeros((widths.shape[0], 1)), np.cumsum(widths, axis=1)[:, :-1]], axis=1
    )
    part = np.clip(spend[:, :, None] - starts[None, :, :], 0.0, widths[None, :, :])
    out: FloatArray = (part * rates[None, :, :]).sum(axis=2)
    return out


class Evaluator:
    """A portfolio's spend cells folded into matrices once, then any number of batches.

    With B[s,j] = demand · price of cell j in scenario s, every sum over cells is one product
    ``B @ M`` (columns: list spend toward each contract year, its useful part, spend outside
    contracts per calendar year, spend toward each (contract year, calendar year) pair); only
    the scenarios where a provider is lost take the cell-by-cell path for the lost cells."""

    def __init__(self, pf: Portfolio) -> None:
        self.pf = pf
        J, K, Y = pf.cell_list.size, pf.term_committed.size, len(pf.years)
        T = pf.frame.periods
        counted = pf.cell_term >= 0
        inc = np.zeros((J, K))
        j = np.flatnonzero(counted)
        inc[j, pf.cell_term[j]] = 1.0
        cy = np.zeros((J, Y))
        cy[np.arange(J), pf.cell_year] = 1.0
        pairs = sorted({(int(pf.cell_term[x]), int(pf.cell_year[x])) for x in j})
        pidx = {p: n for n, p in enumerate(pairs)}
        ky = np.zeros((J, len(pairs)))
        for x in j:
            ky[x, pidx[int(pf.cell_term[x]), int(pf.cell_year[x])]] = 1.0
        L = pf.cell_list[:, None]
        off = (~counted).astype(float)[:, None]
        m = np.hstack([L * inc, L * pf.cell_util[:, None] * inc, L * off * cy, L * ky, L * cy])
        self.m_cell, self.list_year = m[:, :-Y], m[:, -Y:]
        self.cell_demand = pf.cell_service * T + pf.cell_period
        self.cell_price = pf.cell_acc * T + pf.cell_period
        # cells sharing demand (and price) share B[s, j]: one row of M each. With list prices
        # flat in every scenario, M has a row per (service, period) and B is the demand itself
        by_demand = np.zeros(((len(pf.frame.services) + 1) * T, m.shape[1] - Y))
        np.add.at(by_demand, self.cell_demand, self.m_cell)
        self.m_demand = np.ascontiguousarray(by_demand.T)
        keys = np.stack([self.cell_demand, self.cell_price])
        uniq, group = np.unique(keys, axis=1, return_inverse=True)
        grouped = np.zeros((uniq.shape[1], m.shape[1] - Y))
        np.add.at(grouped, group.ravel(), self.m_cell)
        self.m_priced = np.ascontiguousarray(grouped.T)
        self.idx_demand, self.idx_price = uniq
        self.K, self.Y, self.P = K, Y, len(pairs)
        self.pair_term = np.array([p[0] for p in pairs], dtype=np.int64)
        self.pair_year = np.zeros((len(pairs), Y))
        for n, (_, y) in enumerate(pairs):
            self.pair_year[n, y] = 1.0
        pyear = _period_year(pf)
        n_svc = len(pf.frame.services)
        egress = np.hstack(
            [
                pf.egress.reshape(n_svc * T, 1),
                (pf.egress[:, :, None] * pyear[None]).reshape(n_svc * T, Y),
            ]
        )
        self.egress_t = np.ascontiguousarray(egress.T)
        self.tc = np.zeros((K, len(pf.contracts)))
        self.tc[np.arange(K), pf.term_contract] = 1.0
        self.ty = np.zeros((K, Y))
        self.ty[np.arange(K), pf.term_year] = 1.0

    def run(self, sc: Scenarios) -> BatchResult:
        """The figures of every scenario of ``sc``."""
        pf, K, Y = self.pf, self.K, self.Y
        S, T = sc.size, pf.frame.periods
        n_svc = len(pf.frame.services)
        # scenario-last layout: rows (service, period), the last T rows training (not scaled)
        d_t = np.empty(((n_svc + 1) * T, S))
        d_t[: n_svc * T] = sc.demand.reshape(S, n_svc * T).T
        d_t[n_svc * T :] = 1.0
        flat = sc.price_flat or not (sc.price != 1.0).any()
        if flat:
            g = d_t.T @ self.m_demand.T  # [S, columns], C-ordered
        else:
            p_t = np.ascontiguousarray(sc.price.reshape(S, -1).T)
            g = (d_t[self.idx_demand] * p_t[self.idx_price]).T @ self.m_priced.T
        lost_y = np.zeros((S, Y))
        rows = np.flatnonzero(sc.lost.any(axis=(1, 2)))
        if rows.size:  # the lost cells' spend leaves its contracts and is bought elsewhere
            b = d_t[self.cell_demand][:, rows]
            if not flat:
                b *= sc.price.reshape(S, -1)[rows].T[self.cell_price]
            lost = sc.lost[rows][:, pf.cell_provider, pf.cell_period].T
            moved = b * lost
            g[rows] -= moved.T @ self.m_cell
            lost_y[rows] = (moved * sc.replacement[pf.cell_provider][:, None]).T @ self.list_year
        listed, useful_list = g[:, :K], g[:, K : 2 * K]
        off_y, listed_ky = g[:, 2 * K : 2 * K + Y], g[:, 2 * K + Y :]

        capped = np.minimum(listed, pf.term_cap[None, :])
        saved = tier_savings_v(capped, pf.term_widths, pf.term_rates)
        share = np.divide(capped, listed, out=np.ones_like(listed), where=listed > 0)
        net = pf.term_net[None, :]
        counted = np.where(net, capped - saved, capped) + pf.term_fixed[None, :]
        useful = np.where(net, 1.0 - _rate(saved, capped), 1.0) * useful_list * share
        useful = useful + pf.term_fixed_useful[None, :]

        res_extra_y = np.zeros((S, Y))
        res_stranded = np.zeros(S)
        if pf.res_cost.size:
            mres = np.einsum("sit,bit->sb", sc.demand, pf.res_weight)
            use = pf.res_util[None, :] * mres
            res_stranded = (pf.res_cost[None, :] * np.maximum(0.0, 1.0 - use)).sum(axis=1)
            extra = pf.res_cost[None, :] * np.maximum(0.0, use - 1.0) * pf.res_od_factor[None, :]
            res_extra_y = (pf.res_cost[None, :] + extra) @ pf.res_year
            counted = counted + pf.res_term.sum(axis=0)[None, :]
            useful = useful + np.minimum(use, 1.0) @ pf.res_term

        shortfall, unused = _carry(pf, counted, useful)
        billed = np.where(pf.term_take_or_pay[None, :], shortfall, 0.0)
        term_cost = listed - saved + billed + pf.term_fixed[None, :]

        eg = d_t[: n_svc * T].T @ self.egress_t.T
        rate = _rate(saved, listed)
        in_y = ((1.0 - rate)[:, self.pair_term] * listed_ky) @ self.pair_year
        year_cost = (
            off_y
            + lost_y
            + in_y
            + (billed + pf.term_fixed[None, :]) @ self.ty
            + eg[:, 1:]
            + res_extra_y
        )
        return BatchResult(
            total_cost=year_cost.sum(axis=1),
            stranded=unused.sum(axis=1) + res_stranded,
            contract_cost=term_cost @ self.tc,
            contract_stranded=unused @ self.tc,
            contract_useful=useful @ self.tc,
            year_cost=year_cost,
            term_list=listed,
            term_cost=term_cost,
        )


def evaluate(pf: Portfolio, sc: Scenarios) -> BatchResult:
    """The figures of every scenario of ``sc`` for the portfolio ``pf``."""
    return Evaluator(pf).run(sc)


def _rate(saved: FloatArray, listed: FloatArray) -> FloatArray:
    return np.divide(saved, listed, out=np.zeros_like(saved), where=listed > 0)


def _period_year(pf: Portfolio) -> FloatArray:
    T = pf.frame.periods
    out = np.zeros((T, len(pf.years)))
    idx = {y: i for i, y in enumerate(pf.years)}
    for t, s in enumerate(pf.frame.period_start):
        out[t, idx[s.year]] = 1.0
    return out


def _carry(pf: Portfolio, counted: FloatArray, useful: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Shortfall and unused commitment per contract year, carrying a shortfall into the next
    year of the same contract as far as its cap allows."""
    S, K = counted.shape
    shortfall = np.zeros((K, S))  # a row per contract year: contiguous in the loop
    unused = np.zeros((K, S))
    counted_t, useful_t = np.ascontiguousarray(counted.T), np.ascontiguousarray(useful.T)
    carried = np.zeros(S)
    for k in range(K):
        if k == 0 or pf.term_contract[k] != pf.term_contract[k - 1]:
            carried = np.zeros(S)
        left = pf.term_committed[k] + carried - counted_t[k]
        out = np.clip(left, 0.0, pf.term_carry_cap[k])
        np.maximum(left - out, 0.0, out=shortfall[k])
        if pf.term_take_or_pay[k]:
            np.maximum(left - out + counted_t[k] - useful_t[k], 0.0, out=unused[k])
        carried = out
    return shortfall.T, unused.T
