"""Review rules as pure functions (gates, the approval rule, stale approvals), the FOCUS usage
reader, the policy file, and ``archipel audit verify`` on a tampered database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from typer.testing import CliRunner

from archipel.api import review, spend
from archipel.cli import app as cli_app
from archipel.errors import UserError
from archipel.plan.result import Plan, Status
from archipel.store.repo import Approval, Conflict, Head, PlanRecord, PlanSummary, Store
from archipel.store.schema import audit_log

BODY_SHA = "b" * 64


def plan(by_provider: dict[str, float], unused: float = 0.0, verified: bool = True) -> Plan:
    return Plan(
        spec_name="t",
        planner="lp",
        status=Status.OPTIMAL,
        objective_usd=sum(by_provider.values()),
        cost_by_provider_usd=by_provider,
        unused_commitment_usd=unused,
        verified=verified,
    )


def record(author: str = "pat") -> PlanRecord:
    s = PlanSummary("p" * 64, 1, "t", "lp", "optimal", True, 1.0, 0.0, 0.0, "in_review", author, "")
    body = plan({"aws": 50.0, "nebius": 50.0}).model_dump_json()
    return PlanRecord(s, "s" * 64, "c" * 64, {}, "v", body, BODY_SHA)


def approval(who: str, group: str, base: int = 0, sha: str = BODY_SHA, **over: str) -> Approval:
    return Approval(1, "p" * 64, sha, base, who, group, "approve", "", dict(over), "")


POLICY = review.default_policy()
BALANCED = plan({"aws": 50.0, "nebius": 50.0})


def ready(approvals: list[Approval], p: Plan = BALANCED, revision: int = 0) -> review.Readiness:
    return review.readiness(
        POLICY, record(), approvals, Head("default", revision, None), p, None, None
    )


def test_two_approvers_of_two_groups_make_a_plan_ready() -> None:
    assert ready([approval("ann", "lab"), approval("bob", "cloudco")]).ready
    same = ready([approval("ann", "lab"), approval("amy", "lab")])
    assert not same.ready and any("distinct groups" in m for m in same.missing)
    assert not ready([approval("ann", "lab")]).ready


def test_the_author_does_not_count() -> None:
    r = ready([approval("pat", "lab"), approval("bob", "cloudco")])
    assert not r.ready and any("author" in m for m in r.missing)


def test_approvals_at_another_revision_or_body_do_not_count() -> None:
    both = [approval("ann", "lab"), approval("bob", "cloudco")]
    assert not ready(both, revision=1).ready
    edited = [approval("ann", "lab", sha="x" * 64), approval("bob", "cloudco")]
    assert not ready(edited).ready


def test_an_overridable_gate_needs_a_reason_and_a_mandatory_one_cannot_be_overridden() -> None:
    lopsided = plan({"aws": 90.0, "nebius": 10.0})
    plain = [approval("ann", "lab"), approval("bob", "cloudco")]
    blocked = ready(plain, lopsided)
    assert not blocked.ready and any("one-provider-share" in m for m in blocked.missing)
    reason = {"one-provider-share": "pilot"}
    assert ready([approval("ann", "lab", **reason), approval("bob", "cloudco")], lopsided).ready
    strict = review.Policy(
        gates=(review.Gate(name="cap", figure="max_provider_share", limit=0.7, level="mandatory"),)
    )
    with_reason = [approval("ann", "lab", cap="please"), approval("bob", "cloudco")]
    r = review.readiness(
        strict, record(), with_reason, Head("default", 0, None), lopsided, None, None
    )
    assert not r.ready


def test_advisory_gates_never_block_and_unverified_plans_never_apply() -> None:
    plain = [approval("ann", "lab"), approval("bob", "cloudco")]
    assert ready(plain, plan({"a": 1.0, "b": 1.0}, unused=5.0)).ready  # unused: advisory
    assert not ready(plain, plan({"a": 1.0, "b": 1.0}, verified=False)).ready


def test_the_apply_check_says_stale() -> None:
    check = review.apply_check(POLICY, None, None)
    both = [approval("ann", "lab"), approval("bob", "cloudco")]
    assert check(record(), both, Head("default", 0, None)) == 0
    with pytest.raises(Conflict, match="stale"):
        check(record(), both, Head("default", 1, "q" * 64))


@given(st.dictionaries(st.sampled_from(["aws", "gcp", "oci"]), st.floats(0, 1e9), min_size=1))
def test_provider_share_is_a_share(costs: dict[str, float]) -> None:
    gate = review.DEFAULT_GATES[0]
    (result,) = review.evaluate_gates(review.Policy(gates=(gate,)), plan(costs), None, None, {})
    assert result.value is not None and 0.0 <= result.value <= 1.0


def test_outlook_totals_are_read_and_checked() -> None:
    doc = '{"totals": {"cvar95_usd": 3, "expected_stranded_usd": 1, "other": "x"}}'
    assert review.outlook_totals(doc) == {"cvar95_usd": 3.0, "expected_stranded_usd": 1.0}
    assert review.check_outlook(doc) == doc
    with pytest.raises(UserError, match="totals"):
        review.check_outlook('{"nothing": 1}')
    with pytest.raises(UserError, match="not JSON"):
        review.check_outlook("{")


KNOWN = spend.known_providers([("aws", "Amazon Web Services"), ("gcp", "Google Cloud")])
HEAD = "BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,BilledCost,BillingCurrency\n"


def test_focus_rows_are_read_with_provider_names_mapped() -> None:
    rows = spend.parse_focus_csv(
        HEAD
        + "2027-01-01,2027-01-05T00:00:00Z,2027-01-06,Amazon Web Services,us-east-1,12.5,USD\n"
        + "2027-01-01,2027-01-05,2027-01-06,Google,europe-west4,1,usd\n",
        KNOWN,
    )
    assert [(r.provider, r.billed_cost) for r in rows] == [("aws", 12.5), ("gcp", 1.0)]
    assert rows[0].charge_period_start.startswith("2027-01-05")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("2027-01-01,2027-01-05,2027-01-06,aws,x,lots,USD", "line 2: BilledCost"),
        ("2027-01-01,2027-01-05,2027-01-06,aws,x,1,EUR", "only USD"),
        ("2027-01-01,someday,2027-01-06,aws,x,1,USD", "ChargePeriodStart"),
        ("2027-01-01,2027-01-05,2027-01-06,aws,x,nan,USD", "plausible"),
    ],
)
def test_bad_usage_rows_are_named(line: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        spend.parse_focus_csv(HEAD + line + "\n", KNOWN)
    with pytest.raises(UserError, match="BilledCost"):
        spend.parse_focus_csv("ProviderName,Cost\naws,1\n", KNOWN)


def test_the_documented_policy_file_loads_and_a_bad_one_is_explained(tmp_path: Path) -> None:
    good = tmp_path / "policy.yaml"
    good.write_text(
        "gates:\n"
        "  - {name: one-provider-share, figure: max_provider_share, limit: 0.7, level: overridable}\n"
        "  - {name: stranded, figure: expected_stranded_usd, limit: 1.0e+8, level: mandatory}\n"
        "rule: {approvals: 2, distinct_groups: true, author_may_approve: false}\n",
        encoding="utf-8",
    )
    assert [g.level for g in review.load_policy(good).gates] == ["overridable", "mandatory"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "gates:\n  - {name: x, figure: nope, limit: 1, level: maybe}\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match=r"bad.yaml: .*gates\.0\.figure"):
        review.load_policy(bad)


def test_audit_verify_command_finds_a_tampered_row(tmp_path: Path) -> None:
    db = tmp_path / "archipel.db"
    store = Store.open(str(db))
    for name in ("a", "b", "c"):
        store.add_key(name, "viewer", "lab", "admin")
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify", "--db", str(db)])
    assert ok.exit_code == 0 and "3 rows" in ok.output
    head = json.loads(runner.invoke(cli_app, ["audit", "verify", "--db", str(db), "--json"]).stdout)
    assert head["head"].startswith("3:") and head["head"] in ok.output
    anchored = runner.invoke(
        cli_app, ["audit", "verify", "--db", str(db), "--anchor", head["head"]]
    )
    assert anchored.exit_code == 0
    bad = runner.invoke(cli_app, ["audit", "verify", "--db", str(db), "--anchor", "3:xyz"])
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.output
    with store.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory"))
    store.close()
    broken = runner.invoke(cli_app, ["audit", "verify", "--db", str(db), "--json"])
    assert broken.exit_code == 1
    assert '"broken_at": 2' in broken.stdout
    missing = runner.invoke(cli_app, ["audit", "verify", "--db", str(tmp_path / "none.db")])
    assert isinstance(missing.exception, UserError)  # main() turns it into exit 2
