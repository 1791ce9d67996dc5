"""The HTML report: self-contained, escaped, deterministic, with one SVG per chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from archipel.plan.result import (
    Allocation,
    BindingRule,
    Blocker,
    ContractYear,
    Plan,
    ScenarioResult,
    Status,
)
from archipel.report.html import render_html
from archipel.report.svg import KNOWN_COLOURS, provider_colours

COORDS = {
    "aws:eu-west-1": (53.35, -6.26),
    "oci:eu-frankfurt-1": (50.11, 8.68),
}


def alloc(
    region: str, period: int, nodes: float, cost: float, option: str = "on_demand"
) -> Allocation:
    return Allocation(
        workload="chat",
        workload_kind="service",
        provider=region.split(":")[0],
        region=region,
        instance_type="p5.48xlarge",
        accelerator="H100",
        purchase_option=option,
        offering_id=f"{region}/H100/{option}",
        period=period,
        period_label=f"2027-Q{period + 1}",
        nodes=nodes,
        accelerators=nodes * 8,
        hours=2000.0,
        cost_usd=cost,
    )


def make_plan(**overrides: Any) -> Plan:
    fields: dict[str, Any] = {
        "spec_name": "frontier-lab",
        "planner": "lp",
        "status": Status.OPTIMAL,
        "objective_usd": 3_000_000.0,
        "lower_bound_usd": 2_990_000.0,
        "gap": 0.001,
        "verified": True,
        "periods": ["2027-Q1", "2027-Q2"],
        "period_hours": [2160.0, 2184.0],
        "cost_by_provider_usd": {"aws": 1_750_000.0, "oci": 1_250_000.0},
        "cost_by_period_usd": [1_400_000.0, 1_350_000.0],
        "cost_by_purchase_option_usd": {"on_demand": 2_750_000.0},
        "shortfall_usd": 250_000.0,
        "allocations": [
            alloc("aws:eu-west-1", 0, 10, 800_000.0),
            alloc("aws:eu-west-1", 1, 9, 700_000.0),
            alloc("oci:eu-frankfurt-1", 0, 6, 600_000.0),
            alloc("oci:us-ashburn-1", 1, 6, 650_000.0),
        ],
        "contracts": [
            ContractYear(
                contract="aws-38b",
                provider="aws",
                year=2027,
                committed_usd=1_750_000.0,
                spent_usd=1_500_000.0,
                shortfall_usd=250_000.0,
            )
        ],
        "survivability": [
            ScenarioResult(
                scenario="provider:aws",
                required_fraction=0.5,
                served_fraction={"chat": 0.45},
                ok=False,
            )
        ],
        "binding_rules": [
            BindingRule(
                family="provider-spend-share-upper",
                entity="aws",
                shadow_price_usd=0.2,
                description="aws ≤ 60%",
            )
        ],
        "timings_s": {"build": 0.1, "solve": 0.4},
        "stats": {"variables": 1000, "constraints": 800, "nonzeros": 5000},
    }
    fields.update(overrides)
    return Plan(**fields)


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def test_page_is_self_contained() -> None:
    page = render_html(make_plan(), region_coords=COORDS)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert page.startswith("<!DOCTYPE html>")


def test_one_svg_per_chart() -> None:
    assert len(svgs(render_html(make_plan()))) == 3  # spend, commitments, survivability
    assert len(svgs(render_html(make_plan(), region_coords=COORDS))) == 4  # + the map


def test_svgs_are_well_formed_xml() -> None:
    for svg in svgs(render_html(make_plan(spec_name="a&b"), region_coords=COORDS)):
        ET.fromstring(svg)


def test_content_that_matters() -> None:
    page = render_html(make_plan(), region_coords=COORDS)
    for figure in ("aws", "oci", "aws-38b", "$250K", "$3M", "$1.75M", "provider:aws", "45.0%"):
        assert figure in page
    assert "✓ verified" in page
    assert "provider-spend-share-upper" in page
    assert "nonzeros" in page and "5,000" in page
    # the region without coordinates is named rather than silently dropped from the map
    assert "No coordinates for: oci:us-ashburn-1" in page


def test_spend_chart_shows_reserved_and_other_remainder() -> None:
    """Period 1 costs 1.4M but its allocations only 1.4M; period 2: 1.35M of 1.35M → none.
    Raise period 1 to 1.5M: a 100K grey remainder appears."""
    assert "reserved blocks &amp; other" not in render_html(make_plan())
    page = render_html(make_plan(cost_by_period_usd=[1_500_000.0, 1_350_000.0]))
    assert "reserved blocks &amp; other · 2027-Q1: $100K" in page


def test_all_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    page = render_html(make_plan(spec_name=evil, message=evil), title=evil)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_deterministic() -> None:
    plan = make_plan()
    again = Plan.model_validate_json(plan.model_dump_json())
    assert render_html(plan, region_coords=COORDS) == render_html(again, region_coords=COORDS)


def test_provider_colours_consistent_and_distinct() -> None:
    page = render_html(make_plan(), region_coords=COORDS)
    aws = KNOWN_COLOURS["aws"]
    assert page.count(f'fill="{aws}"') >= 3  # spend bars, commitment bar, map dot
    colours = provider_colours(["zeta", "aws", "alpha", "beta"])
    assert colours["aws"] == aws
    assert len(set(colours.values())) == 4
    assert provider_colours(["beta", "alpha"]) == provider_colours(["alpha", "beta"])


def test_infeasible_plan_shows_blockers() -> None:
    plan = Plan(
        spec_name="tight",
        planner="lp",
        status=Status.INFEASIBLE,
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
    page = render_html(plan)
    assert "Why there is no plan" in page
    for figure in ("service-demand-lower", "chat/eu/2027-Q1", "12.5", "requests/s"):
        assert figure in page
    assert "✗ not verified" in page
