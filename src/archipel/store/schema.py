"""The control plane's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are ISO-8601 UTC texts (``2026-11-30T06:12:00.123456+00:00``): they sort as text, hash
the same on both databases and need no time-zone handling. JSON documents (plans, outlooks,
policy overrides) are stored as text, exactly as hashed. The migrations in
``store/migrations`` create these tables; a test checks that they match this module.

Guards the database enforces (not Python locks):

- ``heads``: one row per apply target holding the applied revision (0: nothing applied yet).
  An apply is a conditional ``UPDATE heads SET revision = revision + 1 WHERE revision = base``;
  ``applies`` also has ``UNIQUE (target, revision)``. Two applies on one base: one row changes.
- ``audit_head``: the audit chain's last sequence number and hash. Each audited write locks it
  (``SELECT … FOR UPDATE``; SQLite's writers are serialised by ``BEGIN IMMEDIATE``), so the
  chain never forks.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TIME = String(40)
SHA = String(64)

specs = Table(
    "specs",
    metadata,
    Column("sha256", SHA, primary_key=True),  # of the spec's text
    Column("name", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
)

catalogs = Table(
    "catalogs",
    metadata,
    Column("sha256", SHA, primary_key=True),  # the snapshot's manifest content_sha256
    Column("source", String(400), nullable=False),
    Column("captured", String(40), nullable=False),
    Column("manifest", Text, nullable=False),  # JSON
    Column("created_at", TIME, nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("id", SHA, primary_key=True),  # content address: spec, catalog, options, solver
    Column("seq", Integer, nullable=False, unique=True),  # the seq of its audit row: order
    Column("spec_sha256", SHA, ForeignKey("specs.sha256"), nullable=False),
    Column("catalog_sha256", SHA, ForeignKey("catalogs.sha256"), nullable=False),
    Column("options", Text, nullable=False),  # canonical JSON
    Column("solver_version", String(80), nullable=False),
    Column("spec_name", String(200), nullable=False),
    Column("planner", String(20), nullable=False),
    Column("plan_status", String(20), nullable=False),  # the solver's: optimal, infeasible…
    Column("verified", Integer, nullable=False),
    Column("objective_usd", Float, nullable=True),
    Column("unused_commitment_usd", Float, nullable=False),
    Column("shortfall_usd", Float, nullable=False),
    Column("state", String(20), nullable=False),  # draft, in_review, rejected, applied
    Column("author", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("body", Text, nullable=False),  # the plan JSON
    Column("body_sha256", SHA, nullable=False),
)

outlooks = Table(
    "outlooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", SHA, ForeignKey("plans.id"), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
)

simulations = Table(
    "simulations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", SHA, ForeignKey("plans.id"), nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", SHA, ForeignKey("plans.id"), nullable=False, index=True),
    Column("plan_body_sha256", SHA, nullable=False),  # the plan as it was approved
    Column("base_revision", Integer, nullable=False),  # the applied revision then (0: none)
    Column("target", String(100), nullable=False),
    Column("approver", String(200), nullable=False),
    Column("approver_group", String(100), nullable=False),
    Column("decision", String(10), nullable=False),  # approve | reject
    Column("comment", Text, nullable=False),
    Column("overrides", Text, nullable=False),  # JSON {gate name: reason}
    Column("created_at", TIME, nullable=False),
    UniqueConstraint("plan_id", "approver", "base_revision", name="uq_approvals_once"),
)

heads = Table(
    "heads",
    metadata,
    Column("target", String(100), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("plan_id", SHA, ForeignKey("plans.id"), nullable=True),
)

applies = Table(
    "applies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(100), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("base_revision", Integer, nullable=False),
    Column("plan_id", SHA, ForeignKey("plans.id"), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("export_note", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
    UniqueConstraint("target", "revision", name="uq_applies_target_revision"),
)

apply_files = Table(
    "apply_files",
    metadata,
    Column("apply_id", Integer, ForeignKey("applies.id"), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("sha256", SHA, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

spend_records = Table(
    "spend_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("upload_sha256", SHA, nullable=False, index=True),
    Column("billing_period_start", String(40), nullable=False),
    Column("charge_period_start", String(40), nullable=False, index=True),
    Column("charge_period_end", String(40), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("region", String(100), nullable=False),
    Column("service", String(200), nullable=False),
    Column("billed_cost", Float, nullable=False),
    Column("currency", String(8), nullable=False),
    Column("created_at", TIME, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the public part of the key
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("key_group", String(100), nullable=False),
    Column("secret_sha256", SHA, nullable=False),
    Column("revoked", Integer, nullable=False),
    Column("created_at", TIME, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("state", String(20), nullable=False),  # queued, running, done, failed
    Column("progress", Text, nullable=False),
    Column("plan_id", SHA, nullable=True),
    Column("error", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON
    Column("prev_hash", SHA, nullable=False),
    Column("hash", SHA, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("seq", Integer, nullable=False),
    Column("hash", SHA, nullable=False),
)
