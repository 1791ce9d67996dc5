"""The terminal summary: money formatting, aggregation and what the summary shows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from archipel.plan.result import (
    Allocation,
    BindingRule,
    Blocker,
    ContractYear,
    Plan,
    ScenarioResult,
    Status,
)
from archipel.report.terminal import aggregate_placements, format_usd, render_summary


def alloc(
    workload: str,
    region: str,
    accelerator: str,
    option: str,
    period: int,
    nodes: float,
    cost: float,
    kind: str = "service",
    hours: float = 2000.0,
) -> Allocation:
    return Allocation(
        workload=workload,
        workload_kind=kind,  # type: ignore[arg-type]
        provider=region.split(":")[0],
        region=region,
        instance_type=f"{accelerator}x8",
        accelerator=accelerator,
        purchase_option=option,
        offering_id=f"{region}/{accelerator}/{option}",
        period=period,
        period_label=f"2027-Q{period + 1}",
        nodes=nodes,
        accelerators=nodes * 8,
        hours=hours,
        cost_usd=cost,
    )


def make_plan(**overrides: Any) -> Plan:
    fields: dict[str, Any] = {
        "spec_name": "frontier-lab",
        "planner": "lp",
        "status": Status.OPTIMAL,
        "message": "HiGHS: optimal",
        "objective_usd": 3_450_000.0,
        "lower_bound_usd": 3_440_000.0,
        "gap": 0.0029,
        "verified": True,
        "periods": ["2027-Q1", "2027-Q2"],
        "period_hours": [2160.0, 2184.0],
        "cost_by_provider_usd": {"aws": 2_000_000.0, "oci": 1_200_000.0, "gcp": 250_000.0},
        "cost_by_period_usd": [1_500_000.0, 1_700_000.0],
        "cost_by_purchase_option_usd": {"on_demand": 2_100_000.0, "reserved": 1_100_000.0},
        "shortfall_usd": 250_000.0,
        "reserved_fixed_usd": 400_000.0,
        "allocations": [
            alloc("chat", "aws:eu-west-1", "H100", "on_demand", 0, 10, 600_000.0),
            alloc("chat", "aws:eu-west-1", "H100", "on_demand", 1, 12, 700_000.0),
            alloc("chat", "oci:eu-frankfurt-1", "H200", "reserved", 0, 4, 0.0),
            alloc("pretrain", "oci:us-ashburn-1", "B200", "on_demand", 1, 50, 1e6, "training"),
        ],
        "contracts": [
            ContractYear(
                contract="aws-38b",
                provider="aws",
                year=2027,
                committed_usd=2_250_000.0,
                spent_usd=2_000_000.0,
                shortfall_usd=250_000.0,
            ),
            ContractYear(
                contract="oci-300b",
                provider="oci",
                year=2027,
                committed_usd=1_000_000.0,
                spent_usd=1_200_000.0,
                shortfall_usd=0.0,
            ),
        ],
        "survivability": [
            ScenarioResult(
                scenario="provider:aws",
                required_fraction=0.5,
                served_fraction={"chat": 0.62, "code": 0.4},
                ok=False,
            )
        ],
        "binding_rules": [
            BindingRule(
                family="provider-spend-share-upper",
                entity="aws",
                shadow_price_usd=-0.12,
                description="aws at most 60% of spend",
            ),
            BindingRule(
                family="offering-nodes-upper",
                entity="oci:eu-frankfurt-1/H200",
                shadow_price_usd=52_000.0,
                description="block capacity",
            ),
        ],
        "timings_s": {"build": 0.12, "solve": 1.5},
        "stats": {"variables": 123_456, "constraints": 54_321, "nonzeros": 999_999},
    }
    fields.update(overrides)
    return Plan(**fields)


def summary(plan: Plan) -> str:
    console = Console(record=True, width=100)
    render_summary(plan, console)
    return console.export_text()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "$0"),
        (950.0, "$950"),
        (12_345.0, "$12.3K"),
        (1_234_567.0, "$1.23M"),
        (4.5e9, "$4.5B"),
        (999_999.0, "$1M"),
        (999.6, "$1K"),
        (-2_500_000.0, "-$2.5M"),
        (0.12, "$0.12"),
        (0.0078125, "$7.8e-3"),
        (3.0e12, "$3T"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_format_usd(value: float | None, text: str) -> None:
    assert format_usd(value) == text


def test_format_usd_signed() -> None:
    assert format_usd(250_000.0, signed=True) == "+$250K"
    assert format_usd(-250_000.0, signed=True) == "-$250K"
    assert format_usd(0.0, signed=True) == "$0"


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_format_usd_is_short(value: float) -> None:
    text = format_usd(value, signed=True)
    assert text.lstrip("+-").startswith("$")
    assert len(text) <= (8 if abs(value) >= 1e-9 or value == 0 else 10)
    assert "e" not in text or abs(value) < 0.01


def test_aggregate_placements_peaks_and_sums() -> None:
    """chat on aws H100: 10 then 12 nodes → peak 12 nodes / 96 accelerators;
    accelerator-hours = (10 + 12) × 8 × 2000 = 352,000; cost 600K + 700K."""
    placements = aggregate_placements(make_plan().allocations)
    chat = next(t for k, t in placements.items() if k.region == "aws:eu-west-1")
    assert (chat.peak_nodes, chat.peak_accelerators) == (12, 96)
    assert chat.accelerator_hours == pytest.approx(352_000.0)
    assert chat.cost_usd == pytest.approx(1_300_000.0)
    assert chat.periods == 2
    assert len(placements) == 3


def test_summary_header_and_totals() -> None:
    text = summary(make_plan())
    assert "frontier-lab" in text
    assert "status optimal" in text
    assert "verified ✓" in text
    assert "objective $3.45M" in text
    assert "LP lower bound $3.44M" in text
    assert "gap 0.29%" in text
    assert "solver: HiGHS: optimal" in text
    assert "58.0%" in text  # aws: 2M of 3.45M
    assert "total      $3.45M" in text or "$3.45M" in text.split("total", 1)[1]
    assert "take-or-pay shortfall $250K" in text


def test_summary_sections() -> None:
    text = summary(make_plan())
    for heading in (
        "Cost by provider",
        "Spend per period",
        "Purchase-option mix",
        "Where each workload runs",
        "Commitments per contract and year",
        "Survivability per failure scenario",
        "Binding rules",
    ):
        assert heading in text
    assert "pretrain (training)" in text
    assert "$1.3M" in text  # chat on aws over both periods
    assert "123,456 variables" in text
    assert "solve 1.50 s" in text


def test_summary_commitments_and_survivability() -> None:
    text = summary(make_plan())
    aws_row = next(line for line in text.splitlines() if line.startswith(" aws-38b"))
    assert "$2.25M" in aws_row and "$250K" in aws_row
    code_row = next(line for line in text.splitlines() if " code " in line)
    assert "40.0%" in code_row and "✗" in code_row
    chat_row = next(line for line in text.splitlines() if "provider:aws   chat" in line)
    assert "✓" in chat_row


def test_binding_rules_sorted_by_shadow_price_and_capped() -> None:
    rules = [
        BindingRule(family=f"family-{i:02d}", entity="e", shadow_price_usd=i, description="d")
        for i in range(20)
    ]
    text = summary(make_plan(binding_rules=rules))
    assert text.index("family-19") < text.index("family-18")
    assert "family-05" in text and "family-04" not in text  # top 15 of 20
    assert "5 more binding rules" in text


def test_binding_rule_descriptions_listed_once_per_family() -> None:
    text = summary(make_plan())
    assert text.count("block capacity") == 1
    assert text.index("offering-nodes-upper") < text.index("provider-spend-share-upper")


def test_placements_capped_per_workload_with_the_rest_summed() -> None:
    """12 regions of 'chat' costing 1..12 $K: the 8 dearest are shown, the other four
    (1 + 2 + 3 + 4 = $10K) are summed in one row."""
    allocations = [
        alloc("chat", f"aws:region-{i:02d}", "H100", "on_demand", 0, 1, 1000.0 * i)
        for i in range(1, 13)
    ]
    text = summary(make_plan(allocations=allocations))
    assert "aws:region-12" in text and "aws:region-05" in text
    assert "aws:region-04" not in text
    more = next(line for line in text.splitlines() if "… 4 more" in line)
    assert "$10K" in more


def test_infeasible_plan_lists_blockers() -> None:
    plan = make_plan(
        status=Status.INFEASIBLE,
        verified=False,
        verification_problems=["cost of chat differs by $12"],
        objective_usd=None,
        allocations=[],
        infeasibility=[
            Blocker(
                family="service-demand-lower",
                entity="chat/eu/2027-Q1",
                shortfall=12.5,
                unit="requests/s",
                description="not enough EU capacity",
            )
        ],
    )
    text = summary(plan)
    assert "status infeasible" in text and "verified ✗" in text
    assert "cost of chat differs by $12" in text
    for figure in ("service-demand-lower", "chat/eu/2027-Q1", "12.5", "requests/s"):
        assert figure in text


def test_many_periods_grouped_by_year() -> None:
    labels = [f"{2026 + i // 4}-Q{i % 4 + 1}" for i in range(20)]
    plan = make_plan(periods=labels, cost_by_period_usd=[1e6] * 20)
    text = summary(plan)
    assert "Spend per year" in text
    assert "2030" in text and "$4M" in text
    assert "2026-Q3" not in text


def test_plan_text_is_not_markup_and_fits_100_columns() -> None:
    text = summary(make_plan(spec_name="[bold red]lab[/bold red]"))
    assert "[bold red]lab[/bold red]" in text
    assert max(len(line) for line in text.splitlines()) <= 100
