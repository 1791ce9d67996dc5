"""The terminal summary: what it says, and that every table fits 60, 80 and 120 columns."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from archipel.plan.result import Blocker, Plan, RuleCost, Status
from archipel.report.figures import aggregate_placements
from archipel.report.terminal import make_console, render_summary
from plans import alloc, make_plan

ANSI = re.compile(r"\x1b\[")
ABBREVIATIONS = "OD = on-demand, resv = reserved"


def summary(plan: Plan, width: int = 100) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    render_summary(plan, console)
    return console.export_text()


def words(text: str) -> set[str]:
    """The words of a text, rules and bars aside."""
    return {w for line in text.splitlines() for w in line.split() if set(w) - set("─█")}


def line_with(text: str, *parts: str) -> str:
    return next(line for line in text.splitlines() if all(p in line for p in parts))


def test_aggregate_placements_peaks_sums_and_means() -> None:
    """assistant on azure:southcentralus: 120 then 140 nodes → peak 140 nodes, 280 replicas;
    utilisation (0.82 × 120 + 0.9 × 140) / 260 = 0.8631 (weighted by node-hours); accelerator-
    hours (120 + 140) × 8 × 2000 = 4,160,000; cost $2.4M + $2.8M."""
    placements = aggregate_placements(make_plan().allocations)
    (key, t), *_ = ((k, t) for k, t in placements.items() if k.region == "azure:southcentralus")
    assert key.instance_type == "Standard_ND96isr_H100_v5"
    assert (t.peak_nodes, t.peak_replicas, t.accelerators_per_node) == (140, 280, 8)
    assert t.utilisation == pytest.approx((0.82 * 120 + 0.9 * 140) / 260)
    assert t.accelerator_hours == pytest.approx(4_160_000.0)
    assert t.cost_usd == pytest.approx(5_200_000.0)
    assert t.sources == ("estimated",)
    spot = next(t for k, t in placements.items() if k.region == "aws:ap-northeast-1")
    assert spot.availability == pytest.approx(0.92)
    assert len(placements) == 8


def test_header_labels_the_bound_and_the_node_view() -> None:
    text = summary(make_plan())
    assert "planner lp · status optimal · verified ✓ · whole nodes" in text
    assert "objective $9.37M · LP relaxation bound $8.84M · gap 0.29%" in text
    assert "decomposed: 3 independent blocks solved" in text
    assert "solver: HiGHS: optimal" in text
    mip = summary(make_plan(lower_bound_kind="mip_bound", stats={}))
    assert "MIP bound $8.84M" in mip and "LP relaxation" not in mip
    assert "decomposed" not in mip


def test_fractional_nodes_are_called_the_fractional_view() -> None:
    allocations = [
        alloc("chat", "aws:eu-west-1", "p5.48xlarge", "H100", "on_demand", 0, 82.31, 1e5)
    ]
    assert "· fractional view" in summary(make_plan(allocations=allocations))
    assert "· fractional view" in summary(make_plan(whole_nodes=False))


def test_costs_and_commitments() -> None:
    text = summary(make_plan())
    assert "55.5%" in line_with(text, "azure", "$5.2M")  # 5.2M of 9.366M
    assert "$9.37M" in line_with(text, "total")
    assert "take-or-pay shortfall $100K · reserved blocks (fixed) $500K" in text
    row = line_with(text, "aws-strategic-2026", "$500K")
    for figure in ("$350K", "$50K", "$100K", "$150K"):  # useful, idle, shortfall, unused
        assert figure in row
    assert "$6.06M" in line_with(text, "2027-Q2")
    assert "network transfer" not in text  # a plan without it says nothing of it
    moved = summary(make_plan(egress_usd=12_345.0))
    assert "includes network transfer $12.3K and take-or-pay shortfall $100K ·" in moved


def test_placement_table_names_instance_type_nodes_replicas_utilisation_and_option() -> None:
    text = summary(make_plan(), width=120)
    row = line_with(text, "azure:southcentralus", "Standard_ND96isr_H100_v5")
    for figure in ("8×H100", "on-demand", "140", "280", "86.3%", "$5.2M"):
        assert figure in row
    assert "$6.1M" in line_with(text, "assistant")  # $5.2M + $900K + $0 over the horizon
    assert "pretrain (training)" in text
    spot = line_with(text, "aws:ap-northeast-1", "p5.48xlarge")
    assert "spot" in spot and "70.0%" in spot


def test_serving_figures_table() -> None:
    text = summary(make_plan())
    assert "Serving figures" in text
    row = line_with(text, "assistant", "2×B200")
    for figure in ("11", "1.62", "calibrated"):
        assert figure in row
    assert "measured" in line_with(text, "api-open", "2×H100", "7.25")


def test_survivability_marks_a_scenario_that_serves_nothing() -> None:
    text = summary(make_plan())
    assert "✗" in line_with(text, "assistant", "60.0%", "0.0%")
    assert "✓" in line_with(text, "assistant", "62.0%")
    assert "✗" in line_with(text, "assistant", "45.0%")


def test_rule_costs_ranked_by_effect_then_limits_by_marginal_and_capped() -> None:
    limits = [
        RuleCost(
            kind="limit",
            name=f"limit-{i:02d}",
            effect_usd=None,
            method="marginal only",
            marginal_usd=float(i),
            unit="USD per accelerator in a period",
        )
        for i in range(20)
    ]
    base = make_plan().rule_costs
    text = summary(make_plan(rule_costs=[*base[:2], *limits]), width=120)
    assert text.index("survivability") < text.index("commitment of aws") < text.index("limit-19")
    assert text.index("limit-19") < text.index("limit-18")
    assert "limit-05" in text and "limit-04" not in text  # top 15 of 20
    assert "5 more binding limits" in text


def test_rule_costs_carry_a_unit_and_one_sign() -> None:
    text = summary(make_plan(), width=120)
    row = line_with(text, "survivability (rules[3])")
    assert "$1.04M" in row and "$5.48K" in row and "request/s of peak demand" in row
    assert "-$20K" in line_with(text, "commitment of aws-strategic-2026")
    assert "positive = makes the plan dearer" in text


def test_placements_capped_per_workload_with_the_rest_summed() -> None:
    """12 regions of 'chat' costing 1..12 $K: the 8 dearest are shown, the other four
    (1 + 2 + 3 + 4 = $10K) are summed in one row."""
    allocations = [
        alloc("chat", f"aws:region-{i:02d}", "p5.48xlarge", "H100", "on_demand", 0, 1, 1000.0 * i)
        for i in range(1, 13)
    ]
    text = summary(make_plan(allocations=allocations))
    assert "aws:region-12" in text and "aws:region-05" in text
    assert "aws:region-04" not in text
    assert "$10K" in line_with(text, "… 4 more")


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
    for width in (60, 120):
        text = summary(plan, width)
        assert "status infeasible" in text and "verified ✗" in text
        assert "cost of chat differs by $12" in text
        for figure in ("service-demand-lower", "chat/eu/2027-Q1", "12.5", "requests/s"):
            assert figure in text


def test_many_periods_grouped_by_year() -> None:
    labels = [f"{2026 + i // 4}-Q{i % 4 + 1}" for i in range(20)]
    text = summary(make_plan(periods=labels, cost_by_period_usd=[1e6] * 20))
    assert "Spend per year" in text
    assert "$4M" in line_with(text, "2030")
    assert "2026-Q3" not in text


def test_plan_text_is_not_markup() -> None:
    text = summary(make_plan(spec_name="[bold red]lab[/bold red]"))
    assert "[bold red]lab[/bold red]" in text


@pytest.mark.parametrize("width", [60, 80, 120])
def test_every_table_fits_the_width_with_words_whole(width: int) -> None:
    """Every line fits, and every word printed is a word of the summary printed with room to
    spare: a word split across lines (``on_deman`` / ``d``) would be neither."""
    plan = make_plan()
    text = summary(plan, width)
    assert max(len(line) for line in text.splitlines()) <= width
    vocabulary = words(summary(plan, 1000)) | words(ABBREVIATIONS)
    assert words(text) <= vocabulary, words(text) - vocabulary
    for name in ("Standard_ND96isr_H100_v5", "azure:southcentralus", "region:azure:southcentralus"):
        assert name in text


def test_wider_consoles_show_more() -> None:
    assert "8×H100" in summary(make_plan(), 120)
    assert "8×H100" not in summary(make_plan(), 80)
    assert "replicas" in summary(make_plan(), 80)


def test_piped_console_is_plain_and_as_wide_as_columns() -> None:
    """Nothing here is a terminal (pytest captures stdout), so these are the piped consoles."""
    console = make_console(environ={"COLUMNS": "72", "FORCE_COLOR": "1"})
    assert (console.width, console.is_terminal, console.color_system) == (72, False, None)
    assert make_console(environ={}).width == 80
    assert make_console(environ={"COLUMNS": "wide"}).width == 80
    console.file = io.StringIO()
    render_summary(make_plan(), console)
    out = console.file.getvalue()
    assert not ANSI.search(out)
    assert max(len(line) for line in out.splitlines()) <= 72
