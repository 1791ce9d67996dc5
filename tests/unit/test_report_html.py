"""The HTML report: self-contained, escaped, deterministic, one SVG per chart, and saying what
matters (instance types, bounds, serving figures, a visible bar for a scenario serving 0 %)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from archipel.plan.result import Blocker, Plan, Status
from archipel.report.html import render_html
from archipel.report.svg import BAD_COLOUR, KNOWN_COLOURS, MIN_BAR, provider_colours
from plans import make_plan

COORDS = {
    "azure:southcentralus": (29.42, -98.49),
    "nebius:us-central1": (41.88, -87.63),
    "oci:eu-frankfurt-1": (50.11, 8.68),
    "oci:us-ashburn-1": (39.04, -77.49),
    "aws:ap-northeast-1": (35.68, 139.69),
    "gcp:europe-west4": (53.44, 6.84),
    "lambda:us-east-3": (39.0, -77.5),
}  # verda:FIN-03 left out on purpose


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def plain(page: str) -> str:
    """The page's text as a reader sees it: no tags, no <wbr> break hints."""
    return re.sub(r"<[^>]+>", "", page)


def test_page_is_self_contained() -> None:
    page = render_html(make_plan(), region_coords=COORDS)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert page.startswith("<!DOCTYPE html>")


def test_one_svg_per_chart_scaling_with_its_viewbox() -> None:
    assert len(svgs(render_html(make_plan()))) == 3  # spend, commitments, survivability
    charts = svgs(render_html(make_plan(), region_coords=COORDS))
    assert len(charts) == 4  # + the map
    for svg in charts:
        root = ET.fromstring(svg)
        assert root.get("viewBox", "").startswith("0 0 ")
        assert root.get("width") is None and root.get("height") is None


def test_svgs_are_well_formed_xml() -> None:
    for svg in svgs(render_html(make_plan(spec_name="a&b"), region_coords=COORDS)):
        ET.fromstring(svg)


def test_header_labels_the_bound_and_the_node_view() -> None:
    text = plain(render_html(make_plan()))
    assert "LP relaxation bound$8.84M" in text and "gap0.29%" in text
    assert "whole nodes" in text and "decomposed: 3 independent blocks solved" in text
    assert "spec sha256 5f1c0ffee000 · catalog sha256 afeacb4dee69" in text
    mip = plain(render_html(make_plan(lower_bound_kind="mip_bound", whole_nodes=False)))
    assert "MIP bound$8.84M" in mip and "fractional view" in mip


def test_allocation_table_shows_instance_type_nodes_replicas_utilisation_source() -> None:
    text = plain(render_html(make_plan()))
    row = re.search(r"azure:southcentralus\s*Standard_ND96isr_H100_v5.*?\$5\.2M", text, re.S)
    assert row is not None
    for figure in ("8×H100 per node", "on-demand", "140", "280", "86.3%", "estimated"):
        assert figure in row.group()
    for instance in ("gpu-b200-sxm_8gpu-160vcpu-1792gb", "BM.GPU.B200.8", "p5.48xlarge"):
        assert instance in text
    assert "92.0% up" in text  # spot availability on aws:ap-northeast-1


def test_long_identifiers_may_break_at_separators() -> None:
    page = render_html(make_plan())
    assert "Standard_<wbr>ND96isr_<wbr>H100_<wbr>v5" in page
    assert '<div class="scroll"><table>' in page


def test_serving_figures_section() -> None:
    text = plain(render_html(make_plan()))
    assert "Serving figures (requests/s per replica, per request class)" in text
    assert re.search(r"assistant\s*2×B200\s*11\s*1\.62\s*calibrated", text)


