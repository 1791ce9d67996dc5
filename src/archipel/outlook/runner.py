"""Scenario batches: in this process, in local worker processes, or on a Ray cluster.

Batch b draws its scenarios from ``SeedSequence(seed).spawn(n_batches)[b]`` and the batches'
results are put back in batch order, so the figures depend on the seed, the scenario count and
the batch size only — never on the number of workers or where they run. A batch of 10^4
scenarios takes a few hundredths of a second, so a task's overhead (a seed and a count; the
portfolio goes to each worker once) stays small next to its work.

Every batch runs with one BLAS thread. The evaluator's products are tall and thin (10^4
scenarios × a few hundred cells × tens of columns): a second BLAS thread doubles their CPU time
for at most a fifth off the wall time, and several workers each starting one thread per core
oversubscribe the cores — two workers on two cores ran slower than one process. Parallelism is
the workers' job (``--workers``, Ray).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from archipel.errors import UserError
from archipel.outlook.evaluate import BatchResult, Evaluator
from archipel.outlook.portfolio import Portfolio
from archipel.outlook.scenarios import sample
from archipel.spec.uncertainty import Uncertainty

Progress = Callable[[int, int], None]  # (batches done, batches in all)
DEFAULT_BATCH = 10_000
TASK_SCENARIOS = 20_000  # a worker's task: batches enough for ~0.1 s of work (ms of overhead)


@dataclass(frozen=True)
class RunOptions:
    scenarios: int
    seed: int
    batch_size: int = DEFAULT_BATCH
    workers: int = 1  # local processes; 1: this process
    ray_address: str | None = None  # "local": a Ray instance started here; else a cluster


def batch_sizes(n: int, batch_size: int) -> list[int]:
    """``n`` scenarios in batches of ``batch_size`` (the last one shorter)."""
    k = max(1, math.ceil(n / max(1, batch_size)))
    return [min(batch_size, n - i * batch_size) for i in range(k)]


def tasks(sizes: list[int], workers: int, min_scenarios: int = TASK_SCENARIOS) -> list[range]:
    """Consecutive batches grouped into tasks of at least ``min_scenarios`` scenarios each, but
    at least four tasks per worker where there are enough batches (so the last ones balance)."""
    per = max(1, math.ceil(min_scenarios / max(1, max(sizes))))
    per = min(per, max(1, len(sizes) // (4 * max(1, workers))))
    return [range(i, min(i + per, len(sizes))) for i in range(0, len(sizes), per)]


Batch = tuple[np.random.SeedSequence, int]  # a batch's seed and scenario count


def run_batches(pf: Portfolio, u: Uncertainty, batches: list[Batch]) -> list[BatchResult]:
    """Draw and evaluate each batch (one Ray task)."""
    with threadpool_limits(limits=1, user_api="blas"):
        ev = Evaluator(pf)
        return [ev.run(sample(u, pf.frame, sd, n)) for sd, n in batches]


# a local worker's portfolio, scenarios and evaluator, set once by _start_worker
_worker: tuple[Evaluator, Uncertainty] | None = None


def _start_worker(pf: Portfolio, u: Uncertainty) -> None:
    global _worker
    threadpool_limits(limits=1, user_api="blas")  # for the worker's whole life
    _worker = (Evaluator(pf), u)


def _worker_batches(batches: list[Batch]) -> list[BatchResult]:
    assert _worker is not None, "_start_worker runs first in every worker"
    ev, u = _worker
    return [ev.run(sample(u, ev.pf.frame, sd, n)) for sd, n in batches]


def run(
    pf: Portfolio, u: Uncertainty, opts: RunOptions, progress: Progress | None = None
) -> BatchResult:
    """Every batch's results, in batch order."""
    sizes = batch_sizes(opts.scenarios, opts.batch_size)
    seeds = np.random.SeedSequence(opts.seed).spawn(len(sizes))
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, len(sizes))

    batches = list(zip(seeds, sizes, strict=True))
    if opts.ray_address is not None:
        return _run_ray(pf, u, batches, opts, tick)
    groups = tasks(sizes, opts.workers)
    out: list[list[BatchResult]] = [[] for _ in groups]
    if opts.workers <= 1 or len(groups) == 1:
        ev = Evaluator(pf)
        with threadpool_limits(limits=1, user_api="blas"):
            for sd, n in batches:
                out[0].append(ev.run(sample(u, pf.frame, sd, n)))
                tick()
    else:
        workers = min(opts.workers, len(groups))
        with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(pf, u)) as pool:
            futures = {
                pool.submit(_worker_batches, [batches[b] for b in g]): t
                for t, g in enumerate(groups)
            }
            for f in as_completed(futures):
                out[futures[f]] = f.result()
                tick(len(out[futures[f]]))
    return BatchResult.concat([r for part in out for r in part])


def _run_ray(
    pf: Portfolio,
    u: Uncertainty,
    batches: list[Batch],
    opts: RunOptions,
    tick: Callable[[int], None],
) -> BatchResult:
    try:
        ray = importlib.import_module("ray")
    except ImportError:
        raise UserError(
            "--ray-address needs Ray: pip install 'archipel[ray]' (or run without "
            "--ray-address: local processes with --workers)"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        if opts.ray_address == "local":
            ray.init(
                num_cpus=max(1, opts.workers),  # the test runs ray.init(num_cpus=1, ...)
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            try:
                ray.init(address=opts.ray_address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise UserError(
                    f"cannot reach the Ray cluster at {opts.ray_address!r}: {exc} — check the "
                    "address (ray://host:10001 or host:6379), or use --ray-address local"
                ) from None
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        groups = tasks([n for _, n in batches], cpus)
        task = ray.remote(run_batches)
        pf_ref, u_ref = ray.put(pf), ray.put(u)
        refs = [task.remote(pf_ref, u_ref, [batches[b] for b in g]) for g in groups]
        index = {r: t for t, r in enumerate(refs)}
        out: list[list[BatchResult]] = [[] for _ in refs]
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                out[index[r]] = ray.get(r)
                tick(len(out[index[r]]))
        return BatchResult.concat([r for part in out for r in part])
    finally:
        if started_here:
            ray.shutdown()
