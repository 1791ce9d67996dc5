"""The greedy baseline's training jobs: one accelerator type (and region when single_region) for
the whole run, the cheapest choice per unit of work that holds the job, in whole nodes on a
fabric (docs in :mod:`archipel.plan.greedy`)."""

from __future__ import annotations

import numpy as np

from archipel.catalog.model import PurchaseOption
from archipel.perf.training import spot_useful_fraction, work_per_accelerator_hour
from archipel.plan.greedy_book import EPS, B, Book, F, base_mask
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Blocker
from archipel.spec.models import TrainingJob, WorkAcceleratorHours
from archipel.spec.periods import overlap_hours


def job_rates(inputs: PlanInputs, job: TrainingJob) -> tuple[B, F, F]:
    """Allowed cells [O, T], work per node-hour [O], window hours [T]."""
    offs = inputs.offerings
    options = {PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED, PurchaseOption.OWNED} | (
        {PurchaseOption.SPOT} if job.preemptible else set()
    )
    wanted = {inputs.accelerator_name(a) or a for a in job.accelerators}
    start = job.start or inputs.spec.horizon.start
    window = np.array([overlap_hours(p, start, job.deadline) for p in inputs.periods])
    gmax = job.gang_max_accelerators
    rate = np.zeros(len(offs))
    for i, o in enumerate(offs):
        fabric_ok = bool(o.fabric) or (gmax is not None and o.accelerators_per_node >= gmax)
        if o.purchase_option in options and o.accelerator in wanted and fabric_ok:
            useful = 1.0
            if o.purchase_option == PurchaseOption.SPOT:
                useful = spot_useful_fraction(
                    o.interruptions_per_hour, job.checkpoint_interval_h, job.restart_h
                )
            acc = inputs.accelerators[o.accelerator]
            rate[i] = (
                o.accelerators_per_node
                * work_per_accelerator_hour(job.work, acc, inputs.accelerators)
                * useful
            )
    allowed = (
        base_mask(inputs, job.data_class, job.model) & (rate > 0)[:, None] & (window > 0)[None, :]
    )
    return allowed, rate, window


def _fill_job(
    inputs: PlanInputs, job: TrainingJob, cells: B, rate: F, window: F, cost: F, book: Book
) -> float:
    """Place the job on ``cells`` in ``book`` in whole nodes; returns the share of work undone."""
    apn = np.array([o.accelerators_per_node for o in inputs.offerings], dtype=float)
    lone = np.array([not o.fabric for o in inputs.offerings], dtype=bool)
    gmax = float(job.gang_max_accelerators) if job.gang_max_accelerators is not None else np.inf
    acc = np.zeros(len(window))
    active = np.flatnonzero(window > 0)

    def take(o: int, t: int, want: float) -> float:
        room = np.floor((gmax - acc[t]) / apn[o] + 1e-9)
        if lone[o]:  # without a fabric: one node, alone
            room = min(room, 0.0 if acc[t] > 0 else 1.0)
        n = book.take(o, t, min(want, max(0.0, room)), apn[o])
        if n > 0:
            key = ("training", job.id, o, t)
            book.nodes[key] = book.nodes.get(key, 0.0) + n
            acc[t] += n * apn[o]
        return n

    def fill(t: int, work: float) -> float:
        cand = np.flatnonzero(cells[:, t])
        for o in cand[np.lexsort((cand, cost[cand, t]))]:
            if work <= EPS:
                break
            n = take(int(o), t, work / (rate[o] * window[t]))
            work -= n * rate[o] * window[t]
        return max(0.0, work)

    required = 1.0
    rate = rate / _required(job)
    hours = window[active].sum()
    left = (
        sum(fill(int(t), required * window[t] / hours) for t in active) if hours > 0 else required
    )
    for ta in active:
        left = fill(int(ta), left)
    for t in (int(x) for x in active):  # top up to the gang minimum, cheapest first
        cand = np.flatnonzero(cells[:, t])
        for o in cand[np.lexsort((cand, cost[cand, t]))]:
            if acc[t] >= job.gang_min_accelerators - EPS:
                break
            take(int(o), t, (job.gang_min_accelerators - acc[t]) / apn[o])
        if acc[t] < job.gang_min_accelerators - 1e-6:
            return max(left, 1e-3)
    return left


def _required(job: TrainingJob) -> float:
    w = job.work
    return w.accelerator_hours if isinstance(w, WorkAcceleratorHours) else w.flops


def place_job(
    inputs: PlanInputs, job: TrainingJob, price: F, book: Book
) -> tuple[Book, list[Blocker]]:
    """One accelerator type (and region when single_region) for the whole run: the cheapest
    choice per unit of work that holds the job."""
    allowed, rate, window = job_rates(inputs, job)
    cost = np.where(allowed, price / np.where(rate > 0, rate, 1.0)[:, None], np.inf)
    offs = inputs.offerings
    choice_of = [(o.region_id if job.single_region else "", o.accelerator) for o in offs]
    best: dict[tuple[str, str], float] = {}
    for o in np.flatnonzero(allowed.any(axis=1)):
        best[choice_of[o]] = min(best.get(choice_of[o], np.inf), float(cost[o].min()))
    left = 1.0
    for choice in sorted(best, key=lambda c: (best[c], c)):
        cells = np.array([c == choice for c in choice_of])[:, None] & allowed
        trial = book.copy()
        left = _fill_job(inputs, job, cells, rate, window, cost, trial)
        if left <= 1e-6:
            return trial, []
    where = "in any single region" if job.single_region else "on any one accelerator type"
    blocker = Blocker(
        family="training-work-greedy",
        entity=job.id,
        shortfall=left,
        unit="share of the job",
        description=f"training job {job.id}: not enough allowed capacity in its window {where} "
        f"(fabric and gang limits included) for {left:.3g} of its work",
    )
    return book, [blocker]
