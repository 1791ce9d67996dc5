"""``archipel outlook --optimize``: the stochastic answer, its value, and baselines beside it.

1. In-sample: N scenarios evaluated on the plan's placement give each contract year's in-scope
   list spend W[s, k] and the spend outside contracts c[s]; :func:`archipel.outlook.saa.
   solve_saa` chooses the commitments.
2. Candidates on the same fresh out-of-sample scenarios: the stochastic answer; the mean-value
   answer (the same program on the mean scenario, i.e. planning on expected demand); the
   commitments as signed in the spec (the deterministic planner's input and choice); the 10th
   percentile of each contract year's spend; and the clouds' style — a flat hourly commitment
   for the whole term that maximises savings on the last 7, 30 or 60 days of usage before the
   contract year the decision is made in (the d-quantile of hourly usage, d the discount).
3. VSS = out-of-sample cost of the mean-value answer − of the stochastic answer; EVPI =
   in-sample cost of the stochastic answer − wait-and-see cost; the optimality gap from
   independent replications (Mak, Morton and Wood 1999) with a one-sided 95 % bound.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from archipel.outlook.evaluate import BatchResult
from archipel.outlook.portfolio import Portfolio
from archipel.outlook.result import Candidate, Gap, Optimization, TermChoice
from archipel.outlook.runner import Progress, RunOptions, run
from archipel.outlook.saa import (
    SaaSolution,
    StrandingCap,
    Terms,
    scenario_cost,
    scenario_stranded,
    solve_saa,
    wait_and_see,
)
from archipel.outlook.stats import cvar
from archipel.spec.uncertainty import Uncertainty

FloatArray = NDArray[np.float64]
SEMANTICS = (
    "savings-plan terms: a contract year's commitment buys its discount on in-scope spend up "
    "to the commitment, list price beyond; paid whether used or not"
)
LOOKBACK_DAYS = (7, 30, 60)


@dataclass(frozen=True)
class OptimizeOptions:
    scenarios: int = 1000  # in-sample N
    out_of_sample: int = 20_000
    replications: int = 10  # for the gap; 0: no gap estimate
    cvar_weight: float = 0.0
    method: Literal["auto", "extensive", "lshaped"] = "auto"
    max_p_stranded: float | None = None  # a cap on P(stranded > threshold) in sample


def terms_of(pf: Portfolio) -> Terms:
    group = np.where(pf.savings_plan, pf.term_contract, -1).astype(np.int64)
    return Terms(discount=pf.term_rates[:, 0].copy(), hours=pf.term_hours.copy(), group=group)


def _sample(r: BatchResult) -> tuple[FloatArray, FloatArray]:
    """(W[s, k], c[s]) of an evaluation."""
    return r.term_list, r.total_cost - r.term_cost.sum(axis=1)


def signed(pf: Portfolio, t: Terms) -> FloatArray:
    """The spec's commitments as covered list spend: committed / (1 − d) when counted net."""
    return np.where(
        pf.term_net, pf.term_committed / np.maximum(1e-12, 1.0 - t.discount), pf.term_committed
    )


def cloud_style(pf: Portfolio, t: Terms, days: int) -> FloatArray:
    """A flat hourly commitment per contract, the savings-maximising one on the last ``days``
    of usage before its first contract year in the horizon (before the horizon: the first
    period's usage traced back along each service's planned growth). Usage at an hour is the
    in-scope list spend × utilisation of its period, grown from the period's end along the
    service's planned growth (capacity is sized for the period's end)."""
    f = pf.frame
    n_svc, T = len(f.services), f.periods
    hours = np.array(
        [(e - s) / dt.timedelta(hours=1) for s, e in zip(f.period_start, f.period_end, strict=True)]
    )
    growth = np.log1p(np.array([*f.plan_growth_pct, 0.0]) / 100.0)
    q = np.zeros(pf.term_committed.size)
    h0 = f.period_start[0]
    for c in range(len(pf.contracts)):
        ks = np.flatnonzero(pf.term_contract == c)
        if not ks.size:
            continue
        decided = max(h0, pf.term_start[ks[0]])
        rate = np.zeros((n_svc + 1, T))
        cells = pf.eligible[c]
        np.add.at(
            rate,
            (pf.cell_service[cells], pf.cell_period[cells]),
            pf.cell_list[cells] * pf.cell_util[cells] / hours[pf.cell_period[cells]],
        )
        when = [decided - dt.timedelta(hours=h) for h in range(1, days * 24 + 1)]
        per = np.array([_period_at(f.period_start, x) for x in when])
        ends = np.array([f.period_end[p] for p in per])
        years = np.array(
            [(x - e) / dt.timedelta(hours=8766.0) for x, e in zip(when, ends, strict=True)]
        )
        usage = (rate[:, per] * np.exp(growth[:, None] * years[None, :])).sum(axis=0)
        hourly = float(np.quantile(usage, t.discount[ks[0]]))
        q[ks] = hourly * t.hours[ks]
    return q


