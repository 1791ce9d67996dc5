"""The store on SQLite and on PostgreSQL (each test runs on both): migrations, content
addresses, hashed keys, the audit chain and its tamper detection, approvals bound to a
revision, and the apply guard in the database (two concurrent applies: one wins)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from archipel.api.planning import SolveOptions, load_spec, solve
from archipel.store import audit
from archipel.store.repo import (
    Approval,
    Conflict,
    Head,
    NewPlan,
    NotFound,
    PlanRecord,
    SpendRow,
    Store,
)
from archipel.store.schema import api_keys, audit_head, audit_log, metadata, plans
from control_kit import database, spec_text


@pytest.fixture(scope="module")
def new_plan() -> NewPlan:
    text = spec_text()
    spec, catalog = load_spec(text)
    return solve(text, spec, catalog, SolveOptions(), lambda _m: None)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with database(request.param, tmp_path) as url:
        s = Store.open(url)
        try:
            yield s
        finally:
            s.close()


def test_migrations_build_exactly_the_schema_module(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(store: Store) -> None:
    from archipel.store.sql import migrate

    migrate(store.engine)
    assert store.head() == Head("default", 0, None)
    assert store.verify_audit().ok


def test_a_plan_is_stored_once_under_its_content_address(store: Store, new_plan: NewPlan) -> None:
    plan_id, created = store.insert_plan(new_plan, "pat")
    again, created_again = store.insert_plan(new_plan, "sam")
    assert (created, created_again) == (True, False)
    assert plan_id == again == new_plan.address
    record = store.get_plan(plan_id)
    assert record.body == new_plan.body
    assert record.summary.author == "pat"
    assert store.count_plans() == 1
    other = dataclasses.replace(new_plan, options={**new_plan.options, "mip_gap": 0.5})
    assert other.address != plan_id


def test_keys_are_stored_hashed_and_checked(store: Store) -> None:
    key, token = store.add_key("ann", "approver", "lab", "admin")
    with store.read() as conn:
        stored = conn.execute(select(api_keys.c.secret_sha256)).scalar_one()
    assert token.split("_", 2)[2] not in stored
    assert store.key_for(token) == key
    assert store.key_for(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.key_for("ak_nothing_here") is None
    assert store.key_for("garbage") is None
    with pytest.raises(Conflict):
        store.add_key("ann", "viewer", "lab", "admin")


def test_a_revoked_key_stops_working_and_the_last_admin_stays(store: Store) -> None:
    root, root_token = store.add_key("root", "admin", "ops", "setup")
    ann, token = store.add_key("ann", "approver", "lab", "root")
    assert store.key_for(token) == ann  # now cached
    assert store.revoke_key(ann.id, "root") == ann
    assert store.key_for(token) is None  # the cache forgets it at once in this process
    with pytest.raises(Conflict, match="revoked already"):
        store.revoke_key(ann.id, "root")
    with pytest.raises(NotFound):
        store.revoke_key("0" * 12, "root")
    with pytest.raises(Conflict, match="last admin key"):
        store.revoke_key(root.id, "root")
    store.add_key("root2", "admin", "ops", "root")
    store.revoke_key(root.id, "root2")
    assert store.key_for(root_token) is None
    listed = {k.name: k.revoked for k in store.list_keys()}
    assert listed == {"root": True, "ann": True, "root2": False}
    with store.read() as conn:
        actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq)).scalars()
        assert list(actions)[-2:] == ["key.create", "key.revoke"]
    assert store.verify_audit().ok


def test_two_admins_revoking_each_other_at_once_leave_one(store: Store) -> None:
    """The admin rows are locked for the check: one revocation wins, the other is refused."""
    import threading

    a, _ = store.add_key("a", "admin", "ops", "setup")
    b, _ = store.add_key("b", "admin", "ops", "setup")
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def revoke(key_id: str, actor: str) -> None:
        start.wait()
        try:
            store.revoke_key(key_id, actor)
        except Conflict as exc:
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=x) for x in ((a.id, "b"), (b.id, "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(errors) == 1 and "last admin key" in str(errors[0])
    assert sum(not k.revoked for k in store.list_keys()) == 1


def test_the_audit_chain_finds_a_changed_row(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.add_key(name, "viewer", "lab", "admin")
    assert store.verify_audit().ok
    assert store.verify_audit().rows == 3
    with store.write() as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == 2)
            .values(detail=audit.canonical({"name": "b", "role": "admin"}))
        )
    report = store.verify_audit()
    assert (report.ok, report.broken_at) == (False, 2)
    assert "changed" in report.problem


def test_the_audit_chain_finds_a_removed_row_and_a_cut_tail(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.add_key(name, "viewer", "lab", "admin")
    kept = store.verify_audit().head  # recorded outside the database
    assert kept.startswith("3:") and store.verify_audit(audit.parse_anchor(kept)).ok
    with store.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    report = store.verify_audit()
    assert (report.ok, report.broken_at) == (False, 3)
    with store.write() as conn:  # hide it: move the head back as well
        conn.execute(
            update(audit_head).values(
                seq=2,
                hash=conn.execute(
                    select(audit_log.c.hash).where(audit_log.c.seq == 2)
                ).scalar_one(),
            )
        )
    assert store.verify_audit().ok  # a consistent cut is only seen against a kept head copy
    anchor = (3, kept.split(":")[1])  # ...which the anchor is
    cut = store.verify_audit(anchor)
    assert (cut.ok, cut.broken_at) == (False, 3) and "cut together" in cut.problem
    assert store.verify_audit((2, kept.split(":")[1])).broken_at == 2  # not the row recorded
    with store.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 1))
    assert store.verify_audit().broken_at == 2


def test_every_write_is_audited_with_the_record(store: Store, new_plan: NewPlan) -> None:
    plan_id, _ = store.insert_plan(new_plan, "pat")
    key, _ = store.add_key("ann", "approver", "lab", "admin")
    store.set_state(plan_id, "in_review", "pat", {})
    store.add_outlook(plan_id, '{"totals": {"cvar95_usd": 1}}', "pat")
    store.add_approval(plan_id, key, "approve", "", {})
    store.add_spend([], "f" * 64, "pat")
    with store.read() as conn:
        actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]
        seq = conn.execute(select(plans.c.seq)).scalar_one()
    assert actions == [
        "plan.create",
        "key.create",
        "plan.in_review",
        "outlook.attach",
        "plan.approve",
        "spend.record",
    ]
    assert seq == 1  # a plan's order is its audit row's
    assert store.verify_audit().ok


def test_a_decision_counts_once_per_applied_revision(store: Store, new_plan: NewPlan) -> None:
    plan_id, _ = store.insert_plan(new_plan, "pat")
    key, _ = store.add_key("ann", "approver", "lab", "admin")
    first = store.add_approval(plan_id, key, "approve", "ok", {"gate": "why"})
    assert (first.base_revision, first.overrides) == (0, {"gate": "why"})
    with pytest.raises(Conflict):
        store.add_approval(plan_id, key, "reject", "changed my mind", {})
    with pytest.raises(NotFound):
        store.add_approval("0" * 64, key, "approve", "", {})


def _always(base: int):  # type: ignore[no-untyped-def]
    """An apply check that lets everything through at ``base``: what is left is the DB guard."""

    def check(_r: PlanRecord, _a: list[Approval], _h: Head) -> int:
        return base

    return check


def test_two_concurrent_applies_one_wins(store: Store, new_plan: NewPlan) -> None:
    plan_id, _ = store.insert_plan(new_plan, "pat")
    barrier = threading.Barrier(4)
    results: list[str] = []
    lock = threading.Lock()

    def go() -> None:
        barrier.wait()
        try:
            store.apply(plan_id, "ann", _always(0), [("a.yaml", b"x")], "test")
            outcome = "won"
        except Conflict:
            outcome = "refused"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused"] * 3 + ["won"]
    assert store.head() == Head("default", 1, plan_id)
    applied = store.list_applies()
    assert [(a.revision, a.base_revision) for a in applied] == [(1, 0)]
    assert store.apply_file(applied[0].id, "a.yaml") == b"x"
    assert store.verify_audit().ok


def test_an_apply_on_an_old_base_is_refused(store: Store, new_plan: NewPlan) -> None:
    plan_id, _ = store.insert_plan(new_plan, "pat")
    store.apply(plan_id, "ann", _always(0), [], "test")
    with pytest.raises(Conflict, match="revision moved"):
        store.apply(plan_id, "ann", _always(0), [], "test")
    store.apply(plan_id, "ann", _always(1), [], "test")
    assert store.head().revision == 2


def test_the_same_usage_file_is_recorded_once(store: Store) -> None:
    row = SpendRow(
        "2027-01-01", "2027-01-01", "2027-01-02", "nebius", "eu-west1", "gpu", 10.0, "USD"
    )
    assert store.add_spend([row, row], "a" * 64, "pat") == 2
    with pytest.raises(Conflict):
        store.add_spend([row], "a" * 64, "pat")
    assert [r.billed_cost for r in store.spend_rows()] == [10.0, 10.0]


def test_unfinished_jobs_fail_at_start(store: Store) -> None:
    job = store.create_job("pat")
    store.update_job(job.id, "running", "solving")
    assert store.fail_unfinished_jobs() == 1
    assert store.get_job(job.id).state == "failed"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    s = Store.open(str(tmp_path / "x.db"))
    with s.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    s.close()


def test_plans_of_one_spec_stored_at_once_all_land(store: Store, new_plan: NewPlan) -> None:
    variants = [dataclasses.replace(new_plan, options={"v": i}) for i in range(4)]
    barrier = threading.Barrier(len(variants))
    done: list[bool] = []

    def go(p: NewPlan) -> None:
        barrier.wait()
        done.append(store.insert_plan(p, "pat")[1])

    threads = [threading.Thread(target=go, args=(p,)) for p in variants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [True] * 4
    assert store.count_plans() == 4
    assert [p.seq for p in store.list_plans()] == sorted(
        (p.seq for p in store.list_plans()), reverse=True
    )
    assert store.verify_audit().ok
