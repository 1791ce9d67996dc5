"""Control-plane benchmark: read a plan and list plans with 10^4 plans stored, SQLite and
PostgreSQL, through the HTTP API (uvicorn on 127.0.0.1, httpx) and at the store itself.

The store is filled through the real write path (``Store.insert_plan``: one transaction with
its audit row per plan) with one real plan of examples/small.yaml under 10^4 distinct option
sets (distinct content addresses). Then, per database, ``--reads`` requests of each kind at
random: ``GET /api/plans/ID`` (the record and the plan JSON), ``GET /api/plans?limit=50`` (the
newest page) and the same with ``before=`` a random position (a deep page). One JSON line per
(database, operation): p50, p99 and max in milliseconds, the fill rate, the load average. Run:
``python benchmarks/run.py control [--plans N] [--reads N] [--db sqlite|postgres|both]``.
PostgreSQL is ``$ARCHIPEL_TEST_POSTGRES`` (a schema of its own, dropped after). No timing is
asserted anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from archipel.api.app import create_app
from archipel.api.planning import SolveOptions, load_spec, solve
from archipel.store.repo import NewPlan, Store
from measure import ROOT, emit, loadavg

POSTGRES = os.environ.get("ARCHIPEL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="archipel-bench-") as tmp:
            yield str(Path(tmp) / "archipel.db")
        return
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in POSTGRES else "?"
        yield f"{POSTGRES}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextlib.contextmanager
def serving(store: Store) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(store), host="127.0.0.1", port=port, log_level="error", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples_s)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2),
        "max_ms": round(ms[-1], 2),
        "samples": len(ms),
    }


def timed(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append(time.perf_counter() - t)
    return out


def one(kind: str, base: NewPlan, n_plans: int, reads: int, rng: np.random.Generator) -> None:
    import httpx

    with database(kind) as url:
        store = Store.open(url)
        _, admin = store.add_key("admin", "admin", "admin", "bench")
        t = time.perf_counter()
        ids = [
            store.insert_plan(
                dataclasses.replace(base, options={**base.options, "bench": i}), "bench"
            )[0]
            for i in range(n_plans)
        ]
        fill_s = time.perf_counter() - t
        emit(
            {
                "bench": "control",
                "db": kind,
                "op": "fill",
                "plans": n_plans,
                "plan_bytes": len(base.body),
                "plans_per_s": round(n_plans / fill_s, 1),
                "loadavg": loadavg(),
            }
        )
        picks = rng.integers(0, n_plans, reads)
        seqs = rng.integers(2, n_plans, reads)
        with (
            serving(store) as api,
            httpx.Client(base_url=api, headers={"Authorization": f"Bearer {admin}"}) as c,
        ):
            c.get("/api/plans?limit=50").raise_for_status()  # warm the connection
            it = iter(picks)
            deep = iter(seqs)
            cases: dict[str, Callable[[], Any]] = {
                "http_get_plan": lambda: c.get(f"/api/plans/{ids[next(it)]}").raise_for_status(),
                "http_list_50": lambda: c.get("/api/plans?limit=50").raise_for_status(),
                "http_list_50_deep": lambda: c.get(
                    f"/api/plans?limit=50&before={next(deep)}"
                ).raise_for_status(),
            }
            for op, call in cases.items():
                emit(
                    {
                        "bench": "control",
                        "db": kind,
                        "op": op,
                        "plans": n_plans,
                        **percentiles(timed(call, reads)),
                        "loadavg": loadavg(),
                    }
                )
        it2 = iter(picks)
        for op, call in {
            "store_get_plan": lambda: store.get_plan(ids[next(it2)]),
            "store_list_50": lambda: store.list_plans(50),
        }.items():
            emit(
                {
                    "bench": "control",
                    "db": kind,
                    "op": op,
                    "plans": n_plans,
                    **percentiles(timed(call, reads)),
                    "loadavg": loadavg(),
                }
            )
        store.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="run.py control", description=__doc__)
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    text = (ROOT / "examples" / "small.yaml").read_text(encoding="utf-8")
    spec, catalog = load_spec(text)
    base = solve(text, spec, catalog, SolveOptions(), lambda _m: None)
    rng = np.random.default_rng(12)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for kind in kinds:
        one(kind, base, args.plans, args.reads, rng)


if __name__ == "__main__":
    main(sys.argv[1:])
