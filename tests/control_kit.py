"""Helpers for the control plane's tests: a store on SQLite or on a fresh PostgreSQL schema,
a real server on 127.0.0.1, and a small spec with a contract.

PostgreSQL tests each get a schema of their own (``t_<random>``), selected through the URL's
``options=-csearch_path=…``, dropped when the test ends.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

import services

REPO = Path(__file__).resolve().parents[1]
CONTRACT = """
contracts:
  - id: nebius-2027
    provider: nebius
    start: 2027-01-01
    end: 2028-01-01
    total_usd: 1500000
"""


def spec_text() -> str:
    """examples/small.yaml with a one-year contract on nebius (plans in about a second)."""
    return (REPO / "examples" / "small.yaml").read_text(encoding="utf-8") + CONTRACT


@contextlib.contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of ``kind`` ("sqlite" or "postgres"), cleaned up after."""
    if kind == "sqlite":
        yield str(tmp_path / "archipel.db")
        return
    import psycopg

    base = services.need("postgres")
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['state']}")
        time.sleep(0.2)
