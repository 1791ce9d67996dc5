"""Contracts as signed, hand-checked on the small catalog of tests/factories.py.

Facts: one 8-GPU H100 node serves 20 requests/s of model m70; 100 requests/s from "eu" need 5
nodes. H100 node prices per hour: ovh:gra 72, aws:us-east-1 80, aws:eu-west-1 96, gcp 88; at most
5 aws:us-east-1 nodes per quarter. Quarters of 2027: Q1 2160 h, Q2 2184 h (4344 h); 2027 has
8760 h, 2028 8784 h. Every region is within the latency SLO of "eu".
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.spec.models import CatalogSelection, Contract, DiscountTier, Spec
from factories import service, small_catalog, spec_with

D = dt.date


def run(spec: Spec, **options: Any) -> Plan:
    options.setdefault("mip_rel_gap", 0.0)
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    plan = make_plan(
        spec.model_copy(update={"catalog": sel}), small_catalog(), options=PlanOptions(**options)
    )
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    return plan


def aws(**kw: Any) -> Contract:
    kw.setdefault("start", D(2027, 1, 1))
    kw.setdefault("end", D(2028, 1, 1))
    return Contract(id=kw.pop("id", "aws-deal"), provider="aws", **kw)


def chat(rps: float = 100.0, periods: int = 2) -> Any:
    return service(demand={"eu": [rps] * periods})


def aws_nodes(plan: Plan) -> list[float]:
    return [
        a.nodes for a in sorted(plan.allocations, key=lambda a: a.period) if a.provider == "aws"
    ]


def test_shortfall_is_preferred_to_idle_capacity_at_equal_cost() -> None:
    """Commitment 500 × 8760 a year: 500 × 4344 = 2,172,000 inside the horizon. All 5 nodes move
    to aws (each node-hour costs 8 more than ovh and saves 80 of shortfall): 5 × 80 × 4344 =
    1,737,600. The other 434,400 could buy idle aws nodes at exactly the price of the shortfall;
    the plan pays the shortfall, so unused commitment shows: objective 2,172,000."""
    plan = run(spec_with(services=[chat()], contracts=[aws(committed_usd_per_year=500 * 8760)]))
    assert aws_nodes(plan) == [5.0, 5.0]
    assert plan.objective_usd == pytest.approx(2_172_000)
    (row,) = plan.contracts
    assert row.spent_usd == pytest.approx(1_737_600)
    assert row.idle_usd == pytest.approx(0.0, abs=1e-6)
    assert row.shortfall_usd == pytest.approx(434_400)
    assert plan.unused_commitment_usd == pytest.approx(434_400)


def test_a_contract_starting_mid_quarter_is_pro_rated() -> None:
    """50 % off from 15 February: it runs 1080 of Q1's 2160 h, so Q1 aws costs 80 × (1 − 0.5 ×
    0.5) = 60/h, Q2 40/h, both below ovh's 72: 5 × 2160 × 60 + 5 × 2184 × 40 = 648,000 + 436,800
    = 1,084,800. Half of Q1's 864,000 list spend counts toward the contract."""
    plan = run(spec_with(services=[chat()], contracts=[aws(start=D(2027, 2, 15), discount_pct=50)]))
    assert aws_nodes(plan) == [5.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_084_800)
    q1 = next(a for a in plan.allocations if a.period == 0)
    assert q1.list_cost_usd == pytest.approx(864_000)
    assert sum(s.list_usd for s in q1.contract_spend) == pytest.approx(432_000)
    assert q1.cost_usd == pytest.approx(648_000)


def test_contract_years_are_anchored_on_the_start() -> None:
    """From 1 April 2026: year 1 ends 1 April 2027 (8760 h) and commits 400 × 8760, of which Q1
    2027 holds 2160 h: 864,000 — exactly 5 aws nodes in Q1 (5 × 2160 × 80). Year 2 commits
    nothing, so Q2 runs on ovh: 5 × 2184 × 72 = 786,240. Total 1,650,240 with no shortfall."""
    deal = aws(start=D(2026, 4, 1), end=D(2028, 4, 1), schedule_usd=[400 * 8760, 0.0])
    plan = run(spec_with(services=[chat()], contracts=[deal]))
    assert [(r.year, r.start) for r in plan.contracts] == [(1, "2026-04-01"), (2, "2027-04-01")]
    assert plan.contracts[0].committed_usd == pytest.approx(864_000)
    assert aws_nodes(plan) == [5.0]
    assert plan.objective_usd == pytest.approx(1_650_240)
    assert plan.shortfall_usd == pytest.approx(0.0, abs=1e-6)


