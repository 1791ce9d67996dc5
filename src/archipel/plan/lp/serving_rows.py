"""Serving constraint families, shared by the base case and every failure scenario."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import IntArray, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells

BoolArray = NDArray[np.bool_]


def _expand_classes(cells: ServingCells, f_s: IntArray) -> tuple[IntArray, IntArray]:
    """For each flow cell, one entry per class of its service: (flow position, global class)."""
    S = int(cells.demand.shape[0])
    counts_s = np.bincount(cells.class_service, minlength=S)
    start_s = np.concatenate([[0], np.cumsum(counts_s)[:-1]])
    counts = counts_s[f_s]
    rep = np.repeat(np.arange(f_s.size), counts)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rep, start_s[f_s[rep]] + offs


def add_serving(
    b: LPBuilder,
    prob: Problem,
    cells: ServingCells,
    n: VarBlock,
    fraction: NDArray[np.float64],
    keep_f: BoolArray,
    keep_l: BoolArray,
    tag: str,
) -> tuple[VarBlock, VarBlock]:
    """Flows and class loads that serve ``fraction[s]`` of each service's demand.

    service-demand-equal:   Σ_r f[s,g,r,t] = fraction_s · D[s,g,t]
    region-class-balance:   Σ_{o∈r} l[s,c,o,t] − share_c · Σ_g f[s,g,r,t] ≥ 0
    offering-load-upper:    Σ_c l[s,c,o,t] / rate_c(o) − n[s,o,t] ≤ 0
    """
    T = prob.num_periods
    G = max(len(cells.geographies), 1)
    R = max(len(prob.regions), 1)
    fi = np.nonzero(keep_f)[0]
    li = np.nonzero(keep_l)[0]
    f = b.add_vars(f"flow{tag}", fi.size)
    ld = b.add_vars(f"load{tag}", li.size)
    f_s, f_g, f_r, f_t = cells.f_s[fi], cells.f_g[fi], cells.f_r[fi], cells.f_t[fi]

    # demand rows over (s, g, t) with required demand
    need = cells.demand * fraction[:, None, None]
    ds, dg, dt_ = np.nonzero(need > 0)
    dkeys = (ds * G + dg) * T + dt_
    frow = np.searchsorted(dkeys, (f_s * G + f_g) * T + f_t)
    geos, labels_p = cells.geographies, [p.label for p in prob.inputs.periods]
    svc_ids = [s.id for s in prob.inputs.spec.services]

    def demand_label(rows: IntArray) -> list[str]:
        return [f"{svc_ids[ds[i]]}/{geos[dg[i]]}/{labels_p[dt_[i]]}" for i in rows]

    b.add_rows(
        f"service-demand-equal{tag}",
        dkeys.size,
        frow,
        f.cols(),
        1.0,
        need[ds, dg, dt_],
        need[ds, dg, dt_],
        demand_label,
        "requests/s of a service from a geography that must be served"
        + (f" when {tag[1:]} is lost" if tag else ""),
    )

    # class balance rows over (class, region, period)
    l_cell = cells.l_cell[li]
    l_cls = cells.l_class[li]
    l_key = (l_cls * R + prob.off_region[cells.n_o[l_cell]]) * T + cells.n_t[l_cell]
    rep, f_cls = _expand_classes(cells, f_s)
    f_key = (f_cls * R + f_r[rep]) * T + f_t[rep]
    keys, inv = np.unique(np.concatenate([l_key, f_key]), return_inverse=True)
    cols = np.concatenate([ld.cols(), f.cols(rep)])
    coefs = np.concatenate([np.ones(li.size), -cells.class_share[f_cls]])
    k_cls, rest = np.divmod(keys, R * T)
    k_r, k_t = np.divmod(rest, T)

    def balance_label(rows: IntArray) -> list[str]:
        return [
            f"{cells.class_names[k_cls[i]]}/{prob.regions[k_r[i]]}/{labels_p[k_t[i]]}" for i in rows
        ]

    b.add_rows(
        f"region-class-balance{tag}",
        keys.size,
        inv,
        cols,
        coefs,
        0.0,
        np.inf,
        balance_label,
        "class loads placed on a region's offerings cover the flows into it",
    )

    # capacity rows over node cells carrying loads
    cap_cells, cinv = np.unique(l_cell, return_inverse=True)
    rows = np.concatenate([cinv, np.arange(cap_cells.size)])
    cols = np.concatenate([ld.cols(), n.cols(cap_cells)])
    coefs = np.concatenate([cells.l_inv_rate[li], -np.ones(cap_cells.size)])
    offer_ids = prob.inputs.keys

    def cap_label(rows_: IntArray) -> list[str]:
        return [
            f"{svc_ids[cells.n_s[cap_cells[i]]]}/{offer_ids[cells.n_o[cap_cells[i]]]}/"
            f"{labels_p[cells.n_t[cap_cells[i]]]}"
            for i in rows_
        ]

    b.add_rows(
        f"offering-load-upper{tag}",
        cap_cells.size,
        rows,
        cols,
        coefs,
        -np.inf,
        0.0,
        cap_label,
        "the nodes of a service on an offering carry its class loads",
    )
    return f, ld