def _period_at(starts: tuple[dt.datetime, ...], x: dt.datetime) -> int:
    k = 0
    for i, s in enumerate(starts):
        if s <= x:
            k = i
    return k


def _child_seeds(seed: int, n: int) -> list[int]:
    return [
        int(s.generate_state(1, np.uint64)[0] >> 1) for s in np.random.SeedSequence(seed).spawn(n)
    ]


def _objective(cost: FloatArray, beta: float) -> float:
    return float((1.0 - beta) * cost.mean() + (beta * cvar(cost) if beta > 0 else 0.0))


def optimize(
    pf: Portfolio,
    u: Uncertainty,
    base: RunOptions,
    opts: OptimizeOptions,
    threshold: float,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> Optimization:
    """Choose commitments by SAA and set them beside the mean-value answer and the baselines."""
    t = terms_of(pf)
    seeds = _child_seeds(base.seed, 2 + opts.replications)
    beta = opts.cvar_weight

    def sample_of(seed: int, n: int) -> tuple[FloatArray, FloatArray]:
        return _sample(run(pf, u, replace(base, scenarios=n, seed=seed), progress))

    if say:
        say(f"evaluating {opts.scenarios:,} in-sample scenarios")
    w, c = sample_of(seeds[0], opts.scenarios)
    cap = StrandingCap(threshold, opts.max_p_stranded) if opts.max_p_stranded is not None else None
    sp: SaaSolution = solve_saa(w, c, t, beta, opts.method, cap)
    ev = solve_saa(w.mean(axis=0, keepdims=True), np.array([c.mean()]), t, 0.0)
    cands: dict[str, FloatArray] = {
        "stochastic (SAA)": sp.q,
        "mean-value plan": ev.q,
        "as signed (deterministic plan)": signed(pf, t),
        "10th percentile of demand": np.percentile(w, 10, axis=0),
    }
    for d in LOOKBACK_DAYS:
        cands[f"clouds' style, last {d} days"] = cloud_style(pf, t, d)

    if say:
        say(f"evaluating {opts.out_of_sample:,} out-of-sample scenarios")
    wo, co = sample_of(seeds[1], opts.out_of_sample)
    figures = []
    costs: dict[str, FloatArray] = {}
    for name, q in cands.items():
        cost = scenario_cost(q, wo, co, t)
        strand = scenario_stranded(q, wo, t)
        costs[name] = cost
        figures.append(
            Candidate(
                name=name,
                commitment_usd=float(((1.0 - t.discount) * q).sum()),
                expected_cost_usd=float(cost.mean()),
                cvar95_usd=cvar(cost),
                expected_stranded_usd=float(strand.mean()),
                p_stranded_over_threshold=float(np.mean(strand > threshold)),
            )
        )
    vss = float(costs["mean-value plan"].mean() - costs["stochastic (SAA)"].mean())
    evpi = float(scenario_cost(sp.q, w, c, t).mean() - wait_and_see(w, c, t))

    gap = None
    if opts.replications >= 2:
        if say:
            say(f"{opts.replications} replications of {opts.scenarios:,} scenarios for the gap")
        vals = []
        for s in seeds[2:]:
            wr, cr = sample_of(s, opts.scenarios)
            vals.append(solve_saa(wr, cr, t, beta, opts.method, cap).objective_usd)
        v = np.array(vals)
        M, N2 = v.size, wo.shape[0]
        lb, s_lb = float(v.mean()), float(v.std(ddof=1))
        ub = _objective(costs["stochastic (SAA)"], beta)
        s_ub = float(costs["stochastic (SAA)"].std(ddof=1))
        tq = float(sps.t.ppf(0.95, M - 1))
        gap = Gap(
            replications=M,
            lower_bound_usd=lb,
            upper_bound_usd=ub,
            gap_usd=ub - lb,
            gap_ci95_usd=max(0.0, ub - lb)
            + tq * s_lb / math.sqrt(M)
            + 1.645 * s_ub / math.sqrt(N2),
        )
    unit = 1.0 - t.discount
    return Optimization(
        method=f"sample-average approximation, {sp.method} ({sp.iterations} master solves)"
        if sp.method.startswith("L-shaped")
        else f"sample-average approximation, {sp.method} (HiGHS)",
        scenarios=opts.scenarios,
        out_of_sample_scenarios=opts.out_of_sample,
        cvar_weight=beta,
        max_p_stranded=opts.max_p_stranded,
        terms_semantics=SEMANTICS,
        candidates=figures,
        terms=[
            TermChoice(
                term=label,
                discount_pct=float(100.0 * t.discount[k]),
                commitments_usd={n: float(unit[k] * q[k]) for n, q in cands.items()},
            )
            for k, label in enumerate(pf.term_label)
        ],
        vss_usd=vss,
        evpi_usd=evpi,
        gap=gap,
        solve_seconds=sp.seconds,
    )
