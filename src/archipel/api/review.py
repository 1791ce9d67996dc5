"""Review and approval as pure functions: gates, the approval rule, the apply check, the diff.

Nothing here touches the database: the API reads the state, these functions judge it.

- **Gates** (:class:`Gate`) test one figure of a plan (or of its attached outlook) against a
  limit, at one of three levels: ``advisory`` (shown, never blocks), ``overridable`` (blocks
  unless an approval names a reason to override it) and ``mandatory`` (blocks, no override).
- **The approval rule** (:class:`ApprovalRule`): how many approvals, whether they must come
  from distinct groups (a joint committee of two companies), whether the author may approve.
- **Apply** (:func:`apply_check`) counts only approvals bound to the plan's stored body hash
  and to the applied revision as it is now; "nothing applied yet" is revision 0, so the very
  first apply is checked like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archipel.errors import UserError
from archipel.plan.result import Plan
from archipel.report.diff import PlanDiff, diff_plans
from archipel.store.repo import Approval, Conflict, Head, PlanRecord

Level = Literal["advisory", "overridable", "mandatory"]
Figure = Literal[
    "max_provider_share",
    "unused_commitment_usd",
    "shortfall_usd",
    "cost_increase_share",
    "cvar95_usd",
    "expected_stranded_usd",
    "p_stranded_over_threshold",
]
OUTLOOK_FIGURES = ("expected_cost_usd", "cvar95_usd", "expected_stranded_usd")
OUTLOOK_SHARE = "p_stranded_over_threshold"


class Gate(BaseModel):
    """A limit on one figure: the plan passes when ``figure <= limit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    figure: Figure
    limit: float
    level: Level
    description: str = ""


class ApprovalRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approvals: int = Field(default=2, ge=1, le=20)
    distinct_groups: bool = True
    author_may_approve: bool = False


DEFAULT_GATES = (
    Gate(
        name="one-provider-share",
        figure="max_provider_share",
        limit=0.7,
        level="overridable",
        description="no more than 70 % of the plan's cost on one provider",
    ),
    Gate(
        name="unused-commitment",
        figure="unused_commitment_usd",
        limit=0.0,
        level="advisory",
        description="commitments paid for and carrying no load",
    ),
    Gate(
        name="contract-shortfall",
        figure="shortfall_usd",
        limit=0.0,
        level="overridable",
        description="contract commitments not met by the plan's spend",
    ),
    Gate(
        name="stranded-probability",
        figure="p_stranded_over_threshold",
        limit=0.2,
        level="advisory",
        description="outlook: chance that stranded commitment exceeds its threshold",
    ),
)


class Policy(BaseModel):
    """The server's policy file (``archipel server --policy FILE``, YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gates: tuple[Gate, ...] = DEFAULT_GATES
    rule: ApprovalRule = ApprovalRule()


def default_policy() -> Policy:
    return Policy(gates=DEFAULT_GATES, rule=ApprovalRule())


def load_policy(path: Path) -> Policy:
    """A policy file, or UserError naming the file and each problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not YAML: {exc}") from exc
    try:
        return Policy.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise UserError(
            f"{path}: {problems}. To fix: see docs/cli.md, 'archipel server', for the policy "
            "file's fields (gates: name, figure, limit, level; rule: approvals, "
            "distinct_groups, author_may_approve)."
        ) from None


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: Gate
    value: float | None  # None: the figure is not known (no outlook attached)
    passed: bool
    override_reason: str  # the reason an approval gave, when it overrides the gate

    @property
    def blocks(self) -> bool:
        if self.passed or self.gate.level == "advisory":
            return False
        return self.gate.level == "mandatory" or not self.override_reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.gate.name,
            "figure": self.gate.figure,
            "limit": self.gate.limit,
            "level": self.gate.level,
            "description": self.gate.description,
            "value": self.value,
            "passed": self.passed,
            "override_reason": self.override_reason,
            "blocks": self.blocks,
        }


