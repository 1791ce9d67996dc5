"""Scenario batches: in this process, in local worker processes, or on a Ray cluster.

Batch b draws its scenarios from ``SeedSequence(seed).spawn(n_batches)[b]`` and the batches'
results are put back in batch order, so the figures depend on the seed, the scenario count and
the batch size only — never on the number of workers or where they run. A batch of 10^4
scenarios takes about a tenth of a second, so a task's overhead (pickling a portfolio of a few
hundred cells) stays small next to its work.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from archipel.errors import UserError
from archipel.outlook.evaluate import BatchResult, Evaluator
from archipel.outlook.portfolio import Portfolio
from archipel.outlook.scenarios import sample
from archipel.spec.uncertainty import Uncertainty

Progress = Callable[[int, int], None]  # (batches done, batches in all)
DEFAULT_BATCH = 10_000


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


def run_batch(pf: Portfolio, u: Uncertainty, seed: np.random.SeedSequence, n: int) -> BatchResult:
    """One batch: draw ``n`` scenarios from ``seed`` and evaluate the portfolio on them."""
    return Evaluator(pf).run(sample(u, pf.frame, seed, n))


def run(
    pf: Portfolio, u: Uncertainty, opts: RunOptions, progress: Progress | None = None
) -> BatchResult:
    """Every batch's results, in batch order."""
    sizes = batch_sizes(opts.scenarios, opts.batch_size)
    seeds = np.random.SeedSequence(opts.seed).spawn(len(sizes))
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(sizes))

    if opts.ray_address is not None:
        return _run_ray(pf, u, seeds, sizes, opts, tick)
    out: list[BatchResult | None] = [None] * len(sizes)
    if opts.workers <= 1 or len(sizes) == 1:
        ev = Evaluator(pf)
        for b, (sd, n) in enumerate(zip(seeds, sizes, strict=True)):
            out[b] = ev.run(sample(u, pf.frame, sd, n))
            tick()
    else:
        with ProcessPoolExecutor(max_workers=opts.workers) as pool:
            futures = {
                pool.submit(run_batch, pf, u, sd, n): b
                for b, (sd, n) in enumerate(zip(seeds, sizes, strict=True))
            }
            for f in as_completed(futures):
                out[futures[f]] = f.result()
                tick()
    return BatchResult.concat([r for r in out if r is not None])


def _run_ray(
    pf: Portfolio,
    u: Uncertainty,
    seeds: list[np.random.SeedSequence],
    sizes: list[int],
    opts: RunOptions,
    tick: Callable[[], None],
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
        task = ray.remote(run_batch)
        pf_ref, u_ref = ray.put(pf), ray.put(u)
        refs = [task.remote(pf_ref, u_ref, sd, n) for sd, n in zip(seeds, sizes, strict=True)]
        index = {r: b for b, r in enumerate(refs)}
        out: list[BatchResult | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                out[index[r]] = ray.get(r)
                tick()
        return BatchResult.concat([r for r in out if r is not None])
    finally:
        if started_here:
            ray.shutdown()
