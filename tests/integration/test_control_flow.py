"""The control plane end to end, served on 127.0.0.1 by uvicorn, on SQLite and on PostgreSQL:
submit → plan (a job) → review (with an outlook) → two approvals from distinct groups → apply
→ export files → record spend; the refusals (roles, author, same group, stale and first apply,
a plan edited after approval); concurrent applies; the audit chain; the CLI client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from archipel.api.app import create_app
from archipel.cli import app as cli_app
from archipel.store.repo import Store
from archipel.store.schema import plans
from control_kit import database, running, spec_text, wait_job

OUTLOOK = {
    "totals": {
        "expected_cost_usd": 2.3e6,
        "cvar95_usd": 2.9e6,
        "expected_stranded_usd": 1.2e5,
        "p_stranded_over_threshold": 0.05,
    }
}
USAGE = """BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,BilledCost,BillingCurrency
2027-01-01T00:00:00Z,2027-01-01T00:00:00Z,2027-02-01T00:00:00Z,Nebius,eu-west1,Compute,150000.50,USD
2027-02-01T00:00:00Z,2027-02-01T00:00:00Z,2027-03-01T00:00:00Z,nebius,eu-north1,Compute,170000,USD
2026-12-01T00:00:00Z,2026-12-01T00:00:00Z,2027-01-01T00:00:00Z,AWS,eu-west-1,EC2,999,USD
"""


class Server:
    """A running server and a client per key."""

    def __init__(self, url: str, store: Store, admin: str) -> None:
        self.url = url
        self.store = store
        self.keys: dict[str, str] = {"admin": admin}
        self._clients: dict[str, httpx.Client] = {}
        self.admin = self.client("admin")
        for name, role, group in (
            ("pat", "planner", "lab"),
            ("ann", "approver", "lab"),
            ("amy", "approver", "lab"),
            ("bob", "approver", "cloudco"),
            ("vic", "viewer", "lab"),
        ):
            r = self.admin.post("/api/keys", json={"name": name, "role": role, "group": group})
            assert r.status_code == 201, r.text
            self.keys[name] = r.json()["key"]

    def fresh(self, name: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.keys[name]}"}, timeout=60
        )

    def client(self, name: str) -> httpx.Client:
        if name not in self._clients:
            self._clients[name] = self.fresh(name)
        return self._clients[name]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()

    def submit(self, who: str, planner: str = "lp") -> str:
        c = self.client(who)
        r = c.post("/api/plans", json={"spec_yaml": spec_text(), "planner": planner})
        assert r.status_code == 202, r.text
        job = wait_job(c, r.json()["id"])
        assert job["state"] == "done", job
        return str(job["plan_id"])

    def approve_by_committee(self, plan_id: str, author: str = "pat") -> None:
        assert self.client(author).post(f"/api/plans/{plan_id}/review").status_code == 200
        for who in ("ann", "bob"):
            r = self.client(who).post(
                f"/api/plans/{plan_id}/decisions",
                json={
                    "decision": "approve",
                    "overrides": {"one-provider-share": "single-provider pilot"},
                },
            )
            assert r.status_code == 201, r.text


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with database(request.param, tmp_path) as url:
        store = Store.open(url)
        _, admin = store.add_key("admin", "admin", "admin", "test")
        try:
            with running(create_app(store)) as base:
                server = Server(base, store, admin)
                try:
                    yield server
                finally:
                    server.close()
        finally:
            store.close()


def test_the_whole_flow(server: Server) -> None:
    pat, ann, bob, amy = (server.client(n) for n in ("pat", "ann", "bob", "amy"))
    assert httpx.post(f"{server.url}/api/plans", json={"spec_yaml": "x"}).status_code == 401
    assert server.client("vic").post("/api/plans", json={"spec_yaml": "x"}).status_code == 403
    bad = pat.post("/api/plans", json={"spec_yaml": "version: 1\nname: [oops\n"})
    assert bad.status_code == 400

    plan_id = server.submit("pat")
    again = pat.post("/api/plans", json={"spec_yaml": spec_text()}).json()
    assert (again["state"], again["plan_id"]) == ("done", plan_id)  # content-addressed
    detail = pat.get(f"/api/plans/{plan_id}").json()
    assert detail["plan"]["contracts"][0]["contract"] == "nebius-2027"
    imported = pat.post(
        "/api/plans/import", json={"spec_yaml": spec_text(), "plan": detail["plan"]}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["verified"] and imported.json()["id"] != plan_id  # re-verified here
    edited = {**detail["plan"], "spec_name": "\u001b[2J"}
    refused = pat.post("/api/plans/import", json={"spec_yaml": spec_text(), "plan": edited})
    assert refused.status_code == 400 and "the imported plan" in refused.json()["detail"]

    r = pat.post(f"/api/plans/{plan_id}/decisions", json={"decision": "approve"})
    assert r.status_code == 403  # a planner may not approve
    r = ann.post(f"/api/plans/{plan_id}/decisions", json={"decision": "approve"})
    assert r.status_code == 409  # not sent for review yet

    assert pat.post(f"/api/plans/{plan_id}/outlook", json={"document": OUTLOOK}).status_code == 201
    review = pat.post(f"/api/plans/{plan_id}/review").json()
    assert review["plan"]["state"] == "in_review"
    assert review["applied_revision"] == 0 and review["applied_plan_id"] is None
    assert review["outlook"]["cvar95_usd"] == 2.9e6
    assert review["unused_commitment_usd"] == 0.0 and review["shortfall_usd"] == 0.0
    assert review["diff"]["placements_changed"] >= 1
    gates = {g["name"]: g for g in review["gates"]}
    assert gates["one-provider-share"]["blocks"]  # 100 % on nebius, overridable
    assert gates["stranded-probability"]["passed"]

    assert (
        ann.post(f"/api/plans/{plan_id}/decisions", json={"decision": "approve"}).status_code == 201
    )
    r = amy.post(f"/api/plans/{plan_id}/decisions", json={"decision": "approve"})
    assert r.status_code == 201
    refused = bob.post(f"/api/plans/{plan_id}/apply")
    assert refused.status_code == 409
    assert "distinct groups" in refused.json()["detail"]
    assert "one-provider-share" in refused.json()["detail"]

    r = bob.post(
        f"/api/plans/{plan_id}/decisions",
        json={"decision": "approve", "overrides": {"one-provider-share": "pilot on one cloud"}},
    )
    assert r.status_code == 201
    assert bob.get(f"/api/plans/{plan_id}/review").json()["ready"]
    applied = bob.post(f"/api/plans/{plan_id}/apply")
    assert applied.status_code == 201, applied.text
    assert (applied.json()["revision"], applied.json()["base_revision"]) == (1, 0)
    listed = bob.get("/api/applies").json()
    assert listed[0]["id"] == applied.json()["id"]
    names = {f["name"] for f in applied.json()["files"]}
    assert {"endpoints.yaml", "bundle.json", "kubernetes/00-namespace.yaml"} <= names
    assert any(n.startswith("skypilot/") for n in names)
    for f in applied.json()["files"]:  # each downloadable, byte for byte
        got = bob.get(f"/api/applies/{listed[0]['id']}/files/{f['name']}")
        assert got.status_code == 200 and len(got.content) == f["bytes"]

    recorded = pat.post("/api/spend", json={"csv": USAGE})
    assert recorded.status_code == 201, recorded.text
    assert pat.post("/api/spend", json={"csv": USAGE}).status_code == 409
    spend = pat.get("/api/spend").json()
    assert spend["applied_plan_id"] == plan_id
    year = spend["contract_years"][0]
    assert year["committed_usd"] == 1.5e6
    assert year["actual_usd"] == pytest.approx(320000.50)  # the AWS and 2026 rows do not count
    assert spend["monthly"]["2026-12"] == {"aws": 999.0}

    audit = server.admin.get("/api/audit/verify").json()
    assert audit["ok"] and audit["rows"] >= 15
    assert pat.get("/api/audit/verify").status_code == 403


def test_an_author_does_not_approve_their_own_plan(server: Server) -> None:
    plan_id = server.submit("ann")  # an approver may also plan
    server.approve_by_committee(plan_id, author="ann")
    review = server.client("bob").get(f"/api/plans/{plan_id}/review").json()
    assert not review["ready"]
    assert any("author" in m for m in review["missing"])
    assert server.client("bob").post(f"/api/plans/{plan_id}/apply").status_code == 409


def test_stale_approval_is_refused_including_the_first_apply(server: Server) -> None:
    a = server.submit("pat", "lp")
    b = server.submit("pat", "greedy")
    assert a != b
    server.approve_by_committee(a)
    server.approve_by_committee(b)  # both approved while nothing is applied: revision 0
    bob = server.client("bob")
    assert bob.post(f"/api/plans/{b}/apply").status_code == 201
    stale = bob.post(f"/api/plans/{a}/apply")
    assert stale.status_code == 409
    assert "stale" in stale.json()["detail"]
    assert server.store.head().plan_id == b
    review = bob.get(f"/api/plans/{a}/review").json()
    assert [x["counts"] for x in review["approvals"]] == [False, False]
    assert review["diff"]["old_objective_usd"] is not None  # now against the applied b


def test_a_plan_edited_after_approval_is_refused(server: Server) -> None:
    plan_id = server.submit("pat")
    server.approve_by_committee(plan_id)
    body = json.loads(server.store.get_plan(plan_id).body)
    body["allocations"][0]["nodes"] += 1
    with server.store.write() as conn:
        conn.execute(update(plans).where(plans.c.id == plan_id).values(body=json.dumps(body)))
    r = server.client("bob").post(f"/api/plans/{plan_id}/apply")
    assert r.status_code == 409
    assert server.store.head().revision == 0


def test_two_concurrent_applies_over_http_one_wins(server: Server) -> None:
    plan_id = server.submit("pat")
    server.approve_by_committee(plan_id)
    barrier = threading.Barrier(3)
    codes: list[int] = []
    lock = threading.Lock()

    def go(who: str) -> None:
        with server.fresh(who) as c:
            barrier.wait()
            code = c.post(f"/api/plans/{plan_id}/apply").status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=go, args=(w,)) for w in ("ann", "bob", "amy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409, 409]
    assert server.store.head().revision == 1
    assert len(server.store.list_applies()) == 1


def test_the_cli_client(server: Server, tmp_path: Path) -> None:
    runner = CliRunner()
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(), encoding="utf-8")
    outlook = tmp_path / "outlook.json"
    outlook.write_text(json.dumps(OUTLOOK), encoding="utf-8")

    def run(who: str, *args: str) -> Any:
        env = {"ARCHIPEL_SERVER": server.url, "ARCHIPEL_KEY": server.keys[who]}
        result = runner.invoke(cli_app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result

    job = json.loads(run("pat", "plans", "--submit", str(spec), "--json").stdout)
    prefix = job["plan_id"][:10]
    assert prefix in run("pat", "plans").stdout
    shown = run("pat", "review", prefix, "--outlook", str(outlook)).stdout
    assert "CVaR95" in shown and "not ready" in shown
    run("ann", "approve", prefix, "--override", "one-provider-share=pilot")
    run("bob", "approve", prefix)
    assert "ready to apply" in run("bob", "review", prefix).stdout
    out = run("bob", "apply", prefix, "--download", str(tmp_path / "deploy")).stdout
    assert "revision 1" in out
    assert (tmp_path / "deploy" / "endpoints.yaml").is_file()
    denied = runner.invoke(
        cli_app,
        ["apply", prefix],
        env={"ARCHIPEL_SERVER": server.url, "ARCHIPEL_KEY": server.keys["bob"]},
    )
    assert denied.exit_code != 0


def test_keys_are_listed_added_and_revoked_from_the_cli(server: Server) -> None:
    runner = CliRunner()

    def run(who: str, *args: str) -> Any:
        env = {"ARCHIPEL_SERVER": server.url, "ARCHIPEL_KEY": server.keys[who]}
        return runner.invoke(cli_app, list(args), env=env)

    made = run("admin", "keys", "add", "ci-bot", "--role", "viewer", "--json")
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)["key"]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        me = http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == "ci-bot"
        listed = run("admin", "keys", "list").stdout
        assert "ci-bot" in listed and all(len(line) <= 80 for line in listed.splitlines())
        denied = run("pat", "keys", "list")  # a planner is not an admin
        assert denied.exit_code != 0 and "admin role" in str(denied.exception)
        key_id = json.loads(made.stdout)["id"]
        assert run("admin", "keys", "revoke", key_id).exit_code == 0
        me = http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
        rows = json.loads(run("admin", "keys", "list", "--json").stdout)
        assert next(k for k in rows if k["id"] == key_id)["revoked"] is True
        admin_id = next(k["id"] for k in rows if k["name"] == "admin")
        last = run("admin", "keys", "revoke", admin_id)
        assert last.exit_code != 0 and "last admin key" in str(last.exception)
