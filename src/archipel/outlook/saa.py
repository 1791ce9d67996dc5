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
by HiGHS in one hand-off. Beyond ``EXTENSIVE_MAX_COLUMNS`` (and for β = 0) the L-shaped method
(Van Slyke and Wets) solves it instead: a master over q with one cut per contract year and
iteration, θ[k] ≥ Q_k(q^j) + g_jk (q[k] − q^j[k]), where the recourse Q_k(q) = mean_s (W[s,k] −
q[k])+ and its subgradient g_k = −share of scenarios with W[s,k] > q[k] come in closed form
(the second stage of a scenario is y = (W − q)+), until the master's bound meets the best
point's cost. With β = 0 it separates by contract year into newsvendor problems:
q[k] is the (1 − (1 − d_k)) = d_k quantile of W[·, k]. Carry-over, yearly maxima and discount
tiers are left out of this model (they are in the evaluation of a fixed portfolio).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from archipel.errors import SolverError
from archipel.plan.lp.program import LinearProgram, LPBuilder, VarBlock
from archipel.plan.solvers.highs import Outcome, solve

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Terms:
    """What the stochastic program needs of the contract years."""

    discount: FloatArray  # [K] d_k
    hours: FloatArray  # [K] inside the horizon
    group: IntArray  # [K] savings-plan id (years sharing one hourly rate), -1: free per year


EXTENSIVE_MAX_COLUMNS = 2_000_000
CAP_TIME_LIMIT_S = 60.0


@dataclass(frozen=True)
class StrandingCap:
    """P(stranded > threshold_usd) ≤ max_probability: a chance constraint, one binary per
    scenario (z[s] = 1 lets scenario s strand more), Σ z ≤ ⌊max_probability · N⌋, and
    Σ_k u[s,k] ≤ threshold + M z[s], u[s,k] ≥ (1 − d_k)(q[k] − W[s,k]), u ≥ 0, with q[k] at
    most the sample's largest W[·,k] and M[s] the most scenario s can then strand. Solved as a
    MIP with a time limit (``CAP_TIME_LIMIT_S``): the method says when it stopped there."""

    threshold_usd: float
    max_probability: float


@dataclass(frozen=True)
class SaaSolution:
    q: FloatArray  # [K]
    objective_usd: float  # of the sample (the constant included)
    seconds: float
    method: str = "extensive form"
    iterations: int = 1


def build_extensive(
    w: FloatArray,
    const: FloatArray,
    terms: Terms,
    cvar_weight: float = 0.0,
    alpha: float = 0.95,
    cap: StrandingCap | None = None,
) -> LinearProgram:
    """The extensive form for scenarios ``w[N, K]`` (equal weights) as one linear program (a
    mixed-integer one with a stranding cap)."""
    N, K = w.shape
    beta = float(cvar_weight)
    b = LPBuilder()
    unit = 1.0 - terms.discount
    top = w.max(axis=0) if N else np.zeros(K)
    q = b.add_vars(
        "commitment-covered-usd", K, cost=(1.0 - beta) * unit, upper=top if cap else np.inf
    )
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
    _tie_savings_plans(b, q, unit, terms)
    if cap is not None:
        _cap_stranding(b, q, w, unit, top, cap)
    return b.build()


