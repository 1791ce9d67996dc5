"""Contract families: which spend counts toward which contract year, discounts, commitments.

Spend is grouped by *scope signature* (the set of contracts whose scope covers an offering and a
workload) and period. In each stretch of a period where the same contract years run (a
``Segment``), the list-price spend of a group may be split among its running contracts:

    contract-scope-spend-upper  Σ_c z[g,s,c] ≤ fraction_s · Σ_{e∈g} price_e · x_e
    contract-year-spend-equal   Σ_tier v[τ,i] = Σ_{z of year τ} z
    contract-spend-lower        Σ_i k_i · v[τ,i] + u[τ] + carry[τ] − carry[τ−1] ≥ committed_τ − fixed_τ
    contract-spend-upper        Σ_i v[τ,i] ≤ max_τ

with ``k_i = 1 − d_i`` when spend counts net of discount, 1 when gross. The objective pays list
price on node columns, takes ``d_i`` off per unit of tier ``i`` and pays 1 per unit of billed
shortfall ``u`` (take-or-pay contracts only). Volume tiers whose discount grows with spend are
filled in order by binaries (``tier-order``); the last tier is then capped at
``TIER_SPEND_CAP`` times the contract year's top threshold (docs/semantics.md, "Contracts").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.plan.contract_terms import Segment, YearTerm, scope_masks, segments, year_terms
from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import FloatArray, IntArray, LPBuilder, VarBlock

TIER_SPEND_CAP = 100.0


@dataclass(frozen=True)
class ContractColumns:
    """The contract columns of a model and how to read them back."""

    terms: list[YearTerm]
    entry_group: IntArray  # [E] spend group of each node-view entry, -1 outside every scope
    z: VarBlock  # list-price spend of a group counted toward a contract year
    z_group: IntArray
    z_term: IntArray
    tier: VarBlock  # list-price spend of a contract year in each discount tier
    tier_term: IntArray
    tier_discount: FloatArray
    tier_counted: FloatArray  # what one USD of the tier counts toward the commitment
    shortfall: VarBlock  # one per term; billed when take-or-pay
    carry: VarBlock  # one per term: shortfall moved to the next year
    hourly: VarBlock  # USD/hour committed by each savings plan (sized_by_plan contracts)
    hourly_contract: IntArray  # the contract index of each hourly column


def _groups(
    prob: Problem, o: IntArray, t: IntArray, w: IntArray
) -> tuple[IntArray, list[tuple[int, tuple[int, ...], bool]]]:
    """Group index per entry (-1: no contract covers it) and (period, contracts, of purchases)
    per group."""
    off_ok, wl_ok = scope_masks(prob.inputs)
    E = o.size
    if off_ok.shape[0] == 0 or E == 0:
        return np.full(E, -1, dtype=np.int64), []
    spec = prob.inputs.spec
    # a purchase (w = -1) has no workload: it is in a scope that names none; never in a
    # savings plan's (a reservation is not billed at on-demand rates)
    no_wl = np.array(
        [c.scope.workloads is None and not c.sized_by_plan for c in spec.contracts], dtype=bool
    )
    purchase = w < 0
    cover = off_ok[:, o] & np.where(purchase[None, :], no_wl[:, None], wl_ok[:, np.maximum(w, 0)])
    some = cover.any(axis=0)
    group = np.full(E, -1, dtype=np.int64)
    if not some.any():
        return group, []
    keyed = np.vstack([cover, purchase[None, :]])[:, some]  # purchases in groups of their own
    sigs, sig_of = np.unique(keyed.T, axis=0, return_inverse=True)
    T = prob.num_periods
    keys, inv = np.unique(sig_of.reshape(-1) * T + t[some], return_inverse=True)
    group[some] = inv
    info = []
    for k in keys.tolist():
        s, period = divmod(k, T)
        info.append((period, tuple(np.flatnonzero(sigs[s][:-1]).tolist()), bool(sigs[s][-1])))
    return group, info


def add_contracts(
    b: LPBuilder,
    prob: Problem,
    col: IntArray,
    o: IntArray,
    t: IntArray,
    w: IntArray,
    price: FloatArray,
) -> ContractColumns:
    """The contract families over node-view entries (column, offering, period, workload and
    list price per column unit)."""
    inputs = prob.inputs
    spec = inputs.spec
    terms = year_terms(inputs)
    segs = segments(inputs, terms)
    group, info = _groups(prob, o, t, w)
    by_pt: dict[tuple[str, int], list[tuple[int, Segment]]] = {}
    for si, sg in enumerate(segs):
        by_pt.setdefault((sg.provider, sg.period), []).append((si, sg))
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(info) + 1))

    # z columns and the scope rows, one row per (group, segment)
    z_group, z_term, z_seg, row_of_z = [], [], [], []
    rows_e, cols_e, coef_e = [], [], []
    n_rows = 0
    labels = []
    for g, (period, contracts, _) in enumerate(info):
        provider = spec.contracts[contracts[0]].provider
        members = order[bounds[g] : bounds[g + 1]]
        for si, sg in by_pt.get((provider, period), []):
            running = [i for i in sg.terms if terms[i].contract in contracts]
            if not running:
                continue
            z_group += [g] * len(running)
            z_term += running
            z_seg += [si] * len(running)
            row_of_z += [n_rows] * len(running)
            rows_e.append(np.full(members.size, n_rows))
            cols_e.append(col[members])
            coef_e.append(-sg.fraction * price[members])
            labels.append(f"{provider}/{inputs.periods[period].label}")
            n_rows += 1
    zg = np.array(z_group, dtype=np.int64)
    zt = np.array(z_term, dtype=np.int64)
    z = b.add_vars("contract_spend", zg.size)
    # a reservation bought counts toward a commitment at its own (already discounted) price:
    # it bypasses the discount tiers
    zp = np.array([info[g][2] for g in z_group], dtype=bool)
    zd = np.flatnonzero(~zp)
    zb = np.flatnonzero(zp)
    if n_rows:
        b.add_rows(
            "contract-scope-spend-upper",
            n_rows,
            np.concatenate([np.array(row_of_z, dtype=np.int64), *rows_e]),
            np.concatenate([z.cols(), *cols_e]),
            np.concatenate([np.ones(zg.size), *coef_e]),
            -np.inf,
            0.0,
            lambda r: [labels[i] for i in r],
            "spend counted toward contracts, at most the list-price spend in their scope",
        )

    # tiers, commitments, caps and carry-over per contract year
    tier_term, tier_disc, tier_width, tier_counted = [], [], [], []
    for i, term in enumerate(terms):
        net = spec.contracts[term.contract].counts == "net"
        for width, d in term.tiers:
            tier_term.append(i)
            tier_disc.append(d)
            tier_width.append(width)
            tier_counted.append(1.0 - d if net else 1.0)
    tt = np.array(tier_term, dtype=np.int64)
    td = np.array(tier_disc, dtype=float)
    tw = np.array(tier_width, dtype=float)
    tk = np.array(tier_counted, dtype=float)
    tier = b.add_vars("contract_tier_spend", tt.size, cost=-td, upper=tw)
    n_terms = len(terms)
    names = [f"{spec.contracts[x.contract].id}/year {x.year}" for x in terms]

    def name(r: IntArray) -> list[str]:
        return [names[i] for i in r]

    if n_terms:
        b.add_rows(
            "contract-year-spend-equal",
            n_terms,
            np.concatenate([tt, zt[zd]]),
            np.concatenate([tier.cols(), z.cols(zd)]),
            np.concatenate([np.ones(tt.size), -np.ones(zd.size)]),
            0.0,
            0.0,
            name,
            "spend of a contract year split over its discount tiers",
        )
    _tier_order(b, terms, tier, tt, td, tw, names)
    take = np.array([spec.contracts[x.contract].take_or_pay for x in terms], dtype=bool)
    u = b.add_vars("shortfall", n_terms, cost=1.0, upper=np.where(take, np.inf, 0.0))
    cap = np.array([x.carry_cap_usd for x in terms], dtype=float)
    carry = b.add_vars("carry_over", n_terms, upper=np.where(take, cap, 0.0))
    need = np.array([x.committed_usd - x.reserved_fixed_usd for x in terms], dtype=float)
    sized = np.array([spec.contracts[x.contract].sized_by_plan for x in terms], dtype=bool)
    plans = sorted({x.contract for x in terms if spec.contracts[x.contract].sized_by_plan})
    ub = [spec.contracts[c].max_usd_per_hour for c in plans]
    hourly = b.add_vars(
        "savings_plan_usd_per_hour", len(plans), upper=[np.inf if u is None else u for u in ub]
    )
    plan_of = np.full(len(spec.contracts), -1, dtype=np.int64)
    plan_of[plans] = np.arange(len(plans))
    hours_in = np.array([x.horizon_hours for x in terms], dtype=float)
    s_terms = np.flatnonzero(sized)
    s_cols = hourly.cols(plan_of[[terms[i].contract for i in s_terms]]) if s_terms.size else s_terms
    bind = np.flatnonzero(take & ((need > 0) | (cap > 0) | sized))
    if bind.size:
        pos = np.full(n_terms, -1, dtype=np.int64)
        pos[bind] = np.arange(bind.size)
        prev = np.array([_previous(terms, i) for i in range(n_terms)], dtype=np.int64)
        ti = np.flatnonzero(pos[tt] >= 0)
        bi = zb[pos[zt[zb]] >= 0]
        carried_in = np.flatnonzero((prev >= 0) & (pos >= 0))
        b.add_rows(
            "contract-spend-lower",
            bind.size,
            np.concatenate(
                [pos[tt[ti]], pos[zt[bi]], pos[bind], pos[bind], pos[carried_in], pos[s_terms]]
            ),
            np.concatenate(
                [
                    tier.cols(ti),
                    z.cols(bi),
                    u.cols(bind),
                    carry.cols(bind),
                    carry.cols(prev[carried_in]),
                    s_cols,
                ]
            ),
            np.concatenate(
                [
                    tk[ti],
                    np.ones(bi.size),
                    np.ones(bind.size),
                    np.ones(bind.size),
                    -np.ones(carried_in.size),
                    -hours_in[s_terms],
                ]
            ),
            need[bind],
            np.inf,
            lambda r: [names[i] for i in bind[r]],
            "spend counted in a contract year, plus shortfall billed or carried, covers the "
            "commitment",
        )
    mx = np.array([x.max_usd for x in terms], dtype=float)
    capped = np.flatnonzero(np.isfinite(mx))
    if capped.size:
        pos = np.full(n_terms, -1, dtype=np.int64)
        pos[capped] = np.arange(capped.size)
        ti = np.flatnonzero(pos[tt] >= 0)
        bi = zb[pos[zt[zb]] >= 0]
        b.add_rows(
            "contract-spend-upper",
            capped.size,
            np.concatenate([pos[tt[ti]], pos[zt[bi]]]),
            np.concatenate([tier.cols(ti), z.cols(bi)]),
            1.0,
            -np.inf,
            mx[capped],
            lambda r: [names[i] for i in capped[r]],
            "list-price spend counted in a contract year, at most its maximum",
        )
    if plans:
        _savings_cover(b, prob, terms, segs, z, z_term, z_seg, plans, plan_of, hourly)
    return ContractColumns(
        terms, group, z, zg, zt, tier, tt, td, tk, u, carry, hourly, np.array(plans, np.int64)
    )


def _previous(terms: list[YearTerm], i: int) -> int:
    """Index of the same contract's previous year when it is in the list, else -1."""
    if (
        i > 0
        and terms[i - 1].contract == terms[i].contract
        and terms[i - 1].year == terms[i].year - 1
    ):
        return i - 1
    return -1


