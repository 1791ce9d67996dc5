"""Long solves run as jobs: one worker thread per server, progress written to the job's row.

A job's state is ``queued`` → ``running`` → ``done`` (with the plan's id) or ``failed`` (with
the reason). Jobs live in the database, so any server process answers ``GET /api/jobs/ID``;
jobs that a stopped server left unfinished are marked failed when the next one starts.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from archipel.api.planning import SolveOptions, load_spec, solve
from archipel.errors import ArchipelError
from archipel.store.repo import Store


class Jobs:
    """The server's solver worker."""

    def __init__(self, store: Store, workers: int = 1) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archipel-solve")
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}

    def submit(self, job_id: str, text: str, options: SolveOptions, author: str) -> None:
        with self._lock:
            self._running[job_id] = self._pool.submit(self._run, job_id, text, options, author)

    def _run(self, job_id: str, text: str, options: SolveOptions, author: str) -> None:
        store = self.store
        try:
            store.update_job(job_id, "running", "validating the spec")
            spec, catalog = load_spec(text)

            def progress(message: str) -> None:
                store.update_job(job_id, "running", message)

            new = solve(text, spec, catalog, options, progress)
            plan_id, _ = store.insert_plan(new, author)
            store.update_job(job_id, "done", f"plan {new.plan_status}", plan_id=plan_id)
        except ArchipelError as exc:
            store.update_job(job_id, "failed", "failed", error=str(exc))
        except Exception as exc:  # a job never takes the worker down; the reason is kept
            store.update_job(job_id, "failed", "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            with self._lock:
                self._running.pop(job_id, None)

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for the jobs running now (tests, shutdown)."""
        with self._lock:
            futures = list(self._running.values())
        for f in futures:
            f.exception(timeout=timeout_s)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
