"""The control plane's HTTP API (FastAPI). ``create_app(store, policy)`` builds it.

Flow: ``POST /api/plans`` (a job) → ``GET /api/jobs/ID`` → ``POST /api/plans/ID/review`` →
``POST /api/plans/ID/decisions`` (approvers) → ``POST /api/plans/ID/apply`` → files under
``/api/applies/N/files/…``; ``POST /api/spend`` records usage, ``GET /api/spend`` shows it
against the applied plan's commitments. The OpenAPI document is ``/api/openapi.json``, the
interactive one ``/api/docs``. Every write is audited in the same transaction.

Errors are JSON ``{"detail": "..."}``: 400 bad input, 401 no key, 403 role too low, 404 not
found, 409 the state moved (stale approval, lost apply race, duplicate), 422 a malformed body.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from archipel.api import handoff, models, review, spend
from archipel.api.auth import COOKIE, requires
from archipel.api.jobs import Jobs
from archipel.api.planning import SolveOptions, address_of, imported, load_spec, solver_version
from archipel.catalog.snapshot import load_builtin
from archipel.errors import UserError
from archipel.plan.result import Plan
from archipel.report.diff import diff_plans
from archipel.store.repo import Conflict, Key, KeyInfo, NotFound, Store

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": models.ErrorOut, "description": text}
    for code, text in (
        (400, "Bad input; the message says what and how to fix."),
        (401, "No valid API key."),
        (403, "The key's role may not do this."),
        (404, "Not found."),
        (409, "The stored state does not allow it (stale, already done, lost a race)."),
    )
}
PLAN_ID = r"^[0-9a-f]{64}$"

MAX_INT = 2**31 - 1  # what an INTEGER column holds on both databases
PlanId = Annotated[str, PathParam(pattern=PLAN_ID, description="A plan's 64-hex content address.")]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]
ApplyId = Annotated[int, PathParam(ge=1, le=MAX_INT)]
KeyId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{1,32}$", description="A key's id.")]
Viewer = Annotated[Key, Depends(requires("viewer"))]
Planner = Annotated[Key, Depends(requires("planner"))]
Approver = Annotated[Key, Depends(requires("approver"))]
Admin = Annotated[Key, Depends(requires("admin"))]


def _plan_of(text: str) -> Plan:
    return Plan.model_validate_json(text)


def _applied(store: Store) -> tuple[Plan | None, int, str | None]:
    head = store.head()
    if head.plan_id is None:
        return None, head.revision, None
    return _plan_of(store.get_plan(head.plan_id).body), head.revision, head.plan_id


def build_review(store: Store, policy: review.Policy, plan_id: str) -> models.ReviewOut:
    record = store.get_plan(plan_id)
    plan = _plan_of(record.body)
    applied, revision, applied_id = _applied(store)
    head = store.head()
    outlook = review.outlook_totals(store.latest_outlook(plan_id))
    found = store.approvals_for(plan_id)
    ready = review.readiness(policy, record, found, head, plan, applied, outlook)
    valid = set(map(id, review.current_approvals(found, record.body_sha256, head.revision)))
    return models.ReviewOut(
        plan=models.PlanOut.of(record.summary),
        applied_plan_id=applied_id,
        applied_revision=revision,
        diff=review.against_applied(plan, applied),
        unused_commitment_usd=plan.unused_commitment_usd,
        shortfall_usd=plan.shortfall_usd,
        outlook=outlook,
        gates=[models.GateOut(**_finite(g.as_dict())) for g in ready.gates],
        approvals=[models.ApprovalOut.of(a, id(a) in valid) for a in found],
        rule=policy.rule.model_dump(),
        ready=ready.ready,
        missing=list(ready.missing),
    )


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: an unbounded limit is null."""
    return {
        k: (None if isinstance(v, float) and v in (float("inf"), -float("inf")) else v)
        for k, v in d.items()
    }


