"""Training jobs: node cells per (job, offering, period) and their constraint families."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import PurchaseOption
from archipel.perf.accelerators import canonical_name
from archipel.perf.training import spot_useful_fraction, work_per_accelerator_hour
from archipel.plan.lp.problem import Problem, window_hours, workload_mask
from archipel.plan.lp.program import IntArray, LPBuilder, VarBlock, concat_float, concat_int

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrainingCells:
    y_j: IntArray
    y_o: IntArray
    y_t: IntArray
    y_hours: FloatArray  # active hours (window overlap)
    y_cost: FloatArray
    y_work: FloatArray  # work units one node delivers over its active hours
    required: FloatArray  # [J] work units


def training_cells(prob: Problem) -> TrainingCells:
    spec = prob.inputs.spec
    parts: dict[str, list[NDArray[np.generic]]] = {k: [] for k in ("j", "o", "t", "h", "c", "w")}
    required = np.zeros(len(spec.training))
    for j, job in enumerate(spec.training):
        options = {PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED}
        if job.preemptible:
            options.add(PurchaseOption.SPOT)
        allowed_acc = {canonical_name(a) or a for a in job.accelerators}
        acc_ok = np.array([a in allowed_acc for a in prob.off_accelerator], dtype=bool)
        win = window_hours(prob, job.start or spec.horizon.start, job.deadline)
        mask = workload_mask(prob, job.data_class, job.model, options)
        mask &= acc_ok[:, None] & (win > 0)[None, :]
        o_idx, t_idx = np.nonzero(mask)
        # per offering, then indexed by cell: no Python loop over variables
        off_rate = np.array(
            [
                work_per_accelerator_hour(job.work, a) if a in allowed_acc else 0.0
                for a in prob.off_accelerator
            ]
        )
        off_useful = np.array(
            [
                spot_useful_fraction(
                    o.interruptions_per_hour, job.checkpoint_interval_h, job.restart_h
                )
                if o.purchase_option == PurchaseOption.SPOT
                else 1.0
                for o in prob.inputs.offerings
            ]
        )
        useful = off_useful[o_idx]
        acc_rate = off_rate[o_idx]
        hours = win[t_idx]
        parts["j"].append(np.full(o_idx.size, j))
        parts["o"].append(o_idx)
        parts["t"].append(t_idx)
        parts["h"].append(hours)
        parts["c"].append(hours * prob.off_price[o_idx] * (1.0 - prob.discount[o_idx, t_idx]))
        parts["w"].append(prob.off_acc_per_node[o_idx] * hours * acc_rate * useful)
        w = job.work
        required[j] = w.accelerator_hours if w.kind == "accelerator_hours" else w.flops

    return TrainingCells(
        y_j=concat_int(parts["j"]),
        y_o=concat_int(parts["o"]),
        y_t=concat_int(parts["t"]),
        y_hours=concat_float(parts["h"]),
        y_cost=concat_float(parts["c"]),
        y_work=concat_float(parts["w"]),
        required=required,
    )


def add_training(b: LPBuilder, prob: Problem, cells: TrainingCells, y: VarBlock) -> None:
    """job-work-lower, job-accelerators-upper/lower and job-region-choice families."""
    spec = prob.inputs.spec
    jobs = [j.id for j in spec.training]
    T = prob.num_periods
    labels_p = [p.label for p in prob.inputs.periods]
    J = len(jobs)
    if J == 0:
        return
    # job-work-lower: Σ work·y ≥ required
    b.add_rows(
        "job-work-lower",
        J,
        cells.y_j,
        y.cols(),
        cells.y_work,
        cells.required,
        np.inf,
        lambda rows: [jobs[i] for i in rows],
        "training work finished inside the job's window",
    )
    acc = prob.off_acc_per_node[cells.y_o]
    jt = cells.y_j * T + cells.y_t
    gmax = np.array([j.gang_max_accelerators or np.inf for j in spec.training], dtype=float)
    if np.isfinite(gmax).any():
        keys, inv = np.unique(jt, return_inverse=True)
        kj, kt = np.divmod(keys, T)
        b.add_rows(
            "job-accelerators-upper",
            keys.size,
            inv,
            y.cols(),
            acc,
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
    _single_region(b, prob, cells, y, jobs)


def _single_region(
    b: LPBuilder, prob: Problem, cells: TrainingCells, y: VarBlock, jobs: list[str]
) -> None:
    """z[j,r] binary: Σ_r z = 1; y[j,o,t] ≤ M·z[j,r(o)] with M the nodes that finish the job alone."""
    spec = prob.inputs.spec
    single = np.array([j.single_region for j in spec.training], dtype=bool)
    keep = single[cells.y_j]
    if not keep.any():
        return
    idx = np.nonzero(keep)[0]
    R = len(prob.regions)
    jr = cells.y_j[idx] * R + prob.off_region[cells.y_o[idx]]
    keys, inv = np.unique(jr, return_inverse=True)
    z = b.add_vars("region_choice", keys.size, 0.0, 0.0, 1.0, integer=True)
    kj, kr = np.divmod(keys, R)
    # big M: nodes that would do the whole job in that cell alone, capped by gang and capacity
    big_m = cells.required[cells.y_j[idx]] / np.maximum(cells.y_work[idx], 1e-12)
    gmax = np.array([j.gang_max_accelerators or np.inf for j in spec.training], dtype=float)
    big_m = np.minimum(big_m, gmax[cells.y_j[idx]] / prob.off_acc_per_node[cells.y_o[idx]])
    cap = prob.inputs.capacity_nodes[cells.y_o[idx], cells.y_t[idx]]
    big_m = np.minimum(big_m, cap)
    n = idx.size
    b.add_rows(
        "job-region-link-upper",
        n,
        np.concatenate([np.arange(n), np.arange(n)]),
        np.concatenate([y.cols(idx), z.cols(inv)]),
        np.concatenate([np.ones(n), -big_m]),
        -np.inf,
        0.0,
        lambda rows: [
            f"{jobs[cells.y_j[idx[i]]]}/{prob.inputs.keys[cells.y_o[idx[i]]]}" for i in rows
        ],
        "a single-region job uses only the region it chose",
    )
    jobs_with = np.unique(kj)
    rows = np.searchsorted(jobs_with, kj)
    b.add_rows(
        "job-region-choice-equal",
        jobs_with.size,
        rows,
        z.cols(),
        1.0,
        1.0,
        1.0,
        lambda r: [jobs[jobs_with[i]] for i in r],
        "a single-region job chooses exactly one region",
    )
    _ = kr
