"""Reservations in the reports: the terminal table and totals, the HTML section, plan files."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Plan
from archipel.report.html import render_html
from archipel.report.planfile import load_plan, save_plan
from archipel.report.reservations import totals
from archipel.report.terminal import render_summary
from plans import make_plan

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "plans"


def purchase(option: str = "p5-1y", nodes: float = 2.0, **fields: object) -> ReservationPurchase:
    """Two p5 nodes at 55.04 × 0.6 = 33.024 USD/h for 2027-04-01..2028-04-01 (8784 h): total
    2 × 8784 × 33.024 = 580,165.632; the horizon (2027-Q2) holds 2184 h of it: 144,248.832;
    half upfront: 290,082.816; left after: 435,916.8. 3000 of the 4368 node-hours used."""
    values: dict[str, object] = {
        "option": option,
        "kind": "reserved_instance",
        "offering_id": f"aws:us-east-1:p5.48xlarge:reserved~{option}",
        "provider": "aws",
        "region": "aws:us-east-1",
        "instance_type": "p5.48xlarge",
        "accelerator": "H100",
        "start_period": 1,
        "start_period_label": "2027-Q2",
        "start": dt.datetime(2027, 4, 1),
        "end": dt.datetime(2028, 4, 1),
        "term_hours": 8784.0,
        "nodes": nodes,
        "discount_pct": 40.0,
        "discount_source": "spec",
        "usd_per_node_hour": 33.024,
        "upfront_pct": 50.0,
        "total_usd": 580_165.632,
        "upfront_usd": 290_082.816,
        "in_horizon_usd": 144_248.832,
        "recurring_in_horizon_usd": 72_124.416,
        "beyond_horizon_usd": 435_916.8,
        "bought_node_hours": 4368.0,
        "used_node_hours": 3000.0,
        "utilisation": 3000.0 / 4368.0,
    }
    return ReservationPurchase.model_validate({**values, **fields})


def with_purchases(*bought: ReservationPurchase) -> Plan:
    return make_plan().model_copy(update={"reservations": list(bought)})


def summary(plan: Plan, width: int) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    render_summary(plan, console)
    return console.export_text()


def test_totals_weight_utilisation_by_node_hours() -> None:
    """(3000 + 1000) used of (4368 + 2184) held: 0.6105."""
    t = totals([purchase(), purchase("b", 1.0, bought_node_hours=2184.0, used_node_hours=1000.0)])
    assert t.nodes == 3.0
    assert t.utilisation == pytest.approx(4000.0 / 6552.0)
    assert t.in_horizon_usd == pytest.approx(2 * 144_248.832)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_terminal_lists_purchases_and_totals_at_every_width(width: int) -> None:
    text = summary(with_purchases(purchase()), width)
    assert "Reservations bought" in text
    assert "p5-1y" in text and "$144K" in text and "$436K" in text and "68.7%" in text
    assert "reservations bought $144K in the horizon" in text
    assert all(len(line) <= width for line in text.splitlines())


def test_an_assumed_discount_is_marked() -> None:
    text = summary(with_purchases(purchase(discount_assumed=True)), 120)
    assert "40%*" in text and "headline 'up to' level" in text
    assert "headline" not in summary(with_purchases(purchase()), 120)


def test_no_purchase_no_section() -> None:
    assert "Reservations bought" not in summary(make_plan(), 100)
    assert "Reservations bought" not in render_html(make_plan())


def test_html_section_escapes_what_a_hand_edited_plan_says() -> None:
    page = render_html(with_purchases(purchase(option="<script>x</script>")))
    assert "<h2>Reservations bought</h2>" in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "$290K" in page  # upfront
    assert "reservations bought (in horizon)" in page


def test_plan_files_carry_purchases_and_old_files_still_load(tmp_path: Path) -> None:
    plan = with_purchases(purchase())
    save_plan(plan, tmp_path / "p.json")
    assert load_plan(tmp_path / "p.json") == plan
    body = json.loads((tmp_path / "p.json").read_text())
    assert body["reservations"][0]["start"] == "2027-04-01T00:00:00"
    old = load_plan(CORPUS / "small-plan.json")
    assert "reservations" not in json.loads((CORPUS / "small-plan.json").read_text())
    assert old.reservations == []