def _error(status: int, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _policy(request: Request) -> review.Policy:
    policy: review.Policy = request.app.state.policy
    return policy


StoreDep = Annotated[Store, Depends(_store)]
PolicyDep = Annotated[review.Policy, Depends(_policy)]
router = APIRouter()


@router.get("/api/health", response_model=models.HealthOut, tags=["meta"])
def health(store: StoreDep) -> models.HealthOut:
    """Whether the server answers (no key needed)."""
    return models.HealthOut(ok=True, version=version("archipel"), solver=solver_version())


@router.post("/api/session", status_code=204, responses=ERRORS, tags=["meta"])
def login(body: models.SessionIn, response: Response, store: StoreDep) -> Response:
    """Keep an API key in an HttpOnly cookie (the dashboard's sign-in)."""
    key = store.key_for(body.key)
    if key is None:
        return _error(401, UserError("this API key is not valid"))
    response.status_code = 204
    response.set_cookie(COOKIE, body.key, httponly=True, samesite="strict")
    return response


@router.delete("/api/session", status_code=204, tags=["meta"])
def logout(response: Response, store: StoreDep) -> Response:
    response.status_code = 204
    response.delete_cookie(COOKIE)
    return response


@router.get("/api/me", response_model=models.MeOut, responses=ERRORS, tags=["meta"])
def me(key: Viewer, store: StoreDep) -> models.MeOut:
    return models.MeOut(name=key.name, role=key.role, group=key.group)


@router.post(
    "/api/keys", response_model=models.KeyOut, status_code=201, responses=ERRORS, tags=["admin"]
)
def create_key(body: models.KeyIn, key: Admin, store: StoreDep) -> models.KeyOut:
    """A new API key (admin). The key is in this answer only."""
    made, token = store.add_key(body.name, body.role, body.group, key.name)
    return models.KeyOut(id=made.id, name=made.name, role=made.role, group=made.group, key=token)


@router.get("/api/keys", response_model=list[KeyInfo], responses=ERRORS, tags=["admin"])
def list_keys(key: Admin, store: StoreDep) -> list[KeyInfo]:
    """Every API key (admin): id, name, role, group, whether revoked; never a secret."""
    return store.list_keys()


@router.delete("/api/keys/{key_id}", status_code=204, responses=ERRORS, tags=["admin"])
def revoke_key(key_id: KeyId, key: Admin, store: StoreDep) -> Response:
    """Revoke a key for good (admin; audited). 409 for the last admin key."""
    store.revoke_key(key_id, key.name)
    return Response(status_code=204)


@router.post(
    "/api/plans",
    response_model=models.JobOut,
    status_code=202,
    responses=ERRORS,
    tags=["plans"],
)
def submit(body: models.SubmitIn, key: Planner, request: Request, store: StoreDep) -> models.JobOut:
    """Plan a spec as a job; poll ``/api/jobs/ID``. A spec already planned with the same
    options, catalog and solver is not solved again: the job is done at once."""
    _, catalog = load_spec(body.spec_yaml)  # bad specs fail here, with line numbers
    options = SolveOptions(body.planner, body.mip_gap, body.time_limit_s)
    plan_id = address_of(body.spec_yaml, catalog, options)
    job = store.create_job(key.name)
    try:
        store.get_plan(plan_id)
    except NotFound:
        request.app.state.jobs.submit(job.id, body.spec_yaml, options, key.name)
    else:
        store.update_job(job.id, "done", "planned before (same spec and options)", plan_id)
    return models.JobOut.of(store.get_job(job.id))


@router.post(
    "/api/plans/import",
    response_model=models.PlanOut,
    status_code=201,
    responses=ERRORS,
    tags=["plans"],
)
def import_plan(body: models.ImportIn, key: Planner, store: StoreDep) -> models.PlanOut:
    """Store a plan made elsewhere (``archipel plan --out``), re-verified against its spec."""
    new = imported(body.spec_yaml, json.dumps(body.plan))
    plan_id, _ = store.insert_plan(new, key.name)
    return models.PlanOut.of(store.get_plan(plan_id).summary)


@router.get("/api/jobs/{job_id}", response_model=models.JobOut, responses=ERRORS, tags=["plans"])
def job(job_id: JobId, _key: Viewer, store: StoreDep) -> models.JobOut:
    return models.JobOut.of(store.get_job(job_id))


@router.get("/api/plans", response_model=models.PlanListOut, responses=ERRORS, tags=["plans"])
def list_plans(
    _key: Viewer,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> models.PlanListOut:
    """Stored plans, newest first; page on with ``before``."""
    found = store.list_plans(limit, before)
    nxt = found[-1].seq if len(found) == limit else None
    return models.PlanListOut(plans=[models.PlanOut.of(p) for p in found], next_before=nxt)


@router.get(
    "/api/plans/{plan_id}",
    response_model=models.PlanDetailOut,
    responses=ERRORS,
    tags=["plans"],
)
def get_plan(plan_id: PlanId, _key: Viewer, store: StoreDep) -> Response:
    """A stored plan: its record and the plan JSON (as stored, not re-parsed)."""
    r = store.get_plan(plan_id)
    head = json.dumps(
        {
            "record": models.PlanOut.of(r.summary).model_dump(),
            "spec_sha256": r.spec_sha256,
            "catalog_sha256": r.catalog_sha256,
            "options": r.options,
            "solver_version": r.solver_version,
            "body_sha256": r.body_sha256,
        }
    )
    return Response(head[:-1] + ',"plan":' + r.body + "}", media_type="application/json")


@router.get(
    "/api/plans/{plan_id}/compare/{other_id}",
    response_model=dict[str, Any],
    responses=ERRORS,
    tags=["plans"],
)
def compare(plan_id: PlanId, other_id: PlanId, _key: Viewer, store: StoreDep) -> dict[str, Any]:
    """What changes from ``plan_id`` to ``other_id``."""
    old = _plan_of(store.get_plan(plan_id).body)
    new = _plan_of(store.get_plan(other_id).body)
    return review.diff_summary(diff_plans(old, new))


@router.post(
    "/api/plans/{plan_id}/outlook",
    response_model=models.AttachOut,
    status_code=201,
    responses=ERRORS,
    tags=["review"],
)
def attach_outlook(
    plan_id: PlanId, body: models.AttachIn, key: Planner, store: StoreDep
) -> models.AttachOut:
    """Attach ``archipel outlook SPEC --plan P --json``; the review shows its risk figures."""
    text = review.check_outlook(json.dumps(body.document))
    return models.AttachOut(id=store.add_outlook(plan_id, text, key.name))


@router.post(
    "/api/plans/{plan_id}/simulation",
    response_model=models.AttachOut,
    status_code=201,
    responses=ERRORS,
    tags=["review"],
)
def attach_simulation(
    plan_id: PlanId, body: models.AttachIn, key: Planner, store: StoreDep
) -> models.AttachOut:
    """Keep a simulation's JSON with the plan."""
    return models.AttachOut(id=store.add_simulation(plan_id, json.dumps(body.document), key.name))


@router.post(
    "/api/plans/{plan_id}/review",
    response_model=models.ReviewOut,
    responses=ERRORS,
    tags=["review"],
)
def request_review(
    plan_id: PlanId, key: Planner, store: StoreDep, pol: PolicyDep
) -> models.ReviewOut:
    """Ask for review: the plan goes to ``in_review``; answers with the review."""
    record = store.get_plan(plan_id)
    if record.summary.state == "draft":
        store.set_state(plan_id, "in_review", key.name, {})
    return build_review(store, pol, plan_id)


@router.get(
    "/api/plans/{plan_id}/review",
    response_model=models.ReviewOut,
    responses=ERRORS,
    tags=["review"],
)
def get_review(plan_id: PlanId, _key: Viewer, store: StoreDep, pol: PolicyDep) -> models.ReviewOut:
    """The review: diff against the applied plan, risk, gates, approvals, what is missing."""
    return build_review(store, pol, plan_id)


@router.post(
    "/api/plans/{plan_id}/decisions",
    response_model=models.ApprovalOut,
    status_code=201,
    responses=ERRORS,
    tags=["review"],
)
def decide(
    plan_id: PlanId, body: models.DecisionIn, key: Approver, store: StoreDep, pol: PolicyDep
) -> models.ApprovalOut:
    """Approve or reject, bound to the plan's hash and the applied revision now."""
    record = store.get_plan(plan_id)
    if record.summary.state == "draft":
        raise Conflict("the plan has not been sent for review; POST …/review first")
    names = {g.name for g in pol.gates if g.level == "overridable"}
    unknown = sorted(set(body.overrides) - names)
    if unknown:
        raise UserError(
            f"cannot override {', '.join(unknown)}: overridable gates are "
            f"{', '.join(sorted(names)) or '(none)'}"
        )
    if (
        body.decision == "approve"
        and body.overrides
        and not all(r.strip() for r in body.overrides.values())
    ):
        raise UserError("an override needs a reason: {gate name: why}")
    a = store.add_approval(plan_id, key, body.decision, body.comment, body.overrides)
    return models.ApprovalOut.of(a, True)


@router.post(
    "/api/plans/{plan_id}/apply",
    response_model=models.ApplyOut,
    status_code=201,
    responses=ERRORS,
    tags=["apply"],
)
def apply(plan_id: PlanId, key: Approver, store: StoreDep, pol: PolicyDep) -> models.ApplyOut:
    """Apply: refused (409) when approvals are missing, the plan changed since approval,
    or the applied revision moved since approval; one of two concurrent applies wins."""
    record = store.get_plan(plan_id)
    plan = _plan_of(record.body)
    applied, _, _ = _applied(store)
    outlook = review.outlook_totals(store.latest_outlook(plan_id))
    check = review.apply_check(pol, applied, outlook)
    check(record, store.approvals_for(plan_id), store.head())  # fail before exporting
    files, note = handoff.export_files(store.spec_text(record.spec_sha256), plan)
    return models.ApplyOut.of(store.apply(plan_id, key.name, check, files, note))


@router.get("/api/applies", response_model=list[models.ApplyOut], responses=ERRORS, tags=["apply"])
def list_applies(_key: Viewer, store: StoreDep) -> list[models.ApplyOut]:
    return [models.ApplyOut.of(a) for a in store.list_applies()]


@router.get(
    "/api/applies/{apply_id}/files/{name:path}",
    responses=ERRORS,
    tags=["apply"],
    response_class=Response,
)
def apply_file(
    apply_id: ApplyId,
    name: Annotated[str, PathParam(max_length=400)],
    _key: Viewer,
    store: StoreDep,
) -> Response:
    """One exported file of an apply."""
    return Response(store.apply_file(apply_id, name), media_type="application/octet-stream")


@router.post(
    "/api/spend",
    response_model=models.SpendRecordedOut,
    status_code=201,
    responses=ERRORS,
    tags=["spend"],
)
def record_spend(body: models.SpendIn, key: Planner, store: StoreDep) -> models.SpendRecordedOut:
    """Record a FOCUS usage CSV (BillingPeriodStart, ChargePeriodStart, ProviderName, …)."""
    catalog = load_builtin()
    rows = spend.parse_focus_csv(
        body.csv, spend.known_providers((p.id, p.name) for p in catalog.providers)
    )
    from archipel.store.repo import sha256_text

    n = store.add_spend(rows, sha256_text(body.csv), key.name)
    return models.SpendRecordedOut(rows=n, billed_cost_usd=sum(r.billed_cost for r in rows))


@router.get("/api/spend", response_model=models.SpendOut, responses=ERRORS, tags=["spend"])
def get_spend(_key: Viewer, store: StoreDep) -> models.SpendOut:
    """Actual spend against the applied plan's contract commitments."""
    applied, _, applied_id = _applied(store)
    figures = spend.against_commitments(applied, store.spend_rows())
    return models.SpendOut(applied_plan_id=applied_id, **figures)


@router.get("/api/audit/verify", response_model=models.AuditOut, responses=ERRORS, tags=["admin"])
def audit_verify(_key: Admin, store: StoreDep) -> models.AuditOut:
    """Recompute the audit chain (admin)."""
    r = store.verify_audit()
    return models.AuditOut(ok=r.ok, rows=r.rows, broken_at=r.broken_at, problem=r.problem)


def create_app(
    store: Store, policy: review.Policy | None = None, dashboard: bool = True
) -> FastAPI:
    """The API (and the dashboard under ``/``) on ``store``, judging reviews by ``policy``."""
    pol = policy or review.default_policy()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.fail_unfinished_jobs()
        try:
            yield
        finally:
            app.state.jobs.shutdown()

    app = FastAPI(
        title="Archipel control plane",
        version=version("archipel"),
        description=__doc__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.policy = pol
    app.state.jobs = Jobs(store)

    app.add_exception_handler(NotFound, lambda _r, e: _error(404, e))
    app.add_exception_handler(Conflict, lambda _r, e: _error(409, e))
    app.add_exception_handler(UserError, lambda _r, e: _error(400, e))

    app.include_router(router)
    if dashboard:
        from archipel.web.pages import register

        register(app)
    return app
