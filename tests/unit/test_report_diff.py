"""``diff_plans``: deltas checked against hand-computed figures."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from rich.console import Console

from archipel.plan.result import Allocation, ContractYear, Plan, ScenarioResult, Status
from archipel.report.diff import PlanDiff, diff_plans, render_diff
from plans import alloc, make_plan


def chat(region: str, option: str, period: int, nodes: float, cost: float) -> Allocation:
    instance = {"aws": "p5.48xlarge", "gcp": "a3-highgpu-8g"}.get(region.split(":")[0], "ND96")
    return alloc("chat", region, instance, "H100", option, period, nodes, cost)


def contract(spent: float, shortfall: float) -> ContractYear:
    return ContractYear(
        contract="aws-38b",
        provider="aws",
        year=2027,
        committed_usd=2_000_000.0,
        spent_usd=spent,
        shortfall_usd=shortfall,
    )


def scenario(chat: float) -> ScenarioResult:
    return ScenarioResult(
        scenario="provider:aws",
        required_fraction=0.5,
        served_fraction={"chat": chat},
        ok=chat >= 0.5,
    )


def base_plan(**overrides: Any) -> Plan:
    """The shared plan factory's plan with a one-service fleet on aws and gcp."""
    fields: dict[str, Any] = {
        "spec_name": "lab",
        "objective_usd": 3_000_000.0,
        "cost_by_provider_usd": {"aws": 2_000_000.0, "gcp": 1_000_000.0},
        "cost_by_period_usd": [1_500_000.0, 1_500_000.0],
        "cost_by_purchase_option_usd": {},
        "allocations": [
            chat("aws:eu-west-1", "on_demand", 0, 10, 1_000_000.0),
            chat("aws:eu-west-1", "on_demand", 1, 10, 1_000_000.0),
            chat("gcp:europe-west4", "on_demand", 0, 5, 500_000.0),
            chat("gcp:europe-west4", "on_demand", 1, 5, 500_000.0),
        ],
        "contracts": [contract(2_000_000.0, 0.0)],
        "survivability": [scenario(0.6)],
    }
    fields.update(overrides)
    return make_plan(**fields)


def moved_plan() -> Plan:
    """aws H100 drops to 6 nodes in period 1 (-4 × 8 × 2000 = -64,000 accel-h, -$400K);
    gcp H100 goes away; azure spot H100 appears: 7 nodes in each period = 224,000 accel-h."""
    return base_plan(
        status=Status.FEASIBLE,
        verified=False,
        objective_usd=2_850_000.0,
        cost_by_provider_usd={"aws": 1_600_000.0, "azure": 1_250_000.0},
        cost_by_period_usd=[1_500_000.0, 1_350_000.0],
        allocations=[
            chat("aws:eu-west-1", "on_demand", 0, 10, 1_000_000.0),
            chat("aws:eu-west-1", "on_demand", 1, 6, 600_000.0),
            chat("azure:westeurope", "spot", 0, 7, 625_000.0),
            chat("azure:westeurope", "spot", 1, 7, 625_000.0),
        ],
        contracts=[contract(1_600_000.0, 400_000.0)],
        survivability=[scenario(0.45)],
    )


def test_objective_status_and_verified() -> None:
    d = diff_plans(base_plan(), moved_plan())
    assert d.objective_delta_usd == pytest.approx(-150_000.0)
    assert (d.old_status, d.new_status) == (Status.OPTIMAL, Status.FEASIBLE)
    assert (d.old_verified, d.new_verified) == (True, False)
    assert not d.is_empty


def test_provider_and_period_deltas() -> None:
    d = diff_plans(base_plan(), moved_plan())
    deltas = {c.name: c.delta for c in d.providers}
    assert deltas == pytest.approx({"aws": -400_000.0, "gcp": -1_000_000.0, "azure": 1_250_000.0})
    assert [c.name for c in d.providers] == ["azure", "gcp", "aws"]  # by |delta|
    assert [(c.name, c.delta) for c in d.periods] == [("2027-Q1", 0.0), ("2027-Q2", -150_000.0)]
    azure = next(c for c in d.providers if c.name == "azure")
    assert azure.relative is None  # new provider: no relative change


def test_allocations_moved() -> None:
    d = diff_plans(base_plan(), moved_plan())
    by_region = {c.key.region: c for c in d.placements}
    aws = by_region["aws:eu-west-1"]
    assert aws.kind == "changed"
    assert aws.old_accelerator_hours == pytest.approx(320_000.0)  # 20 node-periods × 8 × 2000
    assert aws.accelerator_hours_delta == pytest.approx(-64_000.0)
    assert aws.cost_delta_usd == pytest.approx(-400_000.0)
    gcp = by_region["gcp:europe-west4"]
    assert gcp.kind == "removed"
    assert (gcp.new_accelerator_hours, gcp.cost_delta_usd) == (0.0, -1_000_000.0)
    azure = by_region["azure:westeurope"]
    assert azure.kind == "added"
    assert azure.key.purchase_option == "spot"
    assert azure.new_accelerator_hours == pytest.approx(224_000.0)
    assert azure.cost_delta_usd == pytest.approx(1_250_000.0)
    assert [c.key.region for c in d.placements] == [
        "azure:westeurope",
        "gcp:europe-west4",
        "aws:eu-west-1",
    ]
    assert d.unchanged_placements == 0


def test_contract_and_survivability_changes() -> None:
    d = diff_plans(base_plan(), moved_plan())
    (c,) = d.contracts
    assert (c.contract, c.year) == ("aws-38b", 2027)
    assert c.shortfall_delta_usd == pytest.approx(400_000.0)
    (s,) = d.survivability
    assert (s.scenario, s.service, s.old_served, s.new_served) == (
        "provider:aws",
        "chat",
        0.6,
        0.45,
    )
    assert (s.old_ok, s.new_ok) == (True, False)


