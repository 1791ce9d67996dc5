"""Traffic ramps and migration limits: rows on the base flows of a service per provider.

A provider's flow of service s in period t, ``F[s,p,t]``, sums the base flows (every request
class and geography; not the failure scenarios' flows) into the provider's regions; the demand
rows make ``Σ_p F[s,p,t] = D[s,t]``, the service's total peak demand, so F / D is the provider's
share of the service (docs/semantics.md, "Traffic ramps" and "Migration limits").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import IntArray, Labeler, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells
from archipel.plan.lp.windows import ramp_bounds
from archipel.spec.models import MigrationLimitRule, TrafficRampRule

FloatArray = NDArray[np.float64]


def _provider_of_flows(prob: Problem, cells: ServingCells, fi: IntArray) -> IntArray:
    """[flows] index into ``prob.providers`` of each base flow's region."""
    reg_p = np.array(
        [prob.providers.index(r.split(":", 1)[0]) for r in prob.regions], dtype=np.int64
    )
    return reg_p[cells.f_r[fi]]


def _period_labeler(prefix: str, labels: list[str], ts: IntArray) -> Labeler:
    return lambda rows: [f"{prefix}/{labels[ts[i]]}" for i in rows]


def _key_labeler(
    svc: list[str],
    providers: tuple[str, ...],
    labels: list[str],
    key: tuple[IntArray, IntArray, IntArray],
) -> Labeler:
    ks, kp, kt = key
    return lambda rows: [f"{svc[ks[i]]}/{providers[kp[i]]}/{labels[kt[i]]}" for i in rows]


def add_traffic_ramps(
    b: LPBuilder, prob: Problem, cells: ServingCells, f: VarBlock, fi: IntArray
) -> None:
    """Per traffic ramp and period with demand, the step in force at the period's start:

    provider-ramp-share-lower:  F[s,p,t] ≥ min_share_t · D[s,t]   (where min_share_t > 0)
    provider-ramp-share-upper:  F[s,p,t] ≤ max_share_t · D[s,t]   (where max_share_t < 1)

    A lower row without a flow (no allowed region of the provider in the period) stays, empty:
    the spec is infeasible, and the elastic diagnosis names the ramp.
    """
    spec = prob.inputs.spec
    rules = [r for r in spec.rules if isinstance(r, TrafficRampRule)]
    if not rules:
        return
    svc_ids = [s.id for s in spec.services]
    labels_p = [p.label for p in prob.inputs.periods]
    total = cells.demand.sum(axis=1)  # [S, T]
    fs, ft, fp = cells.f_s[fi], cells.f_t[fi], _provider_of_flows(prob, cells, fi)
    for rule in rules:
        if rule.service not in svc_ids:
            continue  # spec/check_ramps.py reports it
        s = svc_ids.index(rule.service)
        p = prob.providers.index(rule.provider) if rule.provider in prob.providers else -1
        lo, hi = ramp_bounds(prob.inputs.periods, rule.steps)
        mine = np.flatnonzero((fs == s) & (fp == p))
        has = total[s] > 0
        for family, ts, lower, upper, word in (
            ("provider-ramp-share-lower", np.flatnonzero(has & (lo > 0)), lo, None, "at least"),
            ("provider-ramp-share-upper", np.flatnonzero(has & (hi < 1)), None, hi, "at most"),
        ):
            sel = mine[np.isin(ft[mine], ts)]
            b.add_rows(
                family,
                ts.size,
                np.searchsorted(ts, ft[sel]),
                f.cols(sel),
                1.0,
                -np.inf if lower is None else lower[ts] * total[s, ts],
                np.inf if upper is None else upper[ts] * total[s, ts],
                _period_labeler(f"{rule.service}/{rule.provider}", labels_p, ts),
                f"requests/s of a service on a provider, {word} the traffic ramp's share of "
                "its demand",
            )


def add_migration_limits(
    b: LPBuilder, prob: Problem, cells: ServingCells, f: VarBlock, fi: IntArray
) -> None:
    """Per migration limit, service, provider and period t whose period t − 1 also has demand,
    with r = D[s,t] / D[s,t−1] (shares F / D, scaled by D[s,t]):

    provider-share-gain-upper:  F[s,p,t] − r · F[s,p,t−1] ≤ max_shift · D[s,t]
    provider-share-loss-upper:  r · F[s,p,t−1] − F[s,p,t] ≤ max_shift · D[s,t]

    A period without demand has no shares: the limit does not reach across it.
    """
    spec = prob.inputs.spec
    rules = [r for r in spec.rules if isinstance(r, MigrationLimitRule)]
    if not rules or fi.size == 0:
        return
    svc_ids = [s.id for s in spec.services]
    labels_p = [p.label for p in prob.inputs.periods]
    T, P = prob.num_periods, len(prob.providers)
    total = cells.demand.sum(axis=1)  # [S, T]
    # pair[s, t]: periods t − 1 and t both have demand, r[s, t] = D[s,t] / D[s,t−1]
    pair = np.zeros(total.shape, dtype=bool)
    pair[:, 1:] = (total[:, 1:] > 0) & (total[:, :-1] > 0)
    ratio = np.ones(total.shape)
    ratio[:, 1:] = np.divide(
        total[:, 1:], total[:, :-1], out=np.ones_like(total[:, 1:]), where=pair[:, 1:]
    )
    fs, ft, fp = cells.f_s[fi], cells.f_t[fi], _provider_of_flows(prob, cells, fi)
    cols = f.cols()
    for rule in rules:
        chosen = np.array([rule.services is None or s in rule.services for s in svc_ids], bool)
        # each flow is in the row of its own period (coefficient 1) and of the next (− r)
        now = np.flatnonzero(chosen[fs] & pair[fs, ft])
        nxt = np.flatnonzero(chosen[fs] & pair[fs, np.minimum(ft + 1, T - 1)] & (ft + 1 < T))
        key_now = (fs[now] * P + fp[now]) * T + ft[now]
        key_nxt = (fs[nxt] * P + fp[nxt]) * T + ft[nxt] + 1
        keys, inv = np.unique(np.concatenate([key_now, key_nxt]), return_inverse=True)
        ks, rest = np.divmod(keys, P * T)
        kp, kt = np.divmod(rest, T)
        coef = np.concatenate([np.ones(now.size), -ratio[fs[nxt], ft[nxt] + 1]])
        rhs = rule.max_shift * total[ks, kt]
        col = np.concatenate([cols[now], cols[nxt]])
        for family, sign, word in (
            ("provider-share-gain-upper", 1.0, "onto"),
            ("provider-share-loss-upper", -1.0, "off"),
        ):
            b.add_rows(
                family,
                keys.size,
                inv,
                col,
                sign * coef,
                -np.inf,
                rhs,
                _key_labeler(svc_ids, prob.providers, labels_p, (ks, kp, kt)),
                f"share of a service's demand moved {word} a provider since the period before, "
                f"at most the migration limit's max_shift ({rule.max_shift:g})",
            )
