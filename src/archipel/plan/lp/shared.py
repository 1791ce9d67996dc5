"""Families that span workloads: offering and provider capacity, contracts, diversification,
minimum providers. Each takes the node columns of every workload as one concatenated view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.problem import Problem, limits
from archipel.plan.lp.program import IntArray, Labeler, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells
from archipel.plan.lp.windows import limit_schedule
from archipel.spec.models import DiversificationRule, MinProvidersRule
from archipel.spec.periods import overlap_hours

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NodeView:
    """Every node column (service units and training nodes) with its offering, period, nodes
    per column unit and cost per column unit."""

    col: IntArray
    o: IntArray
    t: IntArray
    nodes: FloatArray
    cost: FloatArray


def add_offering_capacity(b: LPBuilder, prob: Problem, v: NodeView) -> None:
    """offering-nodes-upper: Σ_w nodes[w,o,t] ≤ capacity[o,t] where capacity is finite."""
    cap = prob.inputs.capacity_nodes[v.o, v.t]
    keep = np.isfinite(cap)
    if not keep.any():
        return
    T = prob.num_periods
    keys, inv = np.unique(v.o[keep] * T + v.t[keep], return_inverse=True)
    ko, kt = np.divmod(keys, T)
    ids, labels_p = prob.inputs.keys, [p.label for p in prob.inputs.periods]
    b.add_rows(
        "offering-nodes-upper",
        keys.size,
        inv,
        v.col[keep],
        v.nodes[keep],
        -np.inf,
        prob.inputs.capacity_nodes[ko, kt],
        lambda rows: [f"{ids[ko[i]]}/{labels_p[kt[i]]}" for i in rows],
        "nodes of an offering in a period, at most its capacity",
    )


def add_provider_limits(b: LPBuilder, prob: Problem, v: NodeView) -> None:
    """provider-accelerators-upper: Σ accelerators over matching offerings ≤ limit[t], in the
    periods with a limit (its steps: docs/semantics.md, Capacity over time)."""
    labels_p = [p.label for p in prob.inputs.periods]
    for entity, lim, match in limits(prob):
        _, cap = limit_schedule(prob.inputs.periods, lim)
        ts = np.flatnonzero(np.isfinite(cap))
        keep = match[v.o] & np.isin(v.t, ts)
        b.add_rows(
            "provider-accelerators-upper",
            ts.size,
            np.searchsorted(ts, v.t[keep]),
            v.col[keep],
            prob.off_acc_per_node[v.o[keep]] * v.nodes[keep],
            -np.inf,
            cap[ts],
            _period_labeler(entity, [labels_p[t] for t in ts]),
            "accelerators of a provider (region, type) per period, at most the limit",
        )


def _period_labeler(prefix: str, labels: list[str]) -> Labeler:
    return lambda rows: [f"{prefix}/{labels[i]}" for i in rows]


def _keyed_labeler(names: list[str], keys: IntArray) -> Labeler:
    return lambda rows: [names[keys[i]] for i in rows]


def contract_years(prob: Problem) -> list[tuple[int, int, float, float]]:
    """(contract index, year, committed USD pro rata, reserved fixed USD) per contract and year."""
    spec = prob.inputs.spec
    out = []
    fixed = prob.inputs.reserved_fixed_usd
    ids = {c.id: i for i, c in enumerate(spec.contracts)}
    owner = np.array(
        [ids[c] if c is not None else -1 for c in prob.inputs.reserved_contract], dtype=int
    )
    years = sorted(set(prob.period_year.tolist()))
    for ci, c in enumerate(spec.contracts):
        for y in years:
            in_year = [p for p in prob.inputs.periods if p.year == y]
            hours = sum(overlap_hours(p, c.start, c.end) for p in in_year)
            if hours <= 0:
                continue
            year_hours = (dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days * 24.0
            committed = c.committed_usd_per_year * hours / year_hours
            t_sel = prob.period_year == y
            fixed_cy = float(fixed[owner == ci][:, t_sel].sum()) if (owner == ci).any() else 0.0
            out.append((ci, y, committed, fixed_cy))
    return out


def add_contracts(
    b: LPBuilder, prob: Problem, v: NodeView
) -> tuple[VarBlock, list[tuple[int, int, float, float]]]:
    """contract-spend-lower: Σ spend in scope + shortfall ≥ committed − reserved fixed (take-or-pay)."""
    spec = prob.inputs.spec
    cy = [
        row
        for row in contract_years(prob)
        if spec.contracts[row[0]].take_or_pay and row[2] - row[3] > 1e-9
    ]
    u = b.add_vars("shortfall", len(cy), cost=1.0)
    if not cy:
        return u, cy
    owner = prob.contract_of[v.o, v.t]
    year = prob.period_year[v.t]
    key_of = {(ci, y): k for k, (ci, y, _, _) in enumerate(cy)}
    rows, cols, coefs = [], [], []
    for (ci, y), k in key_of.items():
        sel = np.nonzero((owner == ci) & (year == y))[0]
        rows.append(np.full(sel.size, k))
        cols.append(v.col[sel])
        coefs.append(v.cost[sel])
    n = len(cy)
    names = [f"{spec.contracts[ci].id}/{y}" for ci, y, _, _ in cy]
    b.add_rows(
        "contract-spend-lower",
        n,
        np.concatenate([*rows, np.arange(n)]),
        np.concatenate([*cols, u.cols()]),
        np.concatenate([*coefs, np.ones(n)]),
        np.array([c - f for _, _, c, f in cy]),
        np.inf,
        lambda r: [names[i] for i in r],
        "spend in a contract's scope per year plus billed shortfall covers the commitment",
    )
    return u, cy


def add_diversification(b: LPBuilder, prob: Problem, v: NodeView) -> None:
    """provider-spend-share-upper: spend_p − share · Σ spend ≤ share · fixed − fixed_p."""
    rules = [r for r in prob.inputs.spec.rules if isinstance(r, DiversificationRule)]
    if not rules:
        return
    share = min(r.max_share for r in rules)
    P = len(prob.providers)
    off_p = prob.off_provider
    fixed_p = np.bincount(off_p, weights=prob.inputs.reserved_fixed_usd.sum(axis=1), minlength=P)
    p_of = off_p[v.o]
    rows = np.concatenate([p_of, np.repeat(np.arange(P), v.col.size)])
    cols = np.concatenate([v.col, np.tile(v.col, P)])
    coefs = np.concatenate([v.cost, np.tile(-share * v.cost, P)])
    b.add_rows(
        "provider-spend-share-upper",
        P,
        rows,
        cols,
        coefs,
        -np.inf,
        share * fixed_p.sum() - fixed_p,
        lambda r: [prob.providers[i] for i in r],
        f"a provider's share of spend, at most {share:.0%}",
    )


def add_min_providers(
    b: LPBuilder, prob: Problem, cells: ServingCells, f: VarBlock, fi: IntArray
) -> None:
    """service-providers-lower: per service/period ≥ count providers, each ≥ min_share of demand.

    ``f`` holds the base flows of the cells ``fi``; a provider's share sums its regions' flows of
    every request class."""
    spec = prob.inputs.spec
    rules = [r for r in spec.rules if isinstance(r, MinProvidersRule)]
    P = len(prob.providers)
    svc_ids = [s.id for s in spec.services]
    labels_p = [p.label for p in prob.inputs.periods]
    reg_p = np.array(
        [prob.providers.index(r.split(":", 1)[0]) for r in prob.regions], dtype=np.int64
    )
    for ri, rule in enumerate(rules):
        chosen = [i for i, s in enumerate(svc_ids) if rule.services is None or s in rule.services]
        total = cells.demand.sum(axis=1)  # [S, T]
        for s in chosen:
            sel = cells.f_s[fi] == s
            fp = reg_p[cells.f_r[fi][sel]]
            ft = cells.f_t[fi][sel]
            fcols = f.cols(np.nonzero(sel)[0])
            keys, inv = np.unique(ft * P + fp, return_inverse=True)  # (t, p) with flows
            kt, _kp = np.divmod(keys, P)
            w = b.add_vars(
                f"provider_used/{ri}/{svc_ids[s]}", keys.size, 0.0, 0.0, 1.0, integer=True
            )
            need = rule.min_share * total[s, kt]
            b.add_rows(
                "service-provider-share-lower",
                keys.size,
                np.concatenate([inv, np.arange(keys.size)]),
                np.concatenate([fcols, w.cols()]),
                np.concatenate([np.ones(fcols.size), -need]),
                0.0,
                np.inf,
                _keyed_labeler(
                    [f"{svc_ids[s]}/{p}/{lab}" for lab in labels_p for p in prob.providers], keys
                ),
                "a provider counted as used serves at least the minimum share",
            )
            periods_with = np.nonzero(total[s] > 0)[0]
            prow = np.searchsorted(periods_with, kt)
            ok = np.isin(kt, periods_with)
            b.add_rows(
                "service-providers-lower",
                periods_with.size,
                prow[ok],
                w.cols(np.nonzero(ok)[0]),
                1.0,
                float(rule.count),
                np.inf,
                _keyed_labeler([f"{svc_ids[s]}/{lab}" for lab in labels_p], periods_with),
                f"each service runs on at least {rule.count} providers",
            )