def _tier_order(
    b: LPBuilder,
    terms: list[YearTerm],
    tier: VarBlock,
    tt: IntArray,
    td: FloatArray,
    tw: FloatArray,
    names: list[str],
) -> None:
    """tier-order: a tier with a larger discount than the one below fills only once the one
    below is full (binary δ: v[i-1] ≥ width[i-1]·δ, v[i] ≤ width[i]·δ)."""
    rows, cols, coefs, labels = [], [], [], []
    pairs = [i for i in range(1, tt.size) if tt[i] == tt[i - 1] and td[i] > td[i - 1]]
    if not pairs:
        return
    delta = b.add_vars("tier_reached", len(pairs), 0.0, 0.0, 1.0, integer=True)
    for k, i in enumerate(pairs):
        top = terms[int(tt[i])]
        width = tw[i]
        if not np.isfinite(width):
            lows = tw[(tt == tt[i]) & np.isfinite(tw)]
            width = TIER_SPEND_CAP * max(float(lows.sum()), top.committed_usd, 1.0)
        d = int(delta.cols()[k])
        r = 2 * k
        rows += [r, r, r + 1, r + 1]
        cols += [tier.start + i - 1, d, tier.start + i, d]
        coefs += [1.0, -tw[i - 1], 1.0, -width]
        labels += [names[int(tt[i])], names[int(tt[i])]]
    n = 2 * len(pairs)
    lo = np.tile([0.0, -np.inf], len(pairs))
    hi = np.tile([np.inf, 0.0], len(pairs))
    b.add_rows(
        "tier-order",
        n,
        rows,
        cols,
        coefs,
        lo,
        hi,
        lambda r: [labels[i] for i in r],
        "a volume tier is reached only once the tier below is full",
    )