def test_a_scenario_serving_nothing_draws_a_red_bar_and_a_mark() -> None:
    """provider:azure leaves 'assistant' 0 % of its demand: the bar is red, at least MIN_BAR
    wide, and labelled 0.0% ✗; 45 % (region loss) is red too; 62 % is green."""
    page = render_html(make_plan())
    chart = next(s for s in svgs(page) if "survivability" in s)
    bars = {
        rect.findtext("title", ""): rect
        for rect in ET.fromstring(chart).iter("rect")
        if rect.find("title") is not None
    }
    zero = bars["provider:azure · assistant: 0.0% served, 60.0% required"]
    assert zero.get("fill") == BAD_COLOUR
    assert float(zero.get("width", "0")) >= MIN_BAR
    assert "0.0% ✗" in chart
    assert (
        bars["region:azure:southcentralus · assistant: 45.0% served, 60.0% required"].get("fill")
        == BAD_COLOUR
    )
    assert bars["provider:oci · assistant: 62.0% served, 60.0% required"].get("fill") != BAD_COLOUR
    assert "2 of 6 service scenarios fall short." in page


def test_content_that_matters() -> None:
    page = render_html(make_plan(), region_coords=COORDS)
    text = plain(page)
    for figure in ("azure", "lambda", "aws-strategic-2026", "$100K", "$9.37M", "$5.2M"):
        assert figure in text
    assert "✓ verified" in text
    assert "survivability (rules[3])" in text and "USD per USD committed" in text
    assert "nonzeros" in text and "316,709" in text
    # the region without coordinates is named rather than silently dropped from the map
    assert "No coordinates for: verda:FIN-03" in text


def test_without_coordinates_the_map_note_says_why() -> None:
    note = "No map: the plan was made with another catalog."
    assert note in render_html(make_plan(), map_note=note)
    assert note not in render_html(make_plan(), region_coords=COORDS, map_note=note)


def test_spend_chart_shows_reserved_and_other_remainder() -> None:
    """2027-Q1 costs $3.206M, its allocations $2.956M: the $250K left is oci's reserved block."""
    assert "reserved blocks &amp; other · 2027-Q1: $250K" in render_html(make_plan())
    allocations_only = [3_206_000.0 - 250_000.0, 6_060_000.0 - 250_000.0]
    page = render_html(make_plan(cost_by_period_usd=allocations_only))
    assert "reserved blocks &amp; other" not in page


def test_spend_chart_shows_network_transfer_as_its_own_series() -> None:
    """$20K of transfer in 2027-Q1 (a flow's egress): its own series, out of "& other"."""
    plan = make_plan()
    flows = [plan.flows[0].model_copy(update={"egress_usd": 20_000.0}), *plan.flows[1:]]
    by_period = [plan.cost_by_period_usd[0] + 20_000.0, plan.cost_by_period_usd[1]]
    page = render_html(make_plan(flows=flows, cost_by_period_usd=by_period))
    assert "network transfer · 2027-Q1: $20K" in page
    assert "reserved blocks &amp; other · 2027-Q1: $250K" in page


def test_the_header_shows_network_transfer_beside_shortfall() -> None:
    page = render_html(make_plan(egress_usd=12_345.0))
    assert '<div class="card">network transfer<b>$12.3K</b></div>' in page
    assert '<div class="card">network transfer<b>$0</b></div>' in render_html(make_plan())


def test_all_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    page = render_html(make_plan(spec_name=evil, message=evil), title=evil, notes=[evil])
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
    text = plain(render_html(plan))
    assert "Why there is no plan" in text
    for figure in ("service-demand-lower", "chat/eu/2027-Q1", "12.5", "requests/s"):
        assert figure in text
    assert "✗ not verified" in text


def test_columns_a_plan_does_not_state_are_left_out() -> None:
    """A plan from before replicas and utilisation were recorded shows neither column."""
    bare = [
        a.model_copy(update={"replicas": 0.0, "utilisation": None, "throughput_source": ""})
        for a in make_plan().allocations
    ]
    header = re.search(
        r"<th>workload / region</th>.*?</tr>", render_html(make_plan(allocations=bare))
    )
    assert header is not None
    assert "replicas" not in header.group() and "util." not in header.group()
    assert ">source<" not in header.group() and ">cost<" in header.group()
