"""Every read and write of the control plane. Each write is one transaction with its audit row.

Values in and out are the plain frozen dataclasses of :mod:`archipel.store.records` (no ORM
objects leave this module), as are the errors a client can act on: ``Conflict`` (409: the
state moved, e.g. a stale apply) and ``NotFound`` (404).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from archipel.errors import UserError
from archipel.store import audit
from archipel.store.records import (
    DEFAULT_TARGET,
    ROLES,
    ApplyRecord,
    Approval,
    Conflict,
    Head,
    Job,
    Key,
    KeyInfo,
    NewPlan,
    NotFound,
    PlanRecord,
    PlanSummary,
    SpendRow,
    plan_address,
    sha256_text,
)
from archipel.store.schema import (
    api_keys,
    applies,
    apply_files,
    approvals,
    catalogs,
    heads,
    jobs,
    outlooks,
    plans,
    simulations,
    specs,
    spend_records,
)
from archipel.store.sql import make_engine, migrate

# the values and errors live in records.py; importers may take them from here too
__all__ = [
    "DEFAULT_TARGET",
    "ROLES",
    "ApplyRecord",
    "Approval",
    "Conflict",
    "Head",
    "Job",
    "Key",
    "KeyInfo",
    "NewPlan",
    "NotFound",
    "PlanRecord",
    "PlanSummary",
    "SpendRow",
    "Store",
    "plan_address",
    "sha256_text",
]


def _summary(row: Any) -> PlanSummary:
    return PlanSummary(
        id=row.id,
        seq=int(row.seq),
        spec_name=row.spec_name,
        planner=row.planner,
        plan_status=row.plan_status,
        verified=bool(row.verified),
        objective_usd=row.objective_usd,
        unused_commitment_usd=float(row.unused_commitment_usd),
        shortfall_usd=float(row.shortfall_usd),
        state=row.state,
        author=row.author,
        created_at=row.created_at,
    )


_SUMMARY_COLUMNS = (
    plans.c.id,
    plans.c.seq,
    plans.c.spec_name,
    plans.c.planner,
    plans.c.plan_status,
    plans.c.verified,
    plans.c.objective_usd,
    plans.c.unused_commitment_usd,
    plans.c.shortfall_usd,
    plans.c.state,
    plans.c.author,
    plans.c.created_at,
)


class Store:
    """A migrated database and the operations on it. Thread-safe (one engine, pooled)."""

    KEY_CACHE_S = 10.0
    """How long a checked key is trusted without asking the database again (a new key is seen
    at once; a key revoked through another process, within this time)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._keys: dict[str, tuple[Key, float]] = {}
        self._keys_lock = threading.Lock()

    @classmethod
    def open(cls, url: str) -> Store:
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # keys ---------------------------------------------------------------------------------

    def add_key(self, name: str, role: str, group: str, actor: str) -> tuple[Key, str]:
        """A new API key; returns it and its token (shown once; only its hash is stored)."""
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        try:
            with self.write() as conn:
                conn.execute(
                    api_keys.insert().values(
                        id=key_id,
                        name=name,
                        role=role,
                        key_group=group,
                        secret_sha256=sha256_text(secret),
                        revoked=0,
                        created_at=audit.now(),
                    )
                )
                audit.append(
                    conn, actor, "key.create", f"key/{key_id}", {"name": name, "role": role}
                )
        except IntegrityError as exc:
            raise Conflict(f"a key named {name!r} exists already; choose another name") from exc
        return Key(key_id, name, role, group), f"ak_{key_id}_{secret}"

    def key_for(self, token: str) -> Key | None:
        """The key a token belongs to, or None (unknown, malformed, revoked or wrong secret)."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "ak":
            return None
        digest = sha256_text(token)
        with self._keys_lock:
            hit = self._keys.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        key = self._key_from_db(parts[1], parts[2])
        if key is not None:
            with self._keys_lock:
                if len(self._keys) > 1000:
                    self._keys.clear()
                self._keys[digest] = (key, time.monotonic() + self.KEY_CACHE_S)
        return key

    def _key_from_db(self, key_id: str, secret: str) -> Key | None:
        with self.read() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None or row.revoked:
            return None
        if not secrets.compare_digest(row.secret_sha256, sha256_text(secret)):
            return None
        return Key(row.id, row.name, row.role, row.key_group)

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first, revoked ones included (marked)."""
        with self.read() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [
                KeyInfo(r.id, r.name, r.role, r.key_group, bool(r.revoked), str(r.created_at))
                for r in rows
            ]

    def revoke_key(self, key_id: str, actor: str) -> Key:
        """Revoke a key for good (audited). Refused for the last admin key that is not revoked,
        which would lock every admin out. This process stops trusting the key at once; other
        server processes sharing the database within ``KEY_CACHE_S``."""
        with self.write() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
            if row is None:
                raise NotFound(f"no key {key_id!r}; `GET /api/keys` lists them")
            if row.revoked:
                raise Conflict(f"the key {row.name!r} is revoked already")
            if row.role == "admin":
                admins = conn.execute(  # locked: two revocations cannot both pass this check
                    select(api_keys.c.id)
                    .where(api_keys.c.role == "admin", api_keys.c.revoked == 0)
                    .order_by(api_keys.c.id)  # one lock order: no deadlock between two
                    .with_for_update()
                ).all()
                if len(admins) <= 1:
                    raise Conflict(
                        f"{row.name!r} is the last admin key; create another admin key first"
                    )
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked=1))
            audit.append(conn, actor, "key.revoke", f"key/{key_id}", {"name": row.name})
        with self._keys_lock:
            for digest in [d for d, (k, _) in self._keys.items() if k.id == key_id]:
                del self._keys[digest]
        return Key(row.id, row.name, row.role, row.key_group)

    def count_keys(self) -> int:
        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(api_keys)).scalar_one())

    # plans --------------------------------------------------------------------------------

    def insert_plan(self, new: NewPlan, actor: str) -> tuple[str, bool]:
        """Store a plan under its content address; (id, False) when it was there already."""
        plan_id = new.address
        spec_sha = sha256_text(new.spec_text)
        with self.write() as conn:
            audit.lock(conn)  # two plans of one spec at once: the second waits, sees the spec
            if conn.execute(select(plans.c.id).where(plans.c.id == plan_id)).first():
                return plan_id, False
            if not conn.execute(select(specs.c.sha256).where(specs.c.sha256 == spec_sha)).first():
                conn.execute(
                    specs.insert().values(
                        sha256=spec_sha,
                        name=new.spec_name,
                        text=new.spec_text,
                        created_at=audit.now(),
                    )
                )
            if not conn.execute(
                select(catalogs.c.sha256).where(catalogs.c.sha256 == new.catalog_sha256)
            ).first():
                conn.execute(
                    catalogs.insert().values(
                        sha256=new.catalog_sha256,
                        source=new.catalog_source,
                        captured=new.catalog_captured,
                        manifest=audit.canonical(new.catalog_manifest),
                        created_at=audit.now(),
                    )
                )
            body_sha = sha256_text(new.body)
            seq = audit.append(
                conn,
                actor,
                "plan.create",
                f"plan/{plan_id}",
                {"body_sha256": body_sha, "spec_sha256": spec_sha, "options": new.options},
            )
            conn.execute(
                plans.insert().values(
                    id=plan_id,
                    seq=seq,
                    spec_sha256=spec_sha,
                    catalog_sha256=new.catalog_sha256,
                    options=audit.canonical(new.options),
                    solver_version=new.solver_version,
                    spec_name=new.spec_name,
                    planner=new.planner,
                    plan_status=new.plan_status,
                    verified=int(new.verified),
                    objective_usd=new.objective_usd,
                    unused_commitment_usd=new.unused_commitment_usd,
                    shortfall_usd=new.shortfall_usd,
                    state="draft",
                    author=actor,
                    created_at=audit.now(),
                    body=new.body,
                    body_sha256=body_sha,
                )
            )
        return plan_id, True

    def list_plans(self, limit: int = 50, before_seq: int | None = None) -> list[PlanSummary]:
        """Newest first; ``before_seq`` pages on (keyset paging: as fast on page 200 as 1)."""
        query = select(*_SUMMARY_COLUMNS).order_by(plans.c.seq.desc()).limit(limit)
        if before_seq is not None:
            query = query.where(plans.c.seq < before_seq)
        with self.read() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def count_plans(self) -> int:
        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(plans)).scalar_one())

    def get_plan(self, plan_id: str) -> PlanRecord:
        with self.read() as conn:
            row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
        if row is None:
            raise NotFound(f"no plan {plan_id!r}; `archipel plans` lists the stored ones")
        return PlanRecord(
            summary=_summary(row),
            spec_sha256=row.spec_sha256,
            catalog_sha256=row.catalog_sha256,
            options=json.loads(row.options),
            solver_version=row.solver_version,
            body=row.body,
            body_sha256=row.body_sha256,
        )

    def spec_text(self, spec_sha256: str) -> str:
        with self.read() as conn:
            text = conn.execute(
                select(specs.c.text).where(specs.c.sha256 == spec_sha256)
            ).scalar_one_or_none()
        if text is None:
            raise NotFound(f"no spec {spec_sha256!r}")
        return str(text)

    def set_state(self, plan_id: str, state: str, actor: str, detail: dict[str, Any]) -> None:
        with self.write() as conn:
            done = conn.execute(update(plans).where(plans.c.id == plan_id).values(state=state))
            if done.rowcount != 1:
                raise NotFound(f"no plan {plan_id!r}")
            audit.append(conn, actor, f"plan.{state}", f"plan/{plan_id}", detail)

    # outlooks and simulations --------------------------------------------------------------

    def _attach(self, table: Any, what: str, plan_id: str, body: str, actor: str) -> int:
        with self.write() as conn:
            if not conn.execute(select(plans.c.id).where(plans.c.id == plan_id)).first():
                raise NotFound(f"no plan {plan_id!r}")
            new_id = conn.execute(
                table.insert().values(
                    plan_id=plan_id, body=body, author=actor, created_at=audit.now()
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            audit.append(
                conn,
                actor,
                f"{what}.attach",
                f"plan/{plan_id}",
                {f"{what}_id": new_id, "sha256": sha256_text(body)},
            )
        return int(new_id)

    def add_outlook(self, plan_id: str, body: str, actor: str) -> int:
        return self._attach(outlooks, "outlook", plan_id, body, actor)

    def add_simulation(self, plan_id: str, body: str, actor: str) -> int:
        return self._attach(simulations, "simulation", plan_id, body, actor)

    def latest_outlook(self, plan_id: str) -> str | None:
        with self.read() as conn:
            text = conn.execute(
                select(outlooks.c.body)
                .where(outlooks.c.plan_id == plan_id)
                .order_by(outlooks.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        return None if text is None else str(text)

    # approvals, heads and applies -----------------------------------------------------------

    def head(self, target: str = DEFAULT_TARGET) -> Head:
        with self.read() as conn:
            row = conn.execute(select(heads).where(heads.c.target == target)).one()
        return Head(row.target, int(row.revision), row.plan_id)

    def add_approval(
        self,
        plan_id: str,
        approver: Key,
        decision: str,
        comment: str,
        overrides: dict[str, str],
        target: str = DEFAULT_TARGET,
    ) -> Approval:
        """Record an approval bound to the plan's stored body hash and the applied revision."""
        with self.write() as conn:
            row = conn.execute(select(plans.c.body_sha256).where(plans.c.id == plan_id)).first()
            if row is None:
                raise NotFound(f"no plan {plan_id!r}")
            revision = conn.execute(
                select(heads.c.revision).where(heads.c.target == target)
            ).scalar_one()
            at = audit.now()
            try:
                new_id = conn.execute(
                    approvals.insert().values(
                        plan_id=plan_id,
                        plan_body_sha256=row.body_sha256,
                        base_revision=revision,
                        target=target,
                        approver=approver.name,
                        approver_group=approver.group,
                        decision=decision,
                        comment=comment,
                        overrides=audit.canonical(overrides),
                        created_at=at,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            except IntegrityError as exc:
                raise Conflict(
                    f"{approver.name} has already decided on plan {plan_id[:12]} at applied "
                    f"revision {revision}; a decision is given once per revision"
                ) from exc
            audit.append(
                conn,
                approver.name,
                f"plan.{decision}",
                f"plan/{plan_id}",
                {
                    "approval_id": new_id,
                    "plan_body_sha256": row.body_sha256,
                    "base_revision": revision,
                    "group": approver.group,
                    "comment": comment,
                    "overrides": overrides,
                },
            )
        return Approval(
            int(new_id),
            plan_id,
            row.body_sha256,
            revision,
            approver.name,
            approver.group,
            decision,
            comment,
            overrides,
            at,
        )

    def approvals_for(self, plan_id: str) -> list[Approval]:
        with self.read() as conn:
            rows = conn.execute(
                select(approvals).where(approvals.c.plan_id == plan_id).order_by(approvals.c.id)
            ).all()
        return [
            Approval(
                int(r.id),
                r.plan_id,
                r.plan_body_sha256,
                int(r.base_revision),
                r.approver,
                r.approver_group,
                r.decision,
                r.comment,
                json.loads(r.overrides),
                r.created_at,
            )
            for r in rows
        ]

    def apply(
        self,
        plan_id: str,
        actor: str,
        check: Callable[[PlanRecord, list[Approval], Head], int],
        files: Sequence[tuple[str, bytes]],
        export_note: str,
        target: str = DEFAULT_TARGET,
    ) -> ApplyRecord:
        """Apply a plan: ``check`` (which raises Conflict, else returns the approvals' base
        revision) runs on the state read in this transaction; the head then moves from that
        base only if nobody moved it meanwhile (a conditional UPDATE: one winner)."""
        record = self.get_plan(plan_id)
        found = self.approvals_for(plan_id)
        with self.write() as conn:
            body = conn.execute(select(plans.c.body).where(plans.c.id == plan_id)).scalar_one()
            body_sha = sha256_text(body)  # recomputed: an edited body no longer matches
            row = conn.execute(select(heads).where(heads.c.target == target)).one()
            current = Head(row.target, int(row.revision), row.plan_id)
            base = check(
                PlanRecord(
                    record.summary,
                    record.spec_sha256,
                    record.catalog_sha256,
                    record.options,
                    record.solver_version,
                    body,
                    body_sha,
                ),
                found,
                current,
            )
            moved = conn.execute(
                update(heads)
                .where(heads.c.target == target, heads.c.revision == base)
                .values(revision=base + 1, plan_id=plan_id)
            )
            if moved.rowcount != 1:
                raise Conflict(
                    f"the applied revision moved on since plan {plan_id[:12]} was approved at "
                    f"revision {base}; review and approve it again"
                )
            at = audit.now()
            apply_id = conn.execute(
                applies.insert().values(
                    target=target,
                    revision=base + 1,
                    base_revision=base,
                    plan_id=plan_id,
                    actor=actor,
                    export_note=export_note,
                    created_at=at,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            listed = tuple((name, sha256_text(data), len(data)) for name, data in files)
            for name, data in files:
                conn.execute(
                    apply_files.insert().values(
                        apply_id=apply_id, name=name, sha256=sha256_text(data), content=data
                    )
                )
            if record.summary.state != "applied":
                conn.execute(update(plans).where(plans.c.id == plan_id).values(state="applied"))
            audit.append(
                conn,
                actor,
                "plan.apply",
                f"plan/{plan_id}",
                {
                    "apply_id": apply_id,
                    "revision": base + 1,
                    "base_revision": base,
                    "files": [list(f) for f in listed],
                },
            )
        return ApplyRecord(
            int(apply_id), target, base + 1, base, plan_id, actor, export_note, at, listed
        )

    def list_applies(self, limit: int = 50) -> list[ApplyRecord]:
        with self.read() as conn:
            rows = conn.execute(select(applies).order_by(applies.c.id.desc()).limit(limit)).all()
            out = []
            for r in rows:
                files = conn.execute(
                    select(apply_files.c.name, apply_files.c.sha256, apply_files.c.content)
                    .where(apply_files.c.apply_id == r.id)
                    .order_by(apply_files.c.name)
                ).all()
                out.append(
                    ApplyRecord(
                        int(r.id),
                        r.target,
                        int(r.revision),
                        int(r.base_revision),
                        r.plan_id,
                        r.actor,
                        r.export_note,
                        r.created_at,
                        tuple((f.name, f.sha256, len(f.content)) for f in files),
                    )
                )
        return out

    def apply_file(self, apply_id: int, name: str) -> bytes:
        with self.read() as conn:
            data = conn.execute(
                select(apply_files.c.content).where(
                    apply_files.c.apply_id == apply_id, apply_files.c.name == name
                )
            ).scalar_one_or_none()
        if data is None:
            raise NotFound(f"apply {apply_id} has no file {name!r}")
        return bytes(data)

    # spend ---------------------------------------------------------------------------------

    def add_spend(self, rows: Sequence[SpendRow], upload_sha256: str, actor: str) -> int:
        """Store a usage upload's rows; the same upload twice is refused (409)."""
        at = audit.now()
        with self.write() as conn:
            audit.lock(conn)
            if conn.execute(
                select(spend_records.c.id)
                .where(spend_records.c.upload_sha256 == upload_sha256)
                .limit(1)
            ).first():
                raise Conflict("this usage file was recorded already (same content)")
            if rows:
                conn.execute(
                    spend_records.insert(),
                    [
                        {
                            "upload_sha256": upload_sha256,
                            "billing_period_start": r.billing_period_start,
                            "charge_period_start": r.charge_period_start,
                            "charge_period_end": r.charge_period_end,
                            "provider": r.provider,
                            "region": r.region,
                            "service": r.service,
                            "billed_cost": r.billed_cost,
                            "currency": r.currency,
                            "created_at": at,
                        }
                        for r in rows
                    ],
                )
            audit.append(
                conn,
                actor,
                "spend.record",
                f"spend/{upload_sha256}",
                {"rows": len(rows), "billed_cost": sum(r.billed_cost for r in rows)},
            )
        return len(rows)

    def spend_rows(self) -> list[SpendRow]:
        with self.read() as conn:
            rows = conn.execute(
                select(spend_records).order_by(spend_records.c.charge_period_start)
            ).all()
        return [
            SpendRow(
                r.billing_period_start,
                r.charge_period_start,
                r.charge_period_end,
                r.provider,
                r.region,
                r.service,
                float(r.billed_cost),
                r.currency,
            )
            for r in rows
        ]

    # jobs ----------------------------------------------------------------------------------

    def create_job(self, author: str) -> Job:
        job_id = secrets.token_hex(8)
        at = audit.now()
        with self.write() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    state="queued",
                    progress="queued",
                    plan_id=None,
                    error="",
                    author=author,
                    created_at=at,
                    updated_at=at,
                )
            )
            audit.append(conn, author, "job.create", f"job/{job_id}", {})
        return Job(job_id, "queued", "queued", None, "", author, at, at)

    def update_job(
        self,
        job_id: str,
        state: str,
        progress: str,
        plan_id: str | None = None,
        error: str = "",
    ) -> None:
        """Progress of a job (not audited: the plan it makes is)."""
        with self.write() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    state=state,
                    progress=progress[:2000],
                    plan_id=plan_id,
                    error=error[:4000],
                    updated_at=audit.now(),
                )
            )

    def get_job(self, job_id: str) -> Job:
        with self.read() as conn:
            r = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if r is None:
            raise NotFound(f"no job {job_id!r}")
        return Job(
            r.id, r.state, r.progress, r.plan_id, r.error, r.author, r.created_at, r.updated_at
        )

    def fail_unfinished_jobs(self) -> int:
        """At start-up: jobs a previous server left queued or running will never finish."""
        with self.write() as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.state.in_(("queued", "running")))
                .values(
                    state="failed",
                    error="the server stopped before the job finished; submit it again",
                    updated_at=audit.now(),
                )
            )
        return int(done.rowcount)

    # audit ---------------------------------------------------------------------------------

    def verify_audit(self, anchor: tuple[int, str] | None = None) -> audit.ChainReport:
        with self.read() as conn:
            return audit.verify_chain(conn, anchor)

    def audit_tail(self, limit: int = 50) -> list[dict[str, Any]]:
        from archipel.store.schema import audit_log

        with self.read() as conn:
            rows = conn.execute(
                select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
            ).all()
        return [
            {
                "seq": r.seq,
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "subject": r.subject,
                "hash": r.hash,
            }
            for r in rows
        ]
