"""The values the control plane's store takes and gives: plain frozen dataclasses (no ORM
objects leave the store), the roles, content addresses, and the errors a client can act on:
:class:`Conflict` (409: the state moved, e.g. a stale apply) and :class:`NotFound` (404).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from archipel.errors import UserError
from archipel.store import audit

ROLES = ("viewer", "planner", "approver", "admin")
DEFAULT_TARGET = "default"


class NotFound(UserError):
    """A plan, job, apply or file that the store does not hold."""

    code = "ARC-NOTFOUND"


class Conflict(UserError):
    """The request does not fit the stored state (stale approval, lost apply race…)."""

    code = "ARC-CONFLICT"


def sha256_text(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def plan_address(
    spec_sha256: str, catalog_sha256: str, options: dict[str, Any], solver_version: str
) -> str:
    """A plan's content address: same spec text, catalog, options and solver → same plan id."""
    return sha256_text(
        audit.canonical(
            {
                "spec": spec_sha256,
                "catalog": catalog_sha256,
                "options": options,
                "solver": solver_version,
            }
        )
    )


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    name: str
    role: str
    group: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A stored key as an admin lists it (never its secret)."""

    id: str
    name: str
    role: str
    group: str
    revoked: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class PlanSummary:
    id: str
    seq: int
    spec_name: str
    planner: str
    plan_status: str
    verified: bool
    objective_usd: float | None
    unused_commitment_usd: float
    shortfall_usd: float
    state: str
    author: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PlanRecord:
    summary: PlanSummary
    spec_sha256: str
    catalog_sha256: str
    options: dict[str, Any]
    solver_version: str
    body: str
    body_sha256: str


@dataclass(frozen=True, slots=True)
class NewPlan:
    """What :meth:`Store.insert_plan` needs: the spec, catalog, options and the plan JSON."""

    spec_text: str
    spec_name: str
    catalog_sha256: str
    catalog_source: str
    catalog_captured: str
    catalog_manifest: dict[str, Any]
    options: dict[str, Any]
    solver_version: str
    body: str  # the plan JSON
    planner: str
    plan_status: str
    verified: bool
    objective_usd: float | None
    unused_commitment_usd: float
    shortfall_usd: float

    @property
    def address(self) -> str:
        return plan_address(
            sha256_text(self.spec_text), self.catalog_sha256, self.options, self.solver_version
        )


@dataclass(frozen=True, slots=True)
class Approval:
    id: int
    plan_id: str
    plan_body_sha256: str
    base_revision: int
    approver: str
    group: str
    decision: str
    comment: str
    overrides: dict[str, str]
    created_at: str


@dataclass(frozen=True, slots=True)
class Head:
    target: str
    revision: int
    plan_id: str | None


@dataclass(frozen=True, slots=True)
class ApplyRecord:
    id: int
    target: str
    revision: int
    base_revision: int
    plan_id: str
    actor: str
    export_note: str
    created_at: str
    files: tuple[tuple[str, str, int], ...]  # name, sha256, bytes


@dataclass(frozen=True, slots=True)
class SpendRow:
    billing_period_start: str
    charge_period_start: str
    charge_period_end: str
    provider: str
    region: str
    service: str
    billed_cost: float
    currency: str


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    state: str
    progress: str
    plan_id: str | None
    error: str
    author: str
    created_at: str
    updated_at: str
