"""Training jobs: node cells per (job, offering, period) and their constraint families.

A gang that can be built (docs/semantics.md, Training): whole nodes, one accelerator type for
the whole run (and one region when ``single_region``), on instance types with a scale-out fabric
— a node without one can only hold a job whose largest gang fits in that single node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import PurchaseOption
from archipel.perf.training import spot_useful_fraction, work_per_accelerator_hour
from archipel.plan.lp.problem import Problem, limits, window_hours, workload_mask
from archipel.plan.lp.program import IntArray, LPBuilder, VarBlock, concat_float, concat_int
from archipel.plan.lp.windows import limit_schedule

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrainingCells:
    y_j: IntArray
    y_o: IntArray
    y_t: IntArray
    y_hours: FloatArray  # active hours (window overlap)
    y_cost: FloatArray
    y_work: FloatArray  # share of the job's whole work one node does over its active hours
    y_max: FloatArray  # most nodes the cell can usefully hold (work, gang, capacity)
    required: FloatArray  # [J] work in the job's own unit
    window: NDArray[np.bool_]  # [J, T] periods overlapping the job's window


def _off_facts(prob: Problem, j: int) -> tuple[FloatArray, FloatArray]:
    """Per offering: work units per accelerator-hour (0 where not allowed) and useful fraction."""
    job = prob.inputs.spec.training[j]
    allowed = {prob.inputs.accelerator_name(a) or a for a in job.accelerators}
    accs = prob.inputs.accelerators
    rate = np.array(
        [
            work_per_accelerator_hour(job.work, accs[a], accs)
            if a in allowed and a in accs
            else 0.0
            for a in prob.off_accelerator
        ]
    )
    useful = np.array(
        [
            spot_useful_fraction(o.interruptions_per_hour, job.checkpoint_interval_h, job.restart_h)
            if o.purchase_option == PurchaseOption.SPOT
            else 1.0
            for o in prob.inputs.offerings
        ]
    )
    return rate, useful


def _gang_fits(
    prob: Problem, mask: NDArray[np.bool_], gang_min: int, window: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """[O] offerings whose (region, accelerator type) can hold ``gang_min`` accelerators in
    every window period: node capacity summed over the type's offerings there, and every
    provider limit covering them all. A single-region job's gang is one type in one region, so
    a choice that cannot hold it is no choice (this keeps the LP relaxation honest)."""
    inputs = prob.inputs
    T = prob.num_periods
    acc_id = {a: i for i, a in enumerate(sorted(set(prob.off_accelerator)))}
    group = prob.off_region * len(acc_id) + np.array(
        [acc_id[a] for a in prob.off_accelerator], dtype=np.int64
    )
    keys, inv = np.unique(group, return_inverse=True)
    cap = np.where(mask, inputs.capacity_nodes * prob.off_acc_per_node[:, None], 0.0)
    avail = np.zeros((keys.size, T))
    np.add.at(avail, inv, cap)
    sizes = np.bincount(inv, minlength=keys.size)
    for _, lim, covered in limits(prob):
        whole = np.bincount(inv, weights=covered, minlength=keys.size) == sizes
        avail[whole] = np.minimum(avail[whole], limit_schedule(inputs.periods, lim)[1])
    ok: NDArray[np.bool_] = np.all(avail[:, window] >= gang_min - 1e-9, axis=1)
    return np.asarray(ok[inv], dtype=bool)


def training_cells(prob: Problem) -> TrainingCells:
    spec = prob.inputs.spec
    keys = ("j", "o", "t", "h", "c", "w", "m")
    parts: dict[str, list[NDArray[np.generic]]] = {k: [] for k in keys}
    required = np.zeros(len(spec.training))
    window = np.zeros((len(spec.training), prob.num_periods), dtype=bool)
    apn = prob.off_acc_per_node
    for j, job in enumerate(spec.training):
        options = {PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED}
        if job.preemptible:
            options.add(PurchaseOption.SPOT)
        rate, useful = _off_facts(prob, j)
        single_node = job.gang_max_accelerators is not None
        fits_node = single_node & (apn >= (job.gang_max_accelerators or 0))
        topo_ok = prob.off_fabric | fits_node
        win = window_hours(prob, job.start or spec.horizon.start, job.deadline)
        window[j] = win > 0
        mask = workload_mask(prob, job.data_class, job.model, options)
        mask &= ((rate > 0) & topo_ok)[:, None] & (win > 0)[None, :]
        if job.single_region and job.gang_min_accelerators > 0:
            mask &= _gang_fits(prob, mask, job.gang_min_accelerators, win > 0)[:, None]
        o_idx, t_idx = np.nonzero(mask)
        w = job.work
        required[j] = w.accelerator_hours if w.kind == "accelerator_hours" else w.flops
        hours = win[t_idx]
        share = apn[o_idx] * hours * rate[o_idx] * useful[o_idx] / required[j]
        # the most nodes worth holding in one cell: the whole job alone, or the smallest gang
        alone = np.ceil(1.0 / np.maximum(share, 1e-300) - 1e-9)
        gang = np.ceil(job.gang_min_accelerators / apn[o_idx] - 1e-9)
        most = np.maximum(alone, gang)
        if job.gang_max_accelerators is not None:
            most = np.minimum(most, np.floor(job.gang_max_accelerators / apn[o_idx] + 1e-9))
        most = np.minimum(most, np.floor(prob.inputs.capacity_nodes[o_idx, t_idx] + 1e-9))
        most = np.where(prob.off_fabric[o_idx], most, np.minimum(most, 1.0))
        parts["j"].append(np.full(o_idx.size, j))
        parts["o"].append(o_idx)
        parts["t"].append(t_idx)
        parts["h"].append(hours)
        parts["c"].append(hours * prob.off_price[o_idx])
        parts["w"].append(share)
        parts["m"].append(np.maximum(most, 0.0))

    return TrainingCells(
        y_j=concat_int(parts["j"]),
        y_o=concat_int(parts["o"]),
        y_t=concat_int(parts["t"]),
        y_hours=concat_float(parts["h"]),
        y_cost=concat_float(parts["c"]),
        y_work=concat_float(parts["w"]),
        y_max=concat_float(parts["m"]),
        required=required,
        window=window,
    )


def add_training(b: LPBuilder, prob: Problem, cells: TrainingCells, y: VarBlock) -> None:
    """job-work-lower, job-accelerators-upper/lower, job-single-node-upper, job-gang-choice."""
    spec = prob.inputs.spec
    jobs = [j.id for j in spec.training]
    T = prob.num_periods
    labels_p = [p.label for p in prob.inputs.periods]
    J = len(jobs)
    if J == 0:
        return
    b.add_rows(
        "job-work-lower",
        J,
        cells.y_j,
        y.cols(),
        cells.y_work,
        1.0,
        np.inf,
        lambda rows: [jobs[i] for i in rows],
        "share of a training job's work finished inside its window",
    )
    acc = prob.off_acc_per_node[cells.y_o]
    jt = cells.y_j * T + cells.y_t
    gmax = np.array([j.gang_max_accelerators or np.inf for j in spec.training], dtype=float)
    if np.isfinite(gmax).any():
        keep = np.isfinite(gmax[cells.y_j])
        keys, inv = np.unique(jt[keep], return_inverse=True)
        kj, kt = np.divmod(keys, T)
        b.add_rows(
            "job-accelerators-upper",
            keys.size,
            inv,
            y.cols(np.nonzero(keep)[0]),
            acc[keep],
            -np.inf,
            gmax[kj],
            lambda rows: [f"{jobs[kj[i]]}/{labels_p[kt[i]]}" for i in rows],
            "accelerators a job holds in a period, at most its largest gang",
        )
    gmin = np.array([j.gang_min_accelerators for j in spec.training], dtype=float)
    if (gmin > 0).any():
        keep = gmin[cells.y_j] > 0
        keys, inv = np.unique(jt[keep], return_inverse=True)
        kj2, kt2 = np.divmod(keys, T)
        b.add_rows(
            "job-accelerators-lower",
            keys.size,
            inv,
            y.cols(np.nonzero(keep)[0]),
            acc[keep],
            gmin[kj2],
            np.inf,
            lambda rows: [f"{jobs[kj2[i]]}/{labels_p[kt2[i]]}" for i in rows],
            "accelerators a job holds in every period of its window, at least its smallest gang",
        )
    no_fabric = ~prob.off_fabric[cells.y_o]
    if no_fabric.any():
        keys, inv = np.unique(jt[no_fabric], return_inverse=True)
        kj3, kt3 = np.divmod(keys, T)
        b.add_rows(
            "job-single-node-upper",
            keys.size,
            inv,
            y.cols(np.nonzero(no_fabric)[0]),
            1.0,
            -np.inf,
            1.0,
            lambda rows: [f"{jobs[kj3[i]]}/{labels_p[kt3[i]]}" for i in rows],
            "without a scale-out fabric a job holds at most one node",
        )
    _gang_choice(b, prob, cells, y, jobs)


def _gang_choice(
    b: LPBuilder, prob: Problem, cells: TrainingCells, y: VarBlock, jobs: list[str]
) -> None:
    """z[j,k] binary over the job's choices k = (accelerator type[, region]): Σ_k z = 1 and
    y[j,o,t] ≤ y_max · z[j,k(o)]. One choice per job: one type, one region if single_region."""
    spec = prob.inputs.spec
    R = max(len(prob.regions), 1)
    acc_names = sorted(set(prob.off_accelerator))
    acc_index = {a: i for i, a in enumerate(acc_names)}
    off_acc = np.array([acc_index[a] for a in prob.off_accelerator], dtype=np.int64)
    single = np.array([j.single_region for j in spec.training], dtype=bool)
    region = np.where(single[cells.y_j], prob.off_region[cells.y_o], R)
    choice = (cells.y_j * (R + 1) + region) * len(acc_names) + off_acc[cells.y_o]
    keys, inv = np.unique(choice, return_inverse=True)
    kj = keys // ((R + 1) * len(acc_names))
    per_job = np.bincount(kj, minlength=len(jobs))
    needs = per_job[kj] > 1  # a job with one possible choice needs no binary
    if not needs.any():
        return
    kept = np.nonzero(needs)[0]
    z = b.add_vars("gang_choice", kept.size, 0.0, 0.0, 1.0, integer=True)
    znum = np.full(keys.size, -1, dtype=np.int64)
    znum[kept] = np.arange(kept.size)
    idx = np.nonzero(znum[inv] >= 0)[0]
    n = idx.size
    b.add_rows(
        "job-gang-link-upper",
        n,
        np.concatenate([np.arange(n), np.arange(n)]),
        np.concatenate([y.cols(idx), z.cols(znum[inv[idx]])]),
        np.concatenate([np.ones(n), -cells.y_max[idx]]),
        -np.inf,
        0.0,
        lambda rows: [
            f"{jobs[cells.y_j[idx[i]]]}/{prob.inputs.keys[cells.y_o[idx[i]]]}" for i in rows
        ],
        "a job's nodes are of the accelerator type (and region) it chose",
    )
    acc_of = keys[kept] % len(acc_names)
    reg_of = (keys[kept] // len(acc_names)) % (R + 1)
    names = [
        acc_names[a] + (f" in {prob.regions[r]}" if r < R else "")
        for a, r in zip(acc_of, reg_of, strict=True)
    ]
    _choice_strength(b, prob, cells, y, z, znum[inv], kj[kept], names)
    jobs_with = np.unique(kj[kept])
    b.add_rows(
        "job-gang-choice-equal",
        jobs_with.size,
        np.searchsorted(jobs_with, kj[kept]),
        z.cols(),
        1.0,
        1.0,
        1.0,
        lambda r: [jobs[jobs_with[i]] for i in r],
        "a job runs on one accelerator type (and one region when single_region)",
    )


def _choice_strength(
    b: LPBuilder,
    prob: Problem,
    cells: TrainingCells,
    y: VarBlock,
    z: VarBlock,
    z_of_cell: IntArray,
    z_job: IntArray,
    names: list[str],
) -> None:
    """The chosen type (and region) alone does the work and holds the gang in every period:

    job-choice-work-lower:  Σ_{o∈k} work · y[j,o,t] − z[j,k] ≥ 0
    job-choice-gang-lower:  Σ_{o∈k} accelerators · y[j,o,t] − gang_min · z[j,k] ≥ 0, each t in
                            the window

    Both hold for whole choices (z ∈ {0, 1}) and are implied by the job's own rows then; they
    tighten the LP relaxation, whose bound the plan reports, where z is fractional.
    """
    spec = prob.inputs.spec
    T = prob.num_periods
    has = z_of_cell >= 0
    ci = np.nonzero(has)[0]
    K = z.size
    b.add_rows(
        "job-choice-work-lower",
        K,
        np.concatenate([z_of_cell[ci], np.arange(K)]),
        np.concatenate([y.cols(ci), z.cols()]),
        np.concatenate([cells.y_work[ci], -np.ones(K)]),
        0.0,
        np.inf,
        lambda rows: [f"{spec.training[z_job[i]].id} on {names[i]}" for i in rows],
        "the job's chosen accelerator type (and region) alone finishes its work",
    )
    gmin = np.array([j.gang_min_accelerators for j in spec.training], dtype=float)
    kt = [
        (k, t)
        for k in range(K)
        if gmin[z_job[k]] > 0
        for t in np.nonzero(cells.window[z_job[k]])[0]
    ]
    if not kt:
        return
    keys = np.array([k * T + t for k, t in kt], dtype=np.int64)
    cell_key = z_of_cell[ci] * T + cells.y_t[ci]
    on = np.isin(cell_key, keys)
    rk, rt = np.divmod(keys, T)
    labels_p = [p.label for p in prob.inputs.periods]
    b.add_rows(
        "job-choice-gang-lower",
        keys.size,
        np.concatenate([np.searchsorted(keys, cell_key[on]), np.arange(keys.size)]),
        np.concatenate([y.cols(ci[on]), z.cols(rk)]),
        np.concatenate([prob.off_acc_per_node[cells.y_o[ci[on]]], -gmin[z_job[rk]]]),
        0.0,
        np.inf,
        lambda rows: [
            f"{spec.training[z_job[rk[i]]].id} on {names[rk[i]]}/{labels_p[rt[i]]}" for i in rows
        ],
        "the job's chosen accelerator type (and region) holds its smallest gang in each period",
    )