def _cap_stranding(
    b: LPBuilder, q: VarBlock, w: FloatArray, unit: FloatArray, top: FloatArray, cap: StrandingCap
) -> None:
    """The chance constraint of :class:`StrandingCap`, as rows."""
    N, K = w.shape
    u = b.add_vars("stranded-usd", N * K)
    z = b.add_vars("scenario-may-strand", N, upper=1.0, integer=True)
    # u[s,k] − unit_k q[k] ≥ −unit_k W[s,k]
    b.add_rows(
        "scenario-stranded-lower",
        N * K,
        np.repeat(np.arange(N * K), 2),
        np.ravel(np.column_stack([u.cols(), q.cols(np.tile(np.arange(K), N))])),
        np.ravel(np.column_stack([np.ones(N * K), -np.tile(unit, N)])),
        -(w * unit[None, :]).ravel(),
        np.inf,
        lambda r: [f"s{int(i) // K}/k{int(i) % K}" for i in r],
        "u[s,k] ≥ (1 − d_k)(q[k] − W[s,k])",
    )
    # the most scenario s can strand with q ≤ top: a big-M as small as it can be
    big = (np.maximum(top[None, :] - w, 0.0) * unit[None, :]).sum(axis=1) + 1.0
    # Σ_k u[s,k] − M[s] z[s] ≤ threshold
    b.add_rows(
        "scenario-stranded-upper",
        N,
        np.concatenate([np.repeat(np.arange(N), K), np.arange(N)]),
        np.concatenate([u.cols(), z.cols()]),
        np.concatenate([np.ones(N * K), -big]),
        -np.inf,
        cap.threshold_usd,
        lambda r: [f"s{int(i)}" for i in r],
        "Σ_k u[s,k] ≤ threshold + M z[s]",
    )
    b.add_rows(
        "scenarios-stranding-count-upper",
        1,
        np.zeros(N, dtype=np.int64),
        z.cols(),
        1.0,
        -np.inf,
        float(np.floor(cap.max_probability * N + 1e-9)),
        lambda r: ["all"],
        "Σ z[s] ≤ ⌊max_probability · N⌋",
    )


def _tie_savings_plans(b: LPBuilder, q: VarBlock, unit: FloatArray, terms: Terms) -> None:
    """A savings plan: one hourly commitment over its years, (1 − d) q[k] / h[k] equal."""
    pairs = [
        (a, c)
        for grp in np.unique(terms.group[terms.group >= 0])
        for a, c in pairwise(np.flatnonzero(terms.group == grp))
    ]
    if not pairs:
        return
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


def solve_saa(
    w: FloatArray,
    const: FloatArray,
    terms: Terms,
    cvar_weight: float = 0.0,
    method: Literal["auto", "extensive", "lshaped"] = "auto",
    cap: StrandingCap | None = None,
) -> SaaSolution:
    """The SAA answer on scenarios ``w``: the extensive form while it has at most
    ``EXTENSIVE_MAX_COLUMNS`` columns (or with a CVaR weight or a stranding cap), else the
    L-shaped method; a solver failure is a :class:`SolverError`. Money is handed to the solver
    in units of the sample's mean spend (flagship figures are 10^10 USD), and scaled back."""
    big = w.size > EXTENSIVE_MAX_COLUMNS
    simple = cvar_weight == 0.0 and cap is None
    if method == "lshaped" or (method == "auto" and big and simple):
        if not simple:
            raise ValueError(
                "the L-shaped method here is for expected cost (no CVaR weight, no stranding cap)"
            )
        return solve_lshaped(w, const, terms)
    unit_usd = float(np.abs(w).mean()) if w.size and np.abs(w).mean() > 0 else 1.0
    scaled_cap = (
        StrandingCap(cap.threshold_usd / unit_usd, cap.max_probability) if cap is not None else None
    )
    lp = build_extensive(w / unit_usd, const / unit_usd, terms, cvar_weight, cap=scaled_cap)
    if cap is None:
        sol = solve(lp, integer=False)
        ok = sol.outcome == Outcome.OPTIMAL
    else:
        sol = solve(lp, integer=True, mip_rel_gap=1e-4, time_limit_s=CAP_TIME_LIMIT_S)
        ok = sol.outcome in (Outcome.OPTIMAL, Outcome.FEASIBLE)
    if not ok or sol.x is None or sol.objective is None:
        raise SolverError(
            f"the stochastic program ended {sol.message!r}; this is a bug in Archipel"
        )
    K = w.shape[1]
    name = "extensive form"
    if cap is not None:
        name += " with a stranding cap (MIP" + (
            ")" if sol.outcome == Outcome.OPTIMAL else f", stopped at {CAP_TIME_LIMIT_S:g} s)"
        )
    q = np.maximum(sol.x[:K], 0.0) * unit_usd
    return SaaSolution(q, float(sol.objective) * unit_usd, sol.seconds, name)