def outlook_totals(outlook_json: str | None) -> dict[str, float] | None:
    """The ``totals`` of an ``archipel outlook --json`` document (numbers only), or None."""
    if outlook_json is None:
        return None
    data = json.loads(outlook_json)
    totals = data.get("totals") if isinstance(data, dict) else None
    if not isinstance(totals, dict):
        return None
    return {
        k: float(v)
        for k, v in totals.items()
        if k in (*OUTLOOK_FIGURES, OUTLOOK_SHARE) and isinstance(v, int | float)
    }


def check_outlook(text: str) -> str:
    """An outlook document to attach: JSON with numeric ``totals``; UserError otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"the outlook is not JSON (line {exc.lineno}: {exc.msg})") from None
    totals = data.get("totals") if isinstance(data, dict) else None
    if not isinstance(totals, dict) or not any(
        isinstance(totals.get(k), int | float) for k in (*OUTLOOK_FIGURES, OUTLOOK_SHARE)
    ):
        raise UserError(
            "the outlook has no `totals` with expected_cost_usd, cvar95_usd, "
            "expected_stranded_usd or p_stranded_over_threshold. To fix: attach the output "
            "of `archipel outlook SPEC --plan PLAN --json`."
        )
    return text


def _figure(
    gate: Gate, plan: Plan, old: Plan | None, outlook: dict[str, float] | None
) -> float | None:
    if gate.figure == "max_provider_share":
        total = sum(plan.cost_by_provider_usd.values())
        return max(plan.cost_by_provider_usd.values()) / total if total > 0 else 0.0
    if gate.figure == "unused_commitment_usd":
        return plan.unused_commitment_usd
    if gate.figure == "shortfall_usd":
        return plan.shortfall_usd
    if gate.figure == "cost_increase_share":
        if old is None or not old.objective_usd or plan.objective_usd is None:
            return 0.0
        return (plan.objective_usd - old.objective_usd) / abs(old.objective_usd)
    return None if outlook is None else outlook.get(gate.figure)


def evaluate_gates(
    policy: Policy,
    plan: Plan,
    old: Plan | None,
    outlook: dict[str, float] | None,
    overrides: dict[str, str],
) -> list[GateResult]:
    """Every gate on this plan. A figure that is not known passes an advisory gate and fails
    the others (an outlook gate needs an outlook attached)."""
    out = []
    for gate in policy.gates:
        value = _figure(gate, plan, old, outlook)
        passed = value <= gate.limit + 1e-9 if value is not None else gate.level == "advisory"
        reason = overrides.get(gate.name, "") if gate.level == "overridable" else ""
        out.append(GateResult(gate, value, passed, reason))
    return out


def current_approvals(
    approvals: Sequence[Approval], body_sha256: str, revision: int
) -> list[Approval]:
    """The decisions that still count: on this very plan body, at this applied revision."""
    return [
        a for a in approvals if a.plan_body_sha256 == body_sha256 and a.base_revision == revision
    ]


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether a plan may be applied now, and every reason it may not."""

    approved_by: tuple[str, ...]
    rejected_by: tuple[str, ...]
    missing: tuple[str, ...]  # human sentences: what is still needed
    gates: tuple[GateResult, ...]

    @property
    def ready(self) -> bool:
        return not self.missing


