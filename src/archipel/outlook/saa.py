"""Choosing commitments: a two-stage stochastic program by sample-average approximation.

First stage: q[k] ≥ 0, the list-price spend each contract year k commits to cover, at
(1 − d_k) per USD (its commitment is (1 − d_k) · q[k], paid whether used or not). Second stage,
per scenario s: the contract year's in-scope list spend W[s, k] (the portfolio evaluation's,
:mod:`archipel.outlook.evaluate`) beyond q[k] pays list price: y[s, k] ≥ W[s, k] − q[k]. These
are savings-plan terms (the discount on spend up to the commitment, list beyond), the trade
every cloud commitment recommender sizes. A savings plan's years share one hourly rate. Spend
outside every contract's scope is the same whatever is committed: a constant c[s].

    minimise  (1 − β) · E_s[cost_s] + β · CVaR_α(cost_s)
    cost_s = c[s] + Σ_k ((1 − d_k) q[k] + y[s, k])
    CVaR_α = η + 1 / ((1 − α) N) Σ_s z[s],  z[s] ≥ cost_s − η,  z ≥ 0

The extensive form is built as arrays (:class:`archipel.plan.lp.program.LPBuilder`) and solved
by HiGHS in one hand-off. With β = 0 it separates by contract year into newsvendor problems:
q[k] is the (1 − (1 − d_k)) = d_k quantile of W[·, k]. Carry-over, yearly maxima and discount
tiers are left out of this model (they are in the evaluation of a fixed portfolio).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.errors import SolverError
from archipel.plan.lp.program import LinearProgram, LPBuilder
from archipel.plan.solvers.highs import Outcome, solve

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Terms:
    """What the stochastic program needs of the contract years."""

    discount: FloatArray  # [K] d_k
    hours: FloatArray  # [K] inside the horizon
    group: IntArray  # [K] savings-plan id (years sharing one hourly rate), -1: free per year


@dataclass(frozen=True)
class SaaSolution:
    q: FloatArray  # [K]
    objective_usd: float  # of the sample (the constant included)
    seconds: float


def build_extensive(
    w: FloatArray, const: FloatArray, terms: Terms, cvar_weight: float = 0.0, alpha: float = 0.95
) -> LinearProgram:
    """The extensive form for scenarios ``w[N, K]`` (equal weights) as one linear program."""
    N, K = w.shape
    beta = float(cvar_weight)
    b = LPBuilder()
    unit = 1.0 - terms.discount
    q = b.add_vars("commitment-covered-usd", K, cost=(1.0 - beta) * unit)
    y = b.add_vars("spend-over-commitment-usd", N * K, cost=(1.0 - beta) / N)
    rows = np.repeat(np.arange(N * K), 2)
    cols = np.empty(2 * N * K, dtype=np.int64)
    cols[0::2] = y.cols()
    cols[1::2] = q.cols(np.tile(np.arange(K), N))
    b.add_rows(
        "scenario-spend-over-commitment-lower",
        N * K,
        rows,
        cols,
        np.tile([1.0, 1.0], N * K),
        w.ravel(),
        np.inf,
        lambda r: [f"s{int(i) // K}/k{int(i) % K}" for i in r],
        "y[s,k] + q[k] ≥ W[s,k]: list spend beyond the commitment",
    )
    b.offset = float((1.0 - beta) * const.mean())
    if beta > 0:
        eta = b.add_vars("cvar-threshold-usd", 1, cost=beta, lower=-np.inf)
        z = b.add_vars("cvar-excess-usd", N, cost=beta / ((1.0 - alpha) * N))
        # z[s] − Σ_k y[s,k] − Σ_k unit_k q[k] + η ≥ c[s]
        r = np.concatenate(
            [np.arange(N), np.repeat(np.arange(N), K), np.repeat(np.arange(N), K), np.arange(N)]
        )
        c = np.concatenate(
            [z.cols(), y.cols(), q.cols(np.tile(np.arange(K), N)), np.repeat(eta.start, N)]
        )
        v = np.concatenate([np.ones(N), -np.ones(N * K), -np.tile(unit, N), np.ones(N)])
        b.add_rows(
            "scenario-cvar-excess-lower",
            N,
            r,
            c,
            v,
            const,
            np.inf,
            lambda rr: [f"s{int(i)}" for i in rr],
            "z[s] ≥ cost_s − η",
        )
    # a savings plan: one hourly commitment over its years, (1 − d) q[k] / h[k] equal
    pairs = [
        (a, bb)
        for g in np.unique(terms.group[terms.group >= 0])
        for a, bb in zip(
            np.flatnonzero(terms.group == g)[:-1], np.flatnonzero(terms.group == g)[1:], strict=True
        )
    ]
    if pairs:
        P = len(pairs)
        pa = np.array([p[0] for p in pairs])
        pb = np.array([p[1] for p in pairs])
        b.add_rows(
            "savings-plan-hourly-equal",
            P,
            np.repeat(np.arange(P), 2),
            np.ravel(np.column_stack([q.cols(pa), q.cols(pb)])),
            np.ravel(np.column_stack([unit[pa] / terms.hours[pa], -unit[pb] / terms.hours[pb]])),
            0.0,
            0.0,
            lambda rr: [f"plan/{int(i)}" for i in rr],
            "one hourly rate over a savings plan's years",
        )
    return b.build()


def solve_saa(
    w: FloatArray, const: FloatArray, terms: Terms, cvar_weight: float = 0.0
) -> SaaSolution:
    """The SAA answer on scenarios ``w``; a solver failure is a :class:`SolverError`."""
    lp = build_extensive(w, const, terms, cvar_weight)
    sol = solve(lp, integer=False)
    if sol.outcome != Outcome.OPTIMAL or sol.x is None or sol.objective is None:
        raise SolverError(
            f"the stochastic program ended {sol.message!r}; this is a bug in Archipel"
        )
    K = w.shape[1]
    return SaaSolution(np.maximum(sol.x[:K], 0.0), float(sol.objective), sol.seconds)


def scenario_cost(q: FloatArray, w: FloatArray, const: FloatArray, terms: Terms) -> FloatArray:
    """cost_s of commitments ``q`` on scenarios ``w`` (second stage solved in closed form)."""
    over: FloatArray = np.maximum(w - q[None, :], 0.0).sum(axis=1)
    return const + float(((1.0 - terms.discount) * q).sum()) + over


def scenario_stranded(q: FloatArray, w: FloatArray, terms: Terms) -> FloatArray:
    """Commitment paid for and not used: Σ_k (1 − d_k) · max(0, q[k] − W[s, k])."""
    out: FloatArray = (np.maximum(q[None, :] - w, 0.0) * (1.0 - terms.discount)[None, :]).sum(
        axis=1
    )
    return out


def wait_and_see(w: FloatArray, const: FloatArray, terms: Terms) -> float:
    """E_s[min_q cost_s]: each scenario commits exactly its own spend (perfect information)."""
    return float((const + (w * (1.0 - terms.discount)[None, :]).sum(axis=1)).mean())
