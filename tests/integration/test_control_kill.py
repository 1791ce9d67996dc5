"""``kill -9`` of a real ``archipel server`` process in the middle of writes (usage uploads,
outlooks and plans being solved and stored, from three client threads): nothing the server
acknowledged is lost, no plan is half-written, the audit chain holds, and a new server starts
on the same database. On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from archipel.plan.result import Plan
from archipel.store.repo import Store
from archipel.store.schema import plans, spend_records
from control_kit import database, free_port, spec_text, wait_job

ARCHIPEL = str(Path(sys.executable).parent / "archipel")
USAGE_HEAD = "BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,BilledCost,BillingCurrency\n"
MAX_WRITES_PER_THREAD = 400


def start(db: str, port: int) -> tuple[subprocess.Popen[str], str]:
    """An ``archipel server`` process on 127.0.0.1:port; returns it and its admin key."""
    proc = subprocess.Popen(
        [ARCHIPEL, "server", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    key = first.rsplit(" ", 1)[-1].strip() if "admin key" in first else ""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                return proc, key
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not start: {first}{proc.stdout.read()}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def writer(loop: Callable[[int], None], stop_at: threading.Event) -> threading.Thread:
    def run() -> None:
        for i in range(MAX_WRITES_PER_THREAD):
            if stop_at.is_set():
                return
            try:
                loop(i)
            except httpx.TransportError:  # the server is gone
                return

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_kill_9_during_writes_loses_nothing_acknowledged(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as db:
        port = free_port()
        proc, admin = start(db, port)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as c:
                r = c.post("/api/keys", json={"name": "pat", "role": "planner"})
                planner = {"Authorization": f"Bearer {r.json()['key']}"}
                with httpx.Client(base_url=base, headers=planner, timeout=30) as pat:
                    job = pat.post("/api/plans", json={"spec_yaml": spec_text()}).json()
                    plan_id = wait_job(pat, job["id"])["plan_id"]

            uploads: list[str] = []
            outlooks: list[int] = []
            done_plans: list[str] = []
            stop_at = threading.Event()

            def upload(i: int) -> None:
                text = (
                    USAGE_HEAD + f"2027-01-01,2027-01-0{1 + i % 9},2027-01-10,nebius,x,{i}.5,USD\n"
                )
                with httpx.Client(base_url=base, headers=planner, timeout=30) as h:
                    if h.post("/api/spend", json={"csv": text}).status_code == 201:
                        uploads.append(hashlib.sha256(text.encode()).hexdigest())

            def outlook(i: int) -> None:
                doc = {"totals": {"cvar95_usd": float(i)}}
                with httpx.Client(base_url=base, headers=planner, timeout=30) as h:
                    r = h.post(f"/api/plans/{plan_id}/outlook", json={"document": doc})
                    if r.status_code == 201:
                        outlooks.append(r.json()["id"])

            def submit(i: int) -> None:
                body = {"spec_yaml": spec_text(), "planner": "greedy", "mip_gap": (i + 1) / 1000}
                with httpx.Client(base_url=base, headers=planner, timeout=30) as h:
                    job = h.post("/api/plans", json=body).json()
                    state = wait_job(h, job["id"], timeout_s=30)
                    if state["state"] == "done":
                        done_plans.append(state["plan_id"])

            threads = [writer(f, stop_at) for f in (upload, outlook, submit)]
            deadline = time.monotonic() + 30
            while (len(uploads) < 20 or not done_plans) and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)  # in the middle of the writers' next requests
            proc.wait()
            stop_at.set()
            for t in threads:
                t.join(timeout=60)
            assert len(uploads) >= 20 and done_plans
        finally:
            stop(proc)

        store = Store.open(db)
        try:
            with store.read() as conn:
                stored = dict(
                    conn.execute(
                        select(spend_records.c.upload_sha256, func.count()).group_by(
                            spend_records.c.upload_sha256
                        )
                    ).all()
                )
                rows = conn.execute(select(plans.c.id, plans.c.body, plans.c.body_sha256)).all()
            assert all(stored.get(u) == 1 for u in uploads)
            ids = {r.id for r in rows}
            assert {plan_id, *done_plans} <= ids
            for r in rows:  # no half-written plan
                assert hashlib.sha256(r.body.encode()).hexdigest() == r.body_sha256
                Plan.model_validate_json(r.body)
            report = store.verify_audit()
            assert report.ok, report.problem
            assert report.rows >= len(uploads) + len(outlooks) + len(done_plans)
        finally:
            store.close()

        proc, _ = start(db, free_port())  # the database opens again, as it was
        stop(proc)
