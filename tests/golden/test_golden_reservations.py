"""Reservations as decisions, hand-derived on the small catalog of tests/factories.py.

Common facts: model m70 serves 20 requests/s per 8-GPU node, so demand of 20 requests/s needs
exactly one node. The catalog selection keeps H100 on-demand offerings; the cheapest is ovh:gra
h100-8 at P = 72 USD per node-hour (at most 10 nodes a period). The horizon is 2027 in quarters:
Q1 2160 h, Q2 2184 h, Q3 2208 h, Q4 2208 h, 8760 h in all.

The option ``ri`` buys ovh nodes for a 1-year term at d = 40 % off: rate = 72 × 0.6 = 43.2 USD
per node-hour for every hour of the term, used or not. Bought at the start of 2027 its term is
the horizon: 8760 × 43.2 = 378,432 USD. One node on demand for the hours H it is needed costs
72 × H, so the reservation pays exactly when 72 × H > 0.6 × 72 × 8760, i.e. H > 5256 h: when
utilisation passes its break-even of 60 %.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CatalogSelection,
    Contract,
    DiversificationRule,
    ReservationOption,
    Spec,
)
from factories import service, small_catalog, spec_with

Q = (2160.0, 2184.0, 2208.0, 2208.0)
P = 72.0
RATE = P * 0.6  # 43.2
YEAR = 8760.0
RI_KEY = "ovh:gra:h100-8:reserved~ri"


def ri(**fields: Any) -> ReservationOption:
    base: dict[str, Any] = {
        "id": "ri",
        "provider": "ovh",
        "kind": "reserved_instance",
        "term_years": 1,
        "discount_pct": 40,
        "buy_until": dt.date(2027, 4, 1),  # bought at the start of 2027 or not at all
    }
    return ReservationOption.model_validate({**base, **fields})


def fleet(demand: list[float], *options: ReservationOption, **kwargs: Any) -> Spec:
    kwargs.setdefault("periods", 4)
    spec = spec_with(services=[service(demand={"eu": demand})], **kwargs)
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    return spec.model_copy(update={"catalog": sel, "reservations": list(options)})


def run(spec: Spec, planner: str = "lp") -> Plan:
    plan = make_plan(spec, small_catalog(), planner=planner, options=PlanOptions(mip_rel_gap=0.0))  # type: ignore[arg-type]
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE), plan.message
    assert plan.verified, plan.verification_problems
    return plan


@pytest.mark.parametrize(
    ("demand", "hours", "bought"),
    [
        # need in Q3 and Q4: 4416 h on demand = 317,952 < 378,432: not bought (50 % use)
        ([0, 0, 20, 20], Q[2] + Q[3], False),
        # Q1 and Q2 only: 4344 h = 312,768: not bought either
        ([20, 20, 0, 0], Q[0] + Q[1], False),
        # Q2..Q4: 6600 h = 475,200 > 378,432: bought (75.3 % use)
        ([0, 20, 20, 20], Q[1] + Q[2] + Q[3], True),
        # Q1..Q3: 6552 h = 471,744 > 378,432: bought (74.8 % use)
        ([20, 20, 20, 0], Q[0] + Q[1] + Q[2], True),
        # all year: 630,720 on demand; the reservation serves every hour (100 % use)
        ([20, 20, 20, 20], YEAR, True),
    ],
)
def test_bought_exactly_when_utilisation_passes_break_even(
    demand: list[float], hours: float, bought: bool
) -> None:
    plan = run(fleet(demand, ri()))
    assert (hours / YEAR > 0.6) == bought  # the break-even, from the hours alone
    if not bought:
        assert plan.reservations == []
        assert plan.objective_usd == pytest.approx(P * hours)
        assert {a.purchase_option for a in plan.allocations} == {"on_demand"}
        return
    (r,) = plan.reservations
    assert (r.option, r.offering_id, r.start_period, r.nodes) == ("ri", RI_KEY, 0, 1.0)
    assert r.start == dt.datetime(2027, 1, 1) and r.end == dt.datetime(2028, 1, 1)
    assert r.term_hours == pytest.approx(YEAR)
    assert r.usd_per_node_hour == pytest.approx(RATE)
    assert r.total_usd == pytest.approx(378_432.0)  # 8760 × 43.2
    assert r.in_horizon_usd == pytest.approx(378_432.0)
    assert r.beyond_horizon_usd == pytest.approx(0.0)
    assert r.utilisation == pytest.approx(hours / YEAR)
    assert r.used_node_hours == pytest.approx(hours)
    assert plan.objective_usd == pytest.approx(378_432.0)
    assert {a.purchase_option for a in plan.allocations} == {"reserved"}
    # amortised: each quarter carries its hours × 43.2, whether the node is used or not
    assert plan.cost_by_period_usd == pytest.approx([q * RATE for q in Q])
    assert plan.cost_by_purchase_option_usd == pytest.approx({"reserved": 378_432.0})


def test_partial_upfront_changes_cash_not_cost() -> None:
    """upfront 50 %: 189,216 paid at purchase, 189,216 as recurring charges in the horizon; the
    objective counts the hours held (378,432) either way."""
    plan = run(fleet([20, 20, 20, 20], ri(upfront_pct=50)))
    (r,) = plan.reservations
    assert r.upfront_pct == 50.0
    assert r.upfront_usd == pytest.approx(189_216.0)
    assert r.recurring_in_horizon_usd == pytest.approx(189_216.0)
    assert plan.objective_usd == pytest.approx(378_432.0)


def test_a_term_running_past_the_horizon() -> None:
    """Any quarter may buy. Need in Q4 only: bought at 2027-10-01 for a year, to 2028-10-01 —
    8784 h (2028 has a 29 February). The objective counts the 2208 h inside the horizon:
    2208 × 43.2 = 95,385.6 < 2208 × 72 = 158,976 on demand. The rest of the term is the
    commitment left beyond the horizon: 6576 × 43.2 = 284,083.2 (total 8784 × 43.2 = 379,468.8)."""
    plan = run(fleet([0, 0, 0, 20], ri(buy_until=None)))
    (r,) = plan.reservations
    assert (r.start_period_label, r.end) == ("2027-Q4", dt.datetime(2028, 10, 1))
    assert r.term_hours == pytest.approx(8784.0)
    assert r.in_horizon_usd == pytest.approx(95_385.6)
    assert r.beyond_horizon_usd == pytest.approx(284_083.2)
    assert r.total_usd == pytest.approx(379_468.8)
    assert r.utilisation == pytest.approx(1.0)
    assert plan.objective_usd == pytest.approx(95_385.6)


def test_the_buy_window_decides_the_end_effect() -> None:
    """Q3 and Q4 only: with the window open all year the plan buys at Q3, whose in-horizon
    hours cost 4416 × 43.2 = 190,771.2 (< 317,952 on demand); 4368 h are left after 2027
    (the term runs to 2028-07-01: 8784 h). Closed after Q1 (above), it does not buy."""
    plan = run(fleet([0, 0, 20, 20], ri(buy_until=None)))
    (r,) = plan.reservations
    assert r.start_period_label == "2027-Q3"
    assert plan.objective_usd == pytest.approx(190_771.2)
    assert r.beyond_horizon_usd == pytest.approx(4368 * RATE)


def test_max_nodes_caps_what_is_held() -> None:
    """Two nodes all year, at most one reserved: 378,432 + 8760 × 72 = 1,009,152."""
    plan = run(fleet([40, 40, 40, 40], ri(max_nodes=1)))
    assert [r.nodes for r in plan.reservations] == [1.0]
    assert plan.objective_usd == pytest.approx(1_009_152.0)


def test_reserved_nodes_share_the_offering_capacity() -> None:
    """ovh:gra holds at most 10 nodes a period, on demand and reserved together. Twelve nodes
    all year (240 requests/s): 10 reserved ovh nodes (10 × 378,432 = 3,784,320) and 2 on
    demand at aws:us-east-1, the next cheapest at 80/h (2 × 80 × 8760 = 1,401,600): 5,185,920.
    (Were the capacity not shared, 12 reserved ovh nodes would cost 4,541,184.)"""
    plan = run(fleet([240, 240, 240, 240], ri()))
    assert [r.nodes for r in plan.reservations] == [10.0]
    assert plan.objective_usd == pytest.approx(5_185_920.0)


def test_whole_nodes_are_bought() -> None:
    """30 requests/s need 1.5 nodes: two whole nodes, both reserved: 2 × 378,432 = 756,864
    (one reserved and one on demand: 378,432 + 630,720 = 1,009,152)."""
    plan = run(fleet([30, 30, 30, 30], ri()))
    assert [r.nodes for r in plan.reservations] == [2.0]
    assert plan.objective_usd == pytest.approx(756_864.0)
    assert plan.reservations[0].utilisation == pytest.approx(1.0)  # nodes held all used


def test_reservation_spend_counts_toward_a_contract() -> None:
    """A take-or-pay contract with ovh commits 400,000 USD in 2027. The reservation's 378,432
    counts as spend in its scope (at its own price, no contract discount on top): shortfall
    21,568, objective 400,000 (all on demand would be 630,720; the reservation plus a shortfall
    of 400,000 — were its spend not counted — 778,432)."""
    contract = Contract(
        id="ovh-commit",
        provider="ovh",
        start=dt.date(2027, 1, 1),
        end=dt.date(2028, 1, 1),
        committed_usd_per_year=400_000,
    )
    plan = run(fleet([20, 20, 20, 20], ri(), contracts=[contract]))
    assert len(plan.reservations) == 1
    (bought,) = plan.reservations
    assert [(s.contract, s.year) for s in bought.contract_spend] == [("ovh-commit", 1)]
    assert bought.contract_spend[0].list_usd == pytest.approx(378_432.0)
    (row,) = plan.contracts
    assert row.spent_usd == pytest.approx(378_432.0)
    assert row.useful_usd == pytest.approx(378_432.0)  # the reserved node carries load all year
    assert row.shortfall_usd == pytest.approx(21_568.0)
    assert plan.objective_usd == pytest.approx(400_000.0)


def test_reservation_spend_counted_beyond_its_cost_is_caught() -> None:
    contract = Contract(
        id="ovh-commit",
        provider="ovh",
        start=dt.date(2027, 1, 1),
        end=dt.date(2028, 1, 1),
        committed_usd_per_year=400_000,
    )
    spec = fleet([20, 20, 20, 20], ri(), contracts=[contract])
    plan = run(spec)
    (bought,) = plan.reservations
    more = [s.model_copy(update={"list_usd": 2 * s.list_usd}) for s in bought.contract_spend]
    tampered = plan.model_copy(
        update={"reservations": [bought.model_copy(update={"contract_spend": more})]}
    )
    report = verify(tampered, prepare(spec, small_catalog()))
    assert "contract-scope" in report.rules_broken


@pytest.mark.parametrize(("hours", "bought"), [(16, False), (17, True)])
def test_a_one_day_capacity_block_on_an_hourly_horizon(hours: int, bought: bool) -> None:
    """Hourly periods over two days; a capacity block holds one ovh node for 24 h at 30 % off:
    24 × 72 × 0.7 = 1,209.6, all upfront (the kind's default). One node needed for the first
    ``hours`` hours costs 72 × hours on demand: 1,152 for 16 h (not bought), 1,224 for 17 h
    (bought: the block costs 1,209.6 and covers all 17 hours). Break-even: 0.7 × 24 = 16.8 h."""
    block = ri(kind="capacity_block", term_years=None, term_days=1, discount_pct=30)
    block = block.model_copy(update={"buy_until": None})
    demand = [20.0] * hours + [0.0] * (48 - hours)
    spec = fleet(demand, block, periods=48, granularity="hour")
    plan = run(spec)
    if not bought:
        assert plan.reservations == [] and plan.objective_usd == pytest.approx(72.0 * hours)
        return
    (r,) = plan.reservations
    assert (r.start_period, r.term_hours, r.nodes) == (0, 24.0, 1.0)
    assert r.upfront_usd == pytest.approx(1_209.6) and r.recurring_in_horizon_usd == 0.0
    assert r.utilisation == pytest.approx(hours / 24)
    assert plan.objective_usd == pytest.approx(1_209.6)


def test_reservation_spend_counts_in_provider_shares() -> None:
    """Two nodes all year, no provider above 60 % of spend. Reserving both at ovh (756,864) is
    all ovh. With one reserved (378,432) and the second node on demand for h hours at ovh (72/h)
    and 8760 − h at aws:us-east-1 (80/h): 378,432 + 72 h ≤ 1.5 × 80 × (8760 − h) ⟺ h ≤ 3504,
    so one quarter of 2208 h at ovh: 378,432 + 72 × 2208 + 80 × 6552 = 1,061,568."""
    rule = DiversificationRule(max_share=0.6)
    plan = run(fleet([40, 40, 40, 40], ri(), rules=[rule]))
    assert [r.nodes for r in plan.reservations] == [1.0]
    assert plan.objective_usd == pytest.approx(1_061_568.0)
    assert plan.cost_by_provider_usd["ovh"] <= 0.6 * 1_061_568.0 + 1e-6


def test_workloads_keep_their_purchase_options() -> None:
    """A service that may run on demand only never uses (so never buys) a reservation."""
    svc = service(demand={"eu": [20] * 4}, purchase_options=[PurchaseOption.ON_DEMAND])
    plan = run(fleet([0] * 4, ri()).model_copy(update={"services": [svc]}))
    assert plan.reservations == [] and plan.objective_usd == pytest.approx(P * YEAR)


def test_greedy_never_buys_and_its_plans_verify() -> None:
    plan = run(fleet([20, 20, 20, 20], ri()), planner="greedy")
    assert plan.reservations == []
    assert {a.purchase_option for a in plan.allocations} == {"on_demand"}
    assert plan.objective_usd == pytest.approx(P * YEAR)


# --------------------------------------------------------------------------- the verifier


@pytest.fixture(scope="module")
def bought() -> tuple[Plan, Spec]:
    spec = fleet([0, 20, 20, 20], ri(max_nodes=1))
    return run(spec), spec


def findings(plan: Plan, spec: Spec) -> tuple[list[str], list[str], list[str]]:
    report = verify(plan, prepare(spec, small_catalog()))
    return report.rules_broken, report.problems, report.stale


def tamper(plan: Plan, **fields: Any) -> Plan:
    (r,) = plan.reservations
    return plan.model_copy(update={"reservations": [r.model_copy(update=fields)]})


def test_the_untouched_plan_verifies_exactly(bought: tuple[Plan, Spec]) -> None:
    plan, spec = bought
    assert findings(plan, spec) == ([], [], [])


def test_fewer_nodes_bought_than_used_is_caught(bought: tuple[Plan, Spec]) -> None:
    plan, spec = bought
    rules, problems, _ = findings(tamper(plan, nodes=0.0), spec)
    assert rules == ["reservation-capacity"]
    assert "1 nodes used, 0 bought and active" in problems[0]
    rules, problems, _ = findings(plan.model_copy(update={"reservations": []}), spec)
    assert rules == ["reservation-capacity"] and len(problems) == 3  # Q2, Q3, Q4


def test_a_purchase_outside_its_window_is_caught(bought: tuple[Plan, Spec]) -> None:
    """Moved to Q2 (the window closes 2027-04-01): outside the window, and its term, now to
    2028-04-01, is recomputed, so its figures are stale too."""
    plan, spec = bought
    rules, problems, stale = findings(tamper(plan, start_period=1), spec)
    assert rules == ["reservation-window"]
    assert "bought at 2027-04-01 00:00, outside the buy window [start, 2027-04-01)" in problems[0]
    # the term is recomputed from Q2: 6600 h in the horizon × 43.2 = 285,120
    assert stale[0].startswith("stale figures: the plan really costs 285,120.00 USD")
    assert any(
        "end is '2028-01-01T00:00:00', the recomputation says '2028-04-01" in s for s in stale
    )


def test_figures_and_totals_are_recomputed(bought: tuple[Plan, Spec]) -> None:
    """A cheaper stated rate or total is stale; the verifier's own total stands."""
    plan, spec = bought
    cheap = tamper(plan, usd_per_node_hour=30.0, in_horizon_usd=262_800.0)
    cheap = cheap.model_copy(
        update={"objective_usd": 262_800.0, "lower_bound_usd": None, "gap": None}
    )
    report = verify(cheap, prepare(spec, small_catalog()))
    assert report.ok and not report.exact
    assert report.cost_delta_usd == pytest.approx(378_432.0 - 262_800.0)
    assert any("usd_per_node_hour is 30, expected 43.2" in s for s in report.stale)


def test_whole_nodes_limits_and_offerings_are_checked(bought: tuple[Plan, Spec]) -> None:
    plan, spec = bought
    rules, _, _ = findings(tamper(plan, nodes=1.5), spec)
    assert "whole-nodes" in rules
    rules, problems, _ = findings(tamper(plan, nodes=2.0), spec)
    assert rules == ["reservation-limit"]
    assert "2 nodes held, max_nodes 1" in problems[0]
    more = plan.model_copy(
        update={"allocations": [a.model_copy(update={"nodes": 11.0}) for a in plan.allocations]}
    )
    rules, problems, _ = findings(tamper(more, nodes=11.0), spec)
    assert "offering-capacity" in rules
    assert any("11 nodes on demand and reserved, capacity 10" in p for p in problems)
    wrong = tamper(plan, offering_id="ovh:gra:h100-8:on_demand")
    rules, problems, _ = findings(wrong, spec)
    assert rules[0] == "reservation-offering"
    assert "no reservation option 'ri' of the spec may buy that offering" in problems[0]
