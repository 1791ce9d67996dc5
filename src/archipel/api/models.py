"""Request and response bodies of the API (they make its OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from archipel.store.repo import ApplyRecord, Approval, Job, PlanSummary


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    ok: bool
    version: str
    solver: str


class SessionIn(_In):
    key: str = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    name: str
    role: str
    group: str


class KeyIn(_In):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
    role: Literal["viewer", "planner", "approver", "admin"]
    group: str = Field(default="default", min_length=1, max_length=100)


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    group: str
    key: str = Field(description="The API key; shown once, only its hash is stored.")


class SubmitIn(_In):
    spec_yaml: str = Field(min_length=1, max_length=2_000_000, description="The spec's text.")
    planner: Literal["lp", "greedy"] = "lp"
    mip_gap: float = Field(default=1e-3, ge=0.0, le=1.0)
    time_limit_s: float | None = Field(default=None, gt=0, le=86_400)


class ImportIn(_In):
    spec_yaml: str = Field(min_length=1, max_length=2_000_000)
    plan: dict[str, Any] = Field(description="A plan JSON made by `archipel plan --out`.")


class JobOut(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    progress: str
    plan_id: str | None
    error: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            state=job.state,
            progress=job.progress,
            plan_id=job.plan_id,
            error=job.error,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


class PlanOut(BaseModel):
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

    @classmethod
    def of(cls, s: PlanSummary) -> PlanOut:
        return cls(
            id=s.id,
            seq=s.seq,
            spec_name=s.spec_name,
            planner=s.planner,
            plan_status=s.plan_status,
            verified=s.verified,
            objective_usd=s.objective_usd,
            unused_commitment_usd=s.unused_commitment_usd,
            shortfall_usd=s.shortfall_usd,
            state=s.state,
            author=s.author,
            created_at=s.created_at,
        )


class PlanListOut(BaseModel):
    plans: list[PlanOut]
    next_before: int | None = Field(description="Pass as `before` for the next page.")


class PlanDetailOut(BaseModel):
    record: PlanOut
    spec_sha256: str
    catalog_sha256: str
    options: dict[str, Any]
    solver_version: str
    body_sha256: str
    plan: dict[str, Any]


class AttachIn(_In):
    document: dict[str, Any] = Field(
        description="An `archipel outlook --json` (or `simulate --json`) document."
    )


class AttachOut(BaseModel):
    id: int


class DecisionIn(_In):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=4000)
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Overridable gates this approval overrides: {gate name: reason}.",
    )


class ApprovalOut(BaseModel):
    id: int
    approver: str
    group: str
    decision: str
    comment: str
    overrides: dict[str, str]
    base_revision: int
    plan_body_sha256: str
    created_at: str
    counts: bool = Field(description="Bound to this plan body and the current applied revision.")

    @classmethod
    def of(cls, a: Approval, counts: bool) -> ApprovalOut:
        return cls(
            id=a.id,
            approver=a.approver,
            group=a.group,
            decision=a.decision,
            comment=a.comment,
            overrides=a.overrides,
            base_revision=a.base_revision,
            plan_body_sha256=a.plan_body_sha256,
            created_at=a.created_at,
            counts=counts,
        )


class GateOut(BaseModel):
    name: str
    figure: str
    limit: float | None
    level: str
    description: str
    value: float | None
    passed: bool
    override_reason: str
    blocks: bool


class ReviewOut(BaseModel):
    plan: PlanOut
    applied_plan_id: str | None
    applied_revision: int
    diff: dict[str, Any]
    unused_commitment_usd: float
    shortfall_usd: float
    outlook: dict[str, float] | None
    gates: list[GateOut]
    approvals: list[ApprovalOut]
    rule: dict[str, Any]
    ready: bool
    missing: list[str]


class FileOut(BaseModel):
    name: str
    sha256: str
    bytes: int


class ApplyOut(BaseModel):
    id: int
    target: str
    revision: int
    base_revision: int
    plan_id: str
    actor: str
    export_note: str
    created_at: str
    files: list[FileOut]

    @classmethod
    def of(cls, a: ApplyRecord) -> ApplyOut:
        return cls(
            id=a.id,
            target=a.target,
            revision=a.revision,
            base_revision=a.base_revision,
            plan_id=a.plan_id,
            actor=a.actor,
            export_note=a.export_note,
            created_at=a.created_at,
            files=[FileOut(name=n, sha256=s, bytes=b) for n, s, b in a.files],
        )


class SpendIn(_In):
    csv: str = Field(min_length=1, max_length=50_000_000, description="A FOCUS usage CSV.")


class SpendRecordedOut(BaseModel):
    rows: int
    billed_cost_usd: float


class SpendOut(BaseModel):
    applied_plan_id: str | None
    contract_years: list[dict[str, Any]]
    monthly: dict[str, dict[str, float]]
    total_actual_usd: float


class AuditOut(BaseModel):
    ok: bool
    rows: int
    broken_at: int | None
    problem: str