def readiness(
    policy: Policy,
    record: PlanRecord,
    approvals: Sequence[Approval],
    head: Head,
    plan: Plan,
    old: Plan | None,
    outlook: dict[str, float] | None,
) -> Readiness:
    rule = policy.rule
    valid = current_approvals(approvals, record.body_sha256, head.revision)
    yes = [a for a in valid if a.decision == "approve"]
    no = [a for a in valid if a.decision == "reject"]
    counted = [a for a in yes if rule.author_may_approve or a.approver != record.summary.author]
    overrides: dict[str, str] = {}
    for a in counted:
        for name, reason in a.overrides.items():
            overrides.setdefault(name, f"{reason} ({a.approver})")
    gates = evaluate_gates(policy, plan, old, outlook, overrides)
    missing: list[str] = []
    if not plan.verified:
        missing.append("the plan is not verified (only verified plans can be applied)")
    if no:
        missing.append("rejected by " + ", ".join(a.approver for a in no))
    if len(counted) < rule.approvals:
        missing.append(
            f"{rule.approvals} approvals needed at applied revision {head.revision}, "
            f"{len(counted)} given"
            + ("" if rule.author_may_approve else " (the author's own does not count)")
        )
    if rule.distinct_groups:
        groups = {a.group for a in counted}
        if counted and len(groups) < min(rule.approvals, len(counted)):
            missing.append(
                f"approvals must come from {rule.approvals} distinct groups; "
                f"so far: {', '.join(sorted(groups))}"
            )
    missing += [
        f"gate {g.gate.name} ({g.gate.level}) fails: {g.value} > {g.gate.limit}"
        + (" — an approver may override it with a reason" if g.gate.level == "overridable" else "")
        for g in gates
        if g.blocks
    ]
    stale = [a for a in approvals if a not in valid and a.decision == "approve"]
    if stale and len(counted) < rule.approvals:
        missing.append(
            f"{len(stale)} earlier approval(s) no longer count: given at another applied "
            "revision or on another version of the plan"
        )
    return Readiness(
        tuple(a.approver for a in yes),
        tuple(a.approver for a in no),
        tuple(missing),
        tuple(gates),
    )


def apply_check(
    policy: Policy, old: Plan | None, outlook: dict[str, float] | None
) -> Callable[[PlanRecord, list[Approval], Head], int]:
    """The check :meth:`Store.apply` runs inside its transaction; returns the base revision."""

    def check(record: PlanRecord, approvals: list[Approval], head: Head) -> int:
        plan = Plan.model_validate_json(record.body)
        ready = readiness(policy, record, approvals, head, plan, old, outlook)
        if not ready.ready:
            stale_base = {a.base_revision for a in approvals if a.base_revision != head.revision}
            if stale_base:
                raise Conflict(
                    f"stale: plan {record.summary.id[:12]} was approved at applied revision "
                    f"{max(stale_base)}, but the applied revision is now {head.revision}. "
                    "Not applied; review it again. Also: " + "; ".join(ready.missing)
                )
            raise Conflict(
                f"plan {record.summary.id[:12]} cannot be applied: " + "; ".join(ready.missing)
            )
        return head.revision

    return check


def diff_summary(diff: PlanDiff, limit: int = 50) -> dict[str, Any]:
    """The diff as JSON: totals, providers, placements (largest first), contracts."""
    return {
        "old_objective_usd": diff.old_objective_usd,
        "new_objective_usd": diff.new_objective_usd,
        "objective_delta_usd": diff.objective_delta_usd,
        "old_unused_usd": diff.old_unused_usd,
        "new_unused_usd": diff.new_unused_usd,
        "providers": [
            {"name": c.name, "old_usd": c.old, "new_usd": c.new, "delta_usd": c.delta}
            for c in diff.providers
        ],
        "placements": [
            {
                "workload": p.key.workload,
                "region": p.key.region,
                "instance_type": p.key.instance_type,
                "purchase_option": p.key.purchase_option,
                "kind": p.kind,
                "old_accelerator_hours": p.old_accelerator_hours,
                "new_accelerator_hours": p.new_accelerator_hours,
                "cost_delta_usd": p.cost_delta_usd,
            }
            for p in diff.placements[:limit]
        ],
        "placements_changed": len(diff.placements),
        "placements_unchanged": diff.unchanged_placements,
        "contracts": [
            {
                "contract": c.contract,
                "provider": c.provider,
                "year": c.year,
                "old_spent_usd": c.old_spent_usd,
                "new_spent_usd": c.new_spent_usd,
                "old_shortfall_usd": c.old_shortfall_usd,
                "new_shortfall_usd": c.new_shortfall_usd,
            }
            for c in diff.contracts
        ],
    }


def against_applied(plan: Plan, applied: Plan | None) -> dict[str, Any]:
    """The diff against the applied plan; with nothing applied, against an empty plan."""
    empty = Plan(spec_name="(nothing applied)", planner=plan.planner, status=plan.status)
    return diff_summary(diff_plans(applied if applied is not None else empty, plan))
