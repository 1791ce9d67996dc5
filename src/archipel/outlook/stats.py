"""Figures over scenarios: percentiles, CVaR, and the outlook's tables from a batch result."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archipel.outlook.evaluate import BatchResult
from archipel.outlook.portfolio import Portfolio
from archipel.outlook.result import ContractOutlook, Spread, Totals, YearOutlook
from archipel.spec.uncertainty import Uncertainty

FloatArray = NDArray[np.float64]
ALPHA = 0.95


def cvar(values: FloatArray, alpha: float = ALPHA, weights: FloatArray | None = None) -> float:
    """Conditional value at risk: the mean of the worst (largest) ``1 − alpha`` of the
    distribution, the atom at the VaR split as needed (Rockafellar–Uryasev: VaR + E[(X − VaR)+]
    / (1 − alpha)), exact for a discrete distribution given by ``values`` and ``weights``."""
    x = np.asarray(values, dtype=float)
    w = (
        np.full(x.size, 1.0 / x.size)
        if weights is None
        else np.asarray(weights, float) / np.sum(weights)
    )
    order = np.argsort(x)
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    k = int(np.searchsorted(cum, alpha - 1e-12, side="left"))
    var = x[min(k, x.size - 1)]
    return float(var + np.sum(w * np.maximum(x - var, 0.0)) / (1.0 - alpha))


def spread(x: FloatArray) -> Spread:
    p = np.percentile(x, [5, 25, 50, 75, 95])
    return Spread(
        mean=float(np.mean(x)),
        p5=float(p[0]),
        p25=float(p[1]),
        p50=float(p[2]),
        p75=float(p[3]),
        p95=float(p[4]),
    )


def default_threshold(pf: Portfolio, u: Uncertainty) -> float:
    """The stranded commitment whose excess probability is reported: the file's, else 5 % of
    the commitments inside the horizon."""
    if u.stranded_threshold_usd is not None:
        return float(u.stranded_threshold_usd)
    return 0.05 * float(pf.term_committed.sum())


def break_even(pf: Portfolio, r: BatchResult) -> FloatArray:
    """Per contract, the utilisation of its commitment below which it costs more than buying
    the same work at list prices: 1 − d for a commitment counted net, 1 / (1 + d) counted
    gross, d the base discount of its contract years weighted by their mean in-scope spend
    (volume tiers above the base are left out: the break-even is conservative for them)."""
    C = len(pf.contracts)
    out = np.ones(C)
    listed = r.term_list.mean(axis=0)
    for c in range(C):
        ks = np.flatnonzero(pf.term_contract == c)
        lst = listed[ks].sum()
        rate = (
            float((pf.term_rates[ks, 0] * listed[ks]).sum() / lst)
            if lst > 0
            else float(pf.term_rates[ks, 0].mean() if ks.size else 0.0)
        )
        net = bool(pf.term_net[ks].all()) if ks.size else True
        out[c] = 1.0 - rate if net else 1.0 / (1.0 + rate)
    return out


def totals(pf: Portfolio, r: BatchResult, threshold: float) -> Totals:
    return Totals(
        expected_cost_usd=float(r.total_cost.mean()),
        cost_usd=spread(r.total_cost),
        cvar95_usd=cvar(r.total_cost),
        expected_stranded_usd=float(r.stranded.mean()),
        stranded_usd=spread(r.stranded),
        stranded_threshold_usd=threshold,
        p_stranded_over_threshold=float(np.mean(r.stranded > threshold)),
        plan_cost_usd=pf.plan_cost_usd,
        plan_unused_commitment_usd=pf.plan_unused_usd,
    )


def per_contract(
    pf: Portfolio, r: BatchResult, threshold: float, providers: list[str]
) -> list[ContractOutlook]:
    committed = pf.committed_by_contract
    be = break_even(pf, r)
    out = []
    for c, name in enumerate(pf.contracts):
        util = r.contract_useful[:, c] / committed[c] if committed[c] > 0 else np.ones(r.size)
        share = committed[c] / max(1e-9, committed.sum())
        out.append(
            ContractOutlook(
                contract=name,
                provider=providers[c],
                committed_usd=float(committed[c]),
                expected_spend_usd=float(r.contract_cost[:, c].mean()),
                spend_usd=spread(r.contract_cost[:, c]),
                cvar95_spend_usd=cvar(r.contract_cost[:, c]),
                expected_stranded_usd=float(r.contract_stranded[:, c].mean()),
                stranded_usd=spread(r.contract_stranded[:, c]),
                p_stranded_over_threshold=float(
                    np.mean(r.contract_stranded[:, c] > threshold * share)
                ),
                expected_utilisation=float(np.mean(np.minimum(util, 1.0))),
                break_even_utilisation=float(be[c]),
                p_below_break_even=float(np.mean(util < be[c])),
            )
        )
    return out


def per_year(pf: Portfolio, r: BatchResult, u: Uncertainty) -> list[YearOutlook]:
    caps = {f.year: f.usd for f in u.funding}
    committed = pf.committed_by_year
    out = []
    for y, year in enumerate(pf.years):
        x = r.year_cost[:, y]
        cap = caps.get(year)
        out.append(
            YearOutlook(
                year=year,
                committed_usd=float(committed[y]),
                spend_usd=spread(x),
                funding_cap_usd=cap,
                p_over_funding=None if cap is None else float(np.mean(x > cap)),
                expected_over_funding_usd=None
                if cap is None
                else float(np.mean(np.maximum(0.0, x - cap))),
            )
        )
    return out