def test_same_plan_has_no_differences() -> None:
    plan = base_plan()
    d = diff_plans(plan, Plan.model_validate_json(plan.model_dump_json()))
    assert d.is_empty
    assert d.placements == () and d.unchanged_placements == 2
    console = Console(file=io.StringIO(), record=True, width=100)
    render_diff(d, console)
    assert "No differences." in console.export_text()


def test_status_only_change() -> None:
    d = diff_plans(base_plan(planner="greedy", status=Status.FEASIBLE), base_plan())
    assert not d.is_empty and d.placements_and_costs_unchanged
    console = Console(file=io.StringIO(), record=True, width=100)
    render_diff(d, console)
    text = console.export_text()
    assert "status feasible → optimal" in text
    assert "Costs, placements, commitments and survivability are unchanged." in text


def test_tiny_float_noise_is_not_a_change() -> None:
    plan = base_plan()
    noisy = base_plan(cost_by_provider_usd={"aws": 2_000_000.0000001, "gcp": 1_000_000.0})
    assert diff_plans(plan, noisy).is_empty


def test_network_transfer_is_shown_when_either_plan_has_it() -> None:
    """A gateway's transfer of $12K in the new plan: the objective moves by it, and so does
    the transfer line; a change of transfer alone is a change."""
    old = base_plan()
    new = base_plan(objective_usd=3_012_000.0, egress_usd=12_000.0)
    d = diff_plans(old, new)
    assert (d.old_egress_usd, d.new_egress_usd) == (0.0, 12_000.0)
    text = render(d, 100)
    assert "objective $3M → $3.01M (+$12K, +0.4%)" in text
    assert "network transfer $0 → $12K (+$12K)" in text
    assert "network transfer" not in render(diff_plans(old, old), 100)
    assert not diff_plans(new, base_plan(egress_usd=9_000.0)).placements_and_costs_unchanged


def test_unused_commitment_is_shown_when_either_plan_has_it() -> None:
    old = base_plan(unused_commitment_usd=250_000.0)
    new = base_plan(unused_commitment_usd=100_000.0)
    d = diff_plans(old, new)
    assert "unused commitment $250K → $100K (-$150K)" in render(d, 100)
    assert not d.placements_and_costs_unchanged
    assert "unused commitment" not in render(diff_plans(base_plan(), base_plan()), 100)


def test_diff_is_frozen() -> None:
    d = diff_plans(base_plan(), moved_plan())
    assert isinstance(d, PlanDiff)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.new_spec = "x"  # type: ignore[misc]


def test_render_diff_shows_the_deltas() -> None:
    console = Console(file=io.StringIO(), record=True, width=100)
    render_diff(diff_plans(base_plan(), moved_plan()), console)
    text = console.export_text()
    assert "status optimal → feasible" in text
    assert "verified ✓ → ✗" in text
    assert "objective $3M → $2.85M (-$150K, -5.0%)" in text
    assert "+$1.25M" in text and "-$400K" in text
    assert "-64,000" in text and "+224,000" in text
    assert "$0 → $400K" in text
    assert "60.0% → 45.0%" in text and "✓ → ✗" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def render(d: PlanDiff, width: int) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    render_diff(d, console)
    return console.export_text()


def words(text: str) -> set[str]:
    return {w for line in text.splitlines() for w in line.split() if set(w) - set("─█")}


def realistic_diff() -> PlanDiff:
    """The shared realistic plan, then the same with azure's H100 nodes moved to a spot H200
    instance type, the aws shortfall doubled and the azure-loss scenario half served."""
    plan = make_plan()
    moved = [a for a in plan.allocations if a.provider != "azure"] + [
        alloc("assistant", "azure:southcentralus", "Standard_ND96isr_H200_v5", "H200", "spot",
              t, 110, 1.9e6, per_replica=4, utilisation=0.9, source="estimated")
        for t in (0, 1)
    ]  # fmt: skip
    aws, oci = plan.contracts
    survivability = [
        s.model_copy(update={"served_fraction": {"assistant": 0.5, "api-open": 1.0}})
        if s.scenario == "provider:azure"
        else s
        for s in plan.survivability
    ]
    new = make_plan(
        allocations=moved,
        objective_usd=8_066_000.0,
        cost_by_provider_usd={**plan.cost_by_provider_usd, "azure": 3_800_000.0, "aws": 500_000.0},
        contracts=[aws.model_copy(update={"shortfall_usd": 200_000.0}), oci],
        survivability=survivability,
    )
    return diff_plans(plan, new)


def test_realistic_diff_names_instance_types() -> None:
    text = render(realistic_diff(), 120)
    assert "Standard_ND96isr_H100_v5" in text and "Standard_ND96isr_H200_v5" in text
    assert "-$5.2M" in text and "+$3.8M" in text
    assert "0.0% → 50.0%" in text


@pytest.mark.parametrize("width", [60, 80, 120])
def test_diff_fits_the_width_with_words_whole(width: int) -> None:
    d = realistic_diff()
    text = render(d, width)
    assert max(len(line) for line in text.splitlines()) <= width
    narrow_headers = "workload / region / instance type spent now shortfall now scenario / service"
    vocabulary = words(render(d, 1000)) | words("OD = on-demand, resv = reserved " + narrow_headers)
    assert words(text) <= vocabulary, words(text) - vocabulary
    assert "Standard_ND96isr_H200_v5" in text and "azure:southcentralus" in text