def test_two_contracts_on_one_provider_share_the_spend() -> None:
    """A (10 % off, commits 500,000 net over a half-year term) and B (30 % off, no commitment).
    5 aws nodes list 1,737,600. Counting list spend x toward A costs 0.2 x more than B would;
    A needs 0.9 x ≥ 500,000, x = 555,555.56 (0.2 x = 111,111.11 < 500,000 of shortfall). Total
    0.7 × 1,737,600 + 111,111.11 = 1,327,431.11."""
    a = aws(id="a", end=D(2027, 7, 1), total_usd=500_000, discount_pct=10)
    b = aws(id="b", discount_pct=30)
    plan = run(spec_with(services=[chat()], contracts=[a, b]))
    assert aws_nodes(plan) == [5.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_327_431.11, abs=0.01)
    rows = {r.contract: r for r in plan.contracts}
    assert rows["a"].list_usd == pytest.approx(555_555.56, abs=0.01)
    assert rows["a"].shortfall_usd == pytest.approx(0.0, abs=1e-6)
    assert rows["b"].list_usd == pytest.approx(1_737_600 - 555_555.56, abs=0.01)


def test_a_ramped_total_commitment_is_spread_by_its_weights() -> None:
    """6 M over 2027–2029 with ramp 1:2:3 commits 1 M, 2 M and 3 M. One node (20 requests/s) on
    aws all year spends 80 × 8760 = 700,800 (702,720 in 2028), always below the commitment, so
    the node runs on aws and the rest is shortfall: 299,200, 1,297,280 and 2,299,200; the total
    is the commitment, 6 M."""
    deal = aws(end=D(2030, 1, 1), total_usd=6e6, ramp=[1, 2, 3])
    plan = run(spec_with(services=[chat(20, 12)], contracts=[deal], periods=12))
    assert [r.committed_usd for r in plan.contracts] == pytest.approx([1e6, 2e6, 3e6])
    assert [r.shortfall_usd for r in plan.contracts] == pytest.approx(
        [299_200, 1_297_280, 2_299_200]
    )
    assert plan.objective_usd == pytest.approx(6e6)


def test_carry_over_moves_a_shortfall_into_a_busier_year() -> None:
    """Fractional view. 2027 commits 1 M, 2028 2 M; half of a year's commitment may carry. 2027
    has one node of demand: 700,800 on aws, 299,200 short, carried. 2028 (5 nodes, 43,920
    node-hours) must count 2,299,200: 28,740 aws node-hours, 15,180 on ovh (1,092,960). Total
    700,800 + 2,299,200 + 1,092,960 = 4,092,960 — against 4,362,240 without carry-over.
    (Meeting a dollar of commitment costs 0.1 in either year, so how much of 2027's node moves
    to ovh and carries instead, up to the 500,000 cap, is a tie: only the total is unique.)"""
    demand = {"eu": [20.0] * 4 + [100.0] * 4}
    deal = aws(end=D(2029, 1, 1), schedule_usd=[1e6, 2e6], carry_over_pct=50)
    spec = spec_with(services=[service(demand=demand)], contracts=[deal], periods=8)
    plan = run(spec, whole_nodes=False)
    assert plan.objective_usd == pytest.approx(4_092_960)
    y1, y2 = plan.contracts
    assert 299_200 - 1e-3 <= y1.carried_out_usd <= 500_000 + 1e-3
    assert y1.shortfall_usd == pytest.approx(0, abs=1e-6)
    assert y2.carried_in_usd == pytest.approx(y1.carried_out_usd)
    assert plan.shortfall_usd == pytest.approx(0, abs=1e-6)
    strict = run(
        spec.model_copy(update={"contracts": [deal.model_copy(update={"carry_over_pct": 0})]}),
        whole_nodes=False,
    )
    assert strict.objective_usd == pytest.approx(4_362_240)