def _recourse(q: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Q_k(q) = mean_s (W[s,k] − q[k])+ and a subgradient, −share of W[s,k] > q[k]."""
    over = w - q[None, :]
    value: FloatArray = np.maximum(over, 0.0).mean(axis=0)
    slope: FloatArray = -(over > 0).mean(axis=0)
    return value, slope


def solve_lshaped(
    w: FloatArray, const: FloatArray, terms: Terms, rel_tol: float = 1e-9, max_iter: int = 500
) -> SaaSolution:
    """The L-shaped method (multi-cut: one cut per contract year and iteration) for β = 0."""
    started = time.perf_counter()
    K = w.shape[1]
    unit = 1.0 - terms.discount
    top = w.max(axis=0)  # committing beyond the largest spend only adds cost
    cuts_q: list[FloatArray] = []
    cuts_v: list[FloatArray] = []
    cuts_g: list[FloatArray] = []
    q = np.zeros(K)
    best_q, best = q, np.inf
    lower = -np.inf
    iterations, converged = 0, False
    while iterations < max_iter:
        iterations += 1
        value, slope = _recourse(q, w)
        cost = float(unit @ q + value.sum())
        if cost < best:
            best, best_q = cost, q
        if best - lower <= rel_tol * max(1.0, abs(best)):
            converged = True
            break
        cuts_q.append(q)
        cuts_v.append(value)
        cuts_g.append(slope)
        q, lower = _master(unit, top, terms, cuts_q, cuts_v, cuts_g)
    name = "L-shaped" if converged else f"L-shaped, stopped after {max_iter} iterations"
    return SaaSolution(
        best_q, best + float(const.mean()), time.perf_counter() - started, name, iterations
    )


def _master(
    unit: FloatArray,
    top: FloatArray,
    terms: Terms,
    cuts_q: list[FloatArray],
    cuts_v: list[FloatArray],
    cuts_g: list[FloatArray],
) -> tuple[FloatArray, float]:
    """min unit·q + Σθ s.t. θ[k] − g_jk q[k] ≥ v_jk − g_jk q^j[k] for every cut j; 0 ≤ q ≤ top."""
    K, J = unit.size, len(cuts_q)
    b = LPBuilder()
    q = b.add_vars("commitment-covered-usd", K, cost=unit, upper=top)
    theta = b.add_vars("recourse-usd", K, cost=1.0)
    g = np.array(cuts_g)  # [J, K]
    rhs = np.array(cuts_v) - g * np.array(cuts_q)
    rows = np.repeat(np.arange(J * K), 2)
    cols = np.ravel(
        np.column_stack([theta.cols(np.tile(np.arange(K), J)), q.cols(np.tile(np.arange(K), J))])
    )
    coefs = np.ravel(np.column_stack([np.ones(J * K), -g.ravel()]))
    b.add_rows(
        "recourse-cut-lower",
        J * K,
        rows,
        cols,
        coefs,
        rhs.ravel(),
        np.inf,
        lambda r: [f"cut{int(i) // K}/k{int(i) % K}" for i in r],
        "θ[k] ≥ Q_k(q^j) + g_jk (q[k] − q^j[k])",
    )
    _tie_savings_plans(b, q, unit, terms)
    sol = solve(b.build(), integer=False)
    if sol.outcome != Outcome.OPTIMAL or sol.x is None or sol.objective is None:
        raise SolverError(f"the L-shaped master ended {sol.message!r}; this is a bug in Archipel")
    return np.clip(sol.x[:K], 0.0, top), float(sol.objective)


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
