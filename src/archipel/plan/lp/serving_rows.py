"""Serving constraint families, shared by the base case and every failure scenario."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import IntArray, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Carriers:
    """The columns that carry requests/s into capacity groups: flows or group loads."""

    col: IntArray
    group: IntArray
    t: IntArray
    cls: IntArray  # global class


def add_serving(
    b: LPBuilder,
    prob: Problem,
    cells: ServingCells,
    n: VarBlock,
    fraction: FloatArray,
    keep_q: BoolArray,
    keep_f: BoolArray,
    tag: str,
    flow_cost: FloatArray | None = None,
) -> tuple[VarBlock, IntArray, Carriers]:
    """Flows and loads that serve ``fraction[s]`` of each class's peak demand on groups ``keep_q``.

    ``flow_cost`` (per flow cell of ``cells``) is the objective coefficient of the flows: their
    network cost in the base case (:mod:`archipel.plan.lp.egress`), none in failure scenarios.

    service-demand-equal:   Σ_r f[s,c,g,r,t] = fraction_s · share_c · D[s,g,t]
    region-class-balance:   Σ_{q∈r} l[s,c,q,t] − Σ_g f[s,c,g,r,t] ≥ 0   (regions with ≥ 2 groups)
    group-load-upper:       Σ_c carried_c / rate_c(q) − Σ_{o∈q} replicas_o · avail_o · n[s,o,t] ≤ 0

    Returns the flow block, the flow cells it covers (indices into ``cells.f_*``) and the carriers.
    """
    T, R = prob.num_periods, max(len(prob.regions), 1)
    S = max(int(cells.demand.shape[0]), 1)
    # active groups per (q, t) and how many groups each block (s, r, t) has
    cell_ok = keep_q[cells.n_group] if cells.n_group.size else np.zeros(0, bool)
    qt = cells.qt[keep_q[cells.qt // T]]  # the groups kept, in every period they have cells
    aq, at = np.divmod(qt, T)
    block_of_qt = (cells.q_s[aq] * R + cells.q_r[aq]) * T + at
    blocks, groups_per_block = np.unique(block_of_qt, return_counts=True)

    cand = np.nonzero(keep_f & (fraction[cells.f_s] > 0))[0]
    f_block = (cells.f_s[cand] * R + cells.f_r[cand]) * T + cells.f_t[cand]
    if blocks.size:  # a flow exists only into a block that keeps some capacity
        pos = np.minimum(np.searchsorted(blocks, f_block), blocks.size - 1)
        has = blocks[pos] == f_block
    else:
        pos = np.zeros(f_block.size, dtype=np.int64)
        has = np.zeros(f_block.size, dtype=bool)
    fi, f_pos = cand[has], pos[has]
    f = b.add_vars(f"flow{tag}", fi.size, 0.0 if flow_cost is None else flow_cost[fi])
    f_c, f_g, f_t = cells.f_c[fi], cells.f_g[fi], cells.f_t[fi]
    f_single = groups_per_block[f_pos] == 1 if fi.size else np.zeros(0, bool)

    _demand_rows(b, prob, cells, fraction, f, f_c, f_g, f_t, tag)

    # single-group blocks: the flows themselves are carried by the block's group
    single_q = np.full(blocks.size, -1, dtype=np.int64)
    one = groups_per_block[np.searchsorted(blocks, block_of_qt)] == 1
    single_q[np.searchsorted(blocks, block_of_qt[one])] = aq[one]
    car_col = [f.cols(np.nonzero(f_single)[0])]
    car_q = [single_q[f_pos[f_single]]]
    car_t = [f_t[f_single]]
    car_c = [f_c[f_single]]

    # multi-group blocks: a load per (class of the service, group, period) and balance rows
    multi = ~one
    mq, mt = aq[multi], at[multi]
    n_cls = np.bincount(cells.class_service, minlength=S)
    first_cls = np.concatenate([[0], np.cumsum(n_cls)[:-1]])
    reps = n_cls[cells.q_s[mq]]
    l_q = np.repeat(mq, reps)
    l_t = np.repeat(mt, reps)
    l_c = first_cls[cells.q_s[l_q]] + (
        np.arange(l_q.size) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    ld = b.add_vars(f"load{tag}", l_q.size)
    if l_q.size:
        fm = np.nonzero(~f_single)[0]
        bal_l = (l_c * R + cells.q_r[l_q]) * T + l_t
        bal_f = (f_c[fm] * R + cells.f_r[fi[fm]]) * T + f_t[fm]
        keys, inv = np.unique(np.concatenate([bal_l, bal_f]), return_inverse=True)
        kc, rest = np.divmod(keys, R * T)
        kr, kt = np.divmod(rest, T)
        labels_p = [p.label for p in prob.inputs.periods]
        b.add_rows(
            f"region-class-balance{tag}",
            keys.size,
            inv,
            np.concatenate([ld.cols(), f.cols(fm)]),
            np.concatenate([np.ones(l_q.size), -np.ones(fm.size)]),
            0.0,
            np.inf,
            lambda rows: [
                f"{cells.class_names[kc[i]]}/{prob.regions[kr[i]]}/{labels_p[kt[i]]}" for i in rows
            ],
            "class loads placed on a region's capacity groups cover the flows into it",
        )
        car_col.append(ld.cols())
        car_q.append(l_q)
        car_t.append(l_t)
        car_c.append(l_c)
    carriers = Carriers(
        col=np.concatenate(car_col).astype(np.int64),
        group=np.concatenate(car_q).astype(np.int64),
        t=np.concatenate(car_t).astype(np.int64),
        cls=np.concatenate(car_c).astype(np.int64),
    )
    _capacity_rows(b, prob, cells, n, carriers, cell_ok, qt, tag)
    return f, fi, carriers


def _demand_rows(
    b: LPBuilder,
    prob: Problem,
    cells: ServingCells,
    fraction: FloatArray,
    f: VarBlock,
    f_c: IntArray,
    f_g: IntArray,
    f_t: IntArray,
    tag: str,
) -> None:
    T = prob.num_periods
    G = max(len(cells.geographies), 1)
    # required requests/s per (class, geography, period)
    need = (
        cells.demand[cells.class_service]
        * (fraction[cells.class_service] * cells.class_share)[:, None, None]
    )
    dc, dg, dt_ = np.nonzero(need > 0)
    dkeys = (dc * G + dg) * T + dt_
    frow = np.searchsorted(dkeys, (f_c * G + f_g) * T + f_t)
    geos, labels_p = cells.geographies, [p.label for p in prob.inputs.periods]

    def label(rows: IntArray) -> list[str]:
        return [f"{cells.class_names[dc[i]]}/{geos[dg[i]]}/{labels_p[dt_[i]]}" for i in rows]

    rhs = need[dc, dg, dt_]
    b.add_rows(
        f"service-demand-equal{tag}",
        dkeys.size,
        frow,
        f.cols(),
        1.0,
        rhs,
        rhs,
        label,
        "peak requests/s of a request class from a geography that must be served"
        + (f" when {tag[1:]} is lost" if tag else ""),
    )


def _capacity_rows(
    b: LPBuilder,
    prob: Problem,
    cells: ServingCells,
    n: VarBlock,
    car: Carriers,
    cell_ok: BoolArray,
    qt: IntArray,
    tag: str,
) -> None:
    T = prob.num_periods
    ci = np.nonzero(cell_ok)[0]
    rate = cells.q_rate[car.group, cells.class_local[car.cls]]
    rows = np.concatenate(
        [
            np.searchsorted(qt, car.group * T + car.t),
            np.searchsorted(qt, cells.n_group[ci] * T + cells.n_t[ci]),
        ]
    )
    cols = np.concatenate([car.col, n.cols(ci)])
    coefs = np.concatenate([1.0 / rate, -cells.n_weight[ci]])
    aq, at = np.divmod(qt, T)
    svc_ids = [s.id for s in prob.inputs.spec.services]
    labels_p = [p.label for p in prob.inputs.periods]

    def label(rows_: IntArray) -> list[str]:
        return [
            f"{svc_ids[cells.q_s[aq[i]]]}/{prob.regions[cells.q_r[aq[i]]]}/"
            f"{cells.q_profile[aq[i]].accelerator}{'/spot' if cells.q_spot[aq[i]] else ''}/"
            f"{labels_p[at[i]]}"
            for i in rows_
        ]

    b.add_rows(
        f"group-load-upper{tag}",
        qt.size,
        rows,
        cols,
        coefs,
        -np.inf,
        0.0,
        label,
        "the replicas of a service's capacity group carry its class loads",
    )


def add_spot_caps(b: LPBuilder, prob: Problem, cells: ServingCells, car: Carriers) -> None:
    """service-spot-share-upper: Σ requests/s carried by spot groups ≤ spot_max_share · D[s,t]."""
    spot = cells.q_spot[car.group]
    if not spot.any():
        return
    T = prob.num_periods
    svc = prob.inputs.spec.services
    s_of = cells.q_s[car.group[spot]]
    keys, inv = np.unique(s_of * T + car.t[spot], return_inverse=True)
    ks, kt = np.divmod(keys, T)
    share = np.array([x.spot_max_share for x in svc], dtype=float)
    total = cells.demand.sum(axis=1)  # [S, T]
    labels_p = [p.label for p in prob.inputs.periods]
    b.add_rows(
        "service-spot-share-upper",
        keys.size,
        inv,
        car.col[spot],
        1.0,
        -np.inf,
        share[ks] * total[ks, kt],
        lambda rows: [f"{svc[ks[i]].id}/{labels_p[kt[i]]}" for i in rows],
        "requests/s a service serves from spot capacity, at most its spot_max_share",
    )