def _savings_cover(
    b: LPBuilder,
    prob: Problem,
    terms: list[YearTerm],
    segs: list[Segment],
    z: VarBlock,
    z_term: list[int],
    z_seg: list[int],
    plans: list[int],
    plan_of: IntArray,
    hourly: VarBlock,
) -> None:
    """savings-plan-cover-upper: per savings plan and stretch of a period (a segment: one year
    of the plan), the list spend it discounts is at most its hourly commitment / (1 − d) times
    the stretch's hours — hour by hour, as the plan is billed, not pooled over a year."""
    inputs = prob.inputs
    spec = inputs.spec
    zt = np.array(z_term, dtype=np.int64)
    zs = np.array(z_seg, dtype=np.int64)
    zc = plan_of[np.array([terms[i].contract for i in z_term], dtype=np.int64)] if zt.size else zt
    mine = np.flatnonzero(zc >= 0)
    S = len(segs)
    keys, inv = np.unique(zc[mine] * S + zs[mine], return_inverse=True)
    kp, ks = np.divmod(keys, S)
    hours = np.array([segs[k].fraction * prob.hours[segs[k].period] for k in ks.tolist()])
    gross_up = np.array([1.0 - spec.contracts[c].tiers()[0][1] for c in plans])
    b.add_rows(
        "savings-plan-cover-upper",
        keys.size,
        np.concatenate([inv.reshape(-1), np.arange(keys.size)]),
        np.concatenate([z.cols(mine), hourly.cols(kp)]),
        np.concatenate([np.ones(mine.size), -hours / gross_up[kp]]),
        -np.inf,
        0.0,
        lambda r: [
            f"{spec.contracts[plans[kp[i]]].id}/{inputs.periods[segs[ks[i]].period].label}"
            for i in r
        ],
        "list spend a savings plan discounts in a stretch of a period, at most its hourly "
        "commitment before discount times the hours",
    )
