"""Families that span workloads: offering and provider capacity, contracts, diversification,
minimum providers. Each takes the node columns of every workload as one concatenated view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.contracts import ContractColumns
from archipel.plan.lp.problem import Problem, limits
from archipel.plan.lp.program import IntArray, Labeler, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells
from archipel.plan.lp.windows import limit_schedule
from archipel.spec.models import DiversificationRule, MinProvidersRule

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NodeView:
    """Every node column (service units and training nodes) with its offering, period, nodes
    per column unit and list-price cost per column unit."""

    col: IntArray
    o: IntArray
    t: IntArray
    w: IntArray  # workload: services first, then training jobs
    nodes: FloatArray
    cost: FloatArray  # list price: contract discounts come from the contract columns


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


def add_diversification(
    b: LPBuilder, prob: Problem, v: NodeView, k: ContractColumns | None = None
) -> None:
    """provider-spend-share-upper: spend_p − share · Σ spend ≤ share · fixed − fixed_p.

    A provider's spend is its list-price node spend, less the contract discounts it gives, plus
    the shortfall billed under its contracts."""
    rules = [r for r in prob.inputs.spec.rules if isinstance(r, DiversificationRule)]
    if not rules:
        return
    share = min(r.max_share for r in rules)
    P = len(prob.providers)
    off_p = prob.off_provider
    fixed_p = np.bincount(off_p, weights=prob.inputs.reserved_fixed_usd.sum(axis=1), minlength=P)
    p_of, cols, cost = off_p[v.o], v.col, v.cost
    if k is not None and k.terms:
        contracts = prob.inputs.spec.contracts
        term_p = np.array(
            [prob.providers.index(contracts[x.contract].provider) for x in k.terms],
            dtype=np.int64,
        )
        p_of = np.concatenate([p_of, term_p[k.tier_term], term_p])
        cols = np.concatenate([cols, k.tier.cols(), k.shortfall.cols()])
        cost = np.concatenate([cost, -k.tier_discount, np.ones(len(k.terms))])
    rows = np.concatenate([p_of, np.repeat(np.arange(P), cols.size)])
    all_cols = np.concatenate([cols, np.tile(cols, P)])
    coefs = np.concatenate([cost, np.tile(-share * cost, P)])
    b.add_rows(
        "provider-spend-share-upper",
        P,
        rows,
        all_cols,
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