def test_spend_to_date_leaves_the_rest_of_the_year_to_commit() -> None:
    """Fractional view. From 1 July 2026, 1 M a year; 800,000 spent by 1 January 2027, so the
    horizon (the rest of year 1) must count 200,000: 2,500 aws node-hours, the other 19,220 on
    ovh (1,383,840). Total 1,583,840. Without the spend to date it would commit 1 M × 4344 /
    8760 = 495,890.41."""
    deal = aws(start=D(2026, 7, 1), end=D(2028, 7, 1), committed_usd_per_year=1e6)
    plan = run(
        spec_with(
            services=[chat()], contracts=[deal.model_copy(update={"spent_to_date_usd": 8e5})]
        ),
        whole_nodes=False,
    )
    assert plan.contracts[0].committed_usd == pytest.approx(200_000)
    assert plan.objective_usd == pytest.approx(1_583_840)
    on_track = run(spec_with(services=[chat()], contracts=[deal]), whole_nodes=False)
    assert on_track.contracts[0].committed_usd == pytest.approx(495_890.41, abs=0.01)


def test_a_volume_tier_is_worth_crossing() -> None:
    """No discount on the first 500,000 of list spend in 2027 × (4344 / 8760) = 247,945.21 inside
    the horizon, 20 % above. All 5 nodes on aws list 1,737,600 and save 0.2 × (1,737,600 −
    247,945.21) = 297,930.96: 1,439,669.04 < 1,563,840 on ovh. (Partial moves are dearer:
    the cost is concave in the aws spend.)"""
    deal = aws(discount_tiers=[DiscountTier(above_usd=500_000, discount_pct=20)])
    plan = run(spec_with(services=[chat()], contracts=[deal]))
    assert aws_nodes(plan) == [5.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_439_669.04, abs=0.01)


def test_a_yearly_maximum_caps_the_discounted_spend() -> None:
    """Fractional view. 30 % off up to 100 × 8760 of list spend a year: 434,400 in the horizon
    (5,430 aws node-hours at 56/h); beyond it aws lists 80 > 72, so ovh serves the other 16,290
    node-hours: 304,080 + 1,172,880 = 1,476,960."""
    deal = aws(discount_pct=30, max_usd_per_year=100 * 8760)
    plan = run(spec_with(services=[chat()], contracts=[deal]), whole_nodes=False)
    assert plan.objective_usd == pytest.approx(1_476_960)
    assert plan.contracts[0].list_usd == pytest.approx(434_400)


def test_a_savings_plan_is_sized_at_the_level_used_all_term() -> None:
    """A 30 % savings plan on aws, sized by the plan: it pays h USD/hour for all 4344 h and
    discounts list spend up to h / 0.7 an hour. Demand needs 5 nodes in Q1, 2 in Q2. Covering
    the first 160 list-USD/h (2 aws nodes) costs 0.7 × 4344 per unit against ovh's 0.9 × 4344
    (72/80): bought. Beyond it only Q1 could use the cover: 0.7 × 4344 = 3040.8 against
    0.9 × 2160 = 1944 saved: not bought. So h = 112 USD/h (486,528 over the horizon), 2 aws
    nodes in both quarters, and 3 ovh nodes in Q1 (3 × 72 × 2160 = 466,560): 953,088."""
    plan_ = aws(id="sp", sized_by_plan=True, discount_pct=30)
    plan = run(spec_with(services=[service(demand={"eu": [100.0, 40.0]})], contracts=[plan_]))
    assert plan.savings_plans_usd_per_hour == {"sp": pytest.approx(112.0)}
    assert aws_nodes(plan) == [2.0, 2.0]
    assert plan.objective_usd == pytest.approx(953_088)
    (row,) = plan.contracts
    assert row.committed_usd == pytest.approx(486_528) and row.shortfall_usd == pytest.approx(0)
