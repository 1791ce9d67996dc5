"""The independent verifier on hand-written plans over the small test catalog (tests/factories.py).

Figures used throughout: 2027-Q1 has 2160 h, 2027-Q2 2184 h; model m70 serves 20 requests/s per
8-H100 node (2 H100 per replica × 5 requests/s); ovh:gra H100 nodes cost 72 USD/h (at most 10),
gcp:europe-west4 88, aws:eu-west-1 96, aws:us-east-1 80. With a 50 ms SLO, Paris (eu) reaches the
three EU regions only (RTT 4.6 / 10.0 / 12.7 ms; us-east-1 is 93.8 ms away).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.result import Allocation, ContractShare, ContractYear, Flow, Plan, Status
from archipel.plan.verify import verify, verify_and_stamp
from archipel.spec.models import (
    CloudActExclusionRule,
    Contract,
    DiversificationRule,
    ExclusivityRule,
    MinProvidersRule,
    ResidencyRule,
    Rule,
    SurvivabilityRule,
)
from factories import (
    M70,
    allocation,
    flow,
    plan_with,
    request_classes,
    reserved_contract,
    service,
    small_catalog,
    spec_with,
    training_job,
    two_class_model,
)

OVH = "ovh:gra:h100-8:on_demand"
GCP_EU = "gcp:europe-west4:a3-highgpu-8g:on_demand"
GCP_L4 = "gcp:europe-west4:g2-standard-48:on_demand"
AWS_US = "aws:us-east-1:p5.48xlarge:on_demand"
H = (2160.0, 2184.0)


def _inputs(*, rules: list[Rule] | None = None, demand: float = 100.0, **svc: Any) -> PlanInputs:
    chat = service(demand={"eu": [demand, demand]}, latency_slo_rtt_ms=50.0, **svc)
    return prepare(spec_with(services=[chat], rules=rules or []), small_catalog())


def _serve_eu(
    inputs: PlanInputs, key: str, price: float, nodes: float = 5.0, rps: float = 100.0
) -> Plan:
    """chat's eu demand on ``nodes`` nodes of ``key`` in both quarters; cost = nodes × h × price."""
    region = ":".join(key.split(":")[:2])
    allocs = [
        allocation(inputs, "chat", key, t, nodes, hours=H[t], cost_usd=nodes * H[t] * price)
        for t in (0, 1)
    ]
    return plan_with(inputs, allocs, [flow("chat", "eu", region, t, rps) for t in (0, 1)])


def test_correct_plan_verifies() -> None:
    """100 requests/s / 20 per node = 5 ovh nodes; 5 × 2160 × 72 = 777,600 and
    5 × 2184 × 72 = 786,240, objective 1,563,840 USD."""
    inputs = _inputs()
    report = verify(_serve_eu(inputs, OVH, 72.0), inputs)
    assert report.ok, report.problems
    assert report.rules_broken == []
    assert report.recomputed is not None
    assert report.recomputed.costs.objective_usd == pytest.approx(1_563_840.0)
    assert report.recomputed.costs.cost_by_period_usd.tolist() == pytest.approx(
        [777_600.0, 786_240.0]
    )
    assert verify_and_stamp(_serve_eu(inputs, OVH, 72.0), inputs).verified


def test_unserved_demand_is_caught() -> None:
    """The Q1 flow carries 80 of the 100 requests/s of demand."""
    inputs = _inputs()
    plan = _serve_eu(inputs, OVH, 72.0)
    flows = [flow("chat", "eu", "ovh:gra", 0, 80.0), plan.flows[1]]
    report = verify(plan.model_copy(update={"flows": flows}), inputs)
    assert report.problems == [
        "service chat, class default, geography eu, period 2027-Q1: served 80 of 100 peak "
        "requests/s"
    ]
    assert report.rules_broken == ["demand-served"]
    stamped = verify_and_stamp(plan.model_copy(update={"flows": flows}), inputs)
    assert not stamped.verified and stamped.verification_problems == report.problems


def test_flow_to_a_too_far_region_is_caught() -> None:
    """us-east-1 is 93.8 ms from Paris, above the 50 ms SLO; 5 × 2160 × 80 = 864,000 USD."""
    inputs = _inputs()
    report = verify(_serve_eu(inputs, AWS_US, 80.0), inputs)
    assert report.rules_broken == ["flow-latency"]
    assert len(report.problems) == 2
    assert report.problems[0].startswith(
        "flow of chat/default from eu to aws:us-east-1, period 2027-Q1: the region is outside "
        "the latency SLO (50 ms)"
    )


def test_offering_over_capacity_is_caught() -> None:
    """240 requests/s need 12 ovh nodes, but ovh:gra has 10 per period."""
    inputs = _inputs(demand=240.0)
    report = verify(_serve_eu(inputs, OVH, 72.0, nodes=12.0, rps=240.0), inputs)
    assert report.rules_broken == ["offering-capacity"]
    assert report.problems[0] == (
        f"offering {OVH}, period 2027-Q1: 12 nodes allocated, capacity 10"
    )


def test_serving_capacity_shortfall_is_caught() -> None:
    """4 nodes serve 4 × 20 = 80 requests/s, not the 100 routed to ovh:gra."""
    inputs = _inputs()
    report = verify(_serve_eu(inputs, OVH, 72.0, nodes=4.0), inputs)
    assert report.rules_broken == ["serving-capacity"]
    assert report.problems[0].startswith(
        "service chat, region ovh:gra, period 2027-Q1: flows of 100 requests/s exceed the "
        "capacity of the allocated nodes (at most 80 requests/s"
    )


def test_wrong_cost_is_a_stale_figure_not_a_broken_plan() -> None:
    """The Q1 allocation says 700,000 USD; 5 × 2160 × 72 = 777,600: the plan holds but states
    77,600 USD too little (objective 1,486,240 stated, 1,563,840 recomputed)."""
    inputs = _inputs()
    plan = _serve_eu(inputs, OVH, 72.0)
    wrong = plan.allocations[0].model_copy(update={"cost_usd": 700_000.0})
    bad = plan_with(inputs, [wrong, plan.allocations[1]], plan.flows)
    report = verify(bad, inputs)
    assert report.ok and report.problems == [] and not report.exact
    assert report.cost_delta_usd == pytest.approx(77_600.0)
    assert report.stale[0].startswith(
        "stale figures: the plan really costs 1,563,840.00 USD, more than the 1,486,240.00 USD "
        "it states (+77,600.00 USD)"
    )
    assert (
        f"allocation chat on {OVH}, period 2027-Q1: cost_usd is 700000, expected 777600"
        in report.stale
    )
    assert not verify_and_stamp(bad, inputs).verified


def test_nodes_added_by_hand_cost_more_but_the_plan_holds() -> None:
    """Rounding ovh up from 5 to 6 nodes in Q1 is strictly safer: no problem, and the report
    says it costs 1 × 2160 × 72 = 155,520 USD more than the file states."""
    inputs = _inputs()
    plan = _serve_eu(inputs, OVH, 72.0)
    more = plan.allocations[0].model_copy(update={"nodes": 6.0})
    report = verify(plan.model_copy(update={"allocations": [more, plan.allocations[1]]}), inputs)
    assert report.ok and report.problems == []
    assert report.cost_delta_usd == pytest.approx(155_520.0)
    assert "more than" in report.stale[0]


def test_residency_breach_is_caught() -> None:
    """Data class eu-pii must stay in the EU; serving it from us-east-1 (US) breaks that, and the
    flow goes to a region with no allowed offering."""
    rules: list[Rule] = [ResidencyRule(data_class="eu-pii", jurisdictions=["EU"])]
    chat = service(demand={"us": [20.0, 20.0]}, data_class="eu-pii")
    inputs = prepare(spec_with(services=[chat], rules=rules), small_catalog())
    allocs = [
        allocation(inputs, "chat", AWS_US, t, 1.0, hours=H[t], cost_usd=H[t] * 80.0) for t in (0, 1)
    ]
    plan = plan_with(inputs, allocs, [flow("chat", "us", "aws:us-east-1", t, 20.0) for t in (0, 1)])
    report = verify(plan, inputs)
    assert report.rules_broken == ["residency", "flow-region"]
    assert report.problems[0] == (
        f"allocation chat on {AWS_US}, period 2027-Q1: region aws:us-east-1 (US, jurisdictions []) "
        "breaks the residency rules of data class eu-pii"
    )


def test_cloud_act_breach_is_caught() -> None:
    """gcp is US-headquartered, so data class 'sovereign' may not run there."""
    inputs = _inputs(
        rules=[CloudActExclusionRule(data_classes=["sovereign"])], data_class="sovereign"
    )
    report = verify(_serve_eu(inputs, GCP_EU, 88.0), inputs)
    assert report.rules_broken == ["cloud_act_exclusion", "flow-region"]
    assert report.problems[0] == (
        f"allocation chat on {GCP_EU}, period 2027-Q1: provider gcp is subject to the CLOUD Act, "
        "excluded for data class sovereign"
    )
    assert verify(_serve_eu(inputs, OVH, 72.0), inputs).ok


def test_exclusivity_breach_is_caught_only_before_until() -> None:
    """m70 is exclusive to gcp until 2027-04-01: ovh breaks it in Q1, not in Q2."""
    rule = ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2027, 4, 1))
    inputs = _inputs(rules=[rule])
    report = verify(_serve_eu(inputs, OVH, 72.0), inputs)
    assert report.rules_broken == ["exclusivity", "flow-region"]
    assert all("2027-Q1" in p for p in report.problems)
    assert report.problems[0] == (
        f"allocation chat on {OVH}, period 2027-Q1: model m70 is exclusive to providers other "
        "than ovh in this period"
    )


def _contract_inputs() -> PlanInputs:
    contract = Contract(
        id="ovh-2027",
        provider="ovh",
        start=dt.date(2027, 1, 1),
        end=dt.date(2028, 1, 1),
        committed_usd_per_year=4_000_000.0,
        discount_pct=10.0,
    )
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    return prepare(spec_with(services=[chat], contracts=[contract]), small_catalog())


COMMITTED = 4_000_000.0 * 4344.0 / 8760.0  # 1,983,561.64: Jan–Jun 2027 of the year's hours
SPENT = 0.9 * (777_600.0 + 786_240.0)  # 10 % off: 699,840 + 707,616 = 1,407,456
SHORTFALL = COMMITTED - SPENT  # 576,105.64, billed (take-or-pay)


def _contract_plan(inputs: PlanInputs, reported_shortfall: float) -> Plan:
    allocs = [
        allocation(
            inputs,
            "chat",
            OVH,
            t,
            5.0,
            hours=H[t],
            cost_usd=5 * H[t] * 72.0 * 0.9,
            list_cost_usd=5 * H[t] * 72.0,
            contract_spend=[ContractShare(contract="ovh-2027", year=1, list_usd=5 * H[t] * 72.0)],
        )
        for t in (0, 1)
    ]
    row = ContractYear(
        contract="ovh-2027",
        provider="ovh",
        year=1,
        start="2027-01-01",
        end="2028-01-01",
        committed_usd=COMMITTED,
        list_usd=SPENT / 0.9,
        discount_usd=SPENT / 9,
        spent_usd=SPENT,
        useful_usd=SPENT,
        shortfall_usd=reported_shortfall,
        unused_usd=SHORTFALL,
    )
    return plan_with(
        inputs,
        allocs,
        [flow("chat", "eu", "ovh:gra", t, 100.0) for t in (0, 1)],
        contracts=[row],
        shortfall_usd=reported_shortfall,
        discount_usd=SPENT / 9,
        unused_commitment_usd=SHORTFALL,
        cost_by_provider_usd={"ovh": SPENT + reported_shortfall},
    )


def test_take_or_pay_shortfall_is_recomputed() -> None:
    """Committed 4 M USD/year × 4344 h / 8760 h = 1,983,561.64 over the horizon; spent
    1,407,456 after the 10 % discount; shortfall 576,105.64; objective = committed."""
    inputs = _contract_inputs()
    report = verify(_contract_plan(inputs, SHORTFALL), inputs)
    assert report.ok, report.problems
    assert report.recomputed is not None
    assert report.recomputed.costs.objective_usd == pytest.approx(COMMITTED)
    assert report.recomputed.contracts[0].shortfall_usd == pytest.approx(SHORTFALL)


def test_misreported_shortfall_is_caught() -> None:
    """The plan says no shortfall; the recomputation finds 576,105.64 USD more to pay."""
    inputs = _contract_inputs()
    report = verify(_contract_plan(inputs, 0.0), inputs)
    assert report.ok and report.cost_delta_usd == pytest.approx(SHORTFALL)
    assert "contract ovh-2027, year 1: shortfall_usd reported 0, expected 576106" in report.stale


def test_spend_counted_outside_the_contract_is_caught() -> None:
    """Counting the Q1 allocation toward the contract twice over is more than was spent."""
    inputs = _contract_inputs()
    plan = _contract_plan(inputs, SHORTFALL)
    first = plan.allocations[0]
    twice = [ContractShare(contract="ovh-2027", year=1, list_usd=2 * 5 * H[0] * 72.0)]
    allocs = [first.model_copy(update={"contract_spend": twice}), plan.allocations[1]]
    tampered = plan.model_copy(update={"allocations": allocs})
    report = verify(tampered, inputs)
    assert "contract-scope" in report.rules_broken


def _training_plan(nodes: float, hours: float = 17_280.0) -> tuple[Plan, PlanInputs]:
    """``hours`` H100-hours due 2027-07-01, on aws:us-east-1 on-demand (EFA) in Q1 only."""
    job = training_job(accelerator_hours=hours)
    inputs = prepare(spec_with(training=[job]), small_catalog())
    alloc = allocation(
        inputs, "train", AWS_US, 0, nodes, hours=2160.0, cost_usd=nodes * 2160 * 80, kind="training"
    )
    return plan_with(inputs, [alloc]), inputs


def test_training_done_verifies() -> None:
    """1 node × 8 H100 × 2160 h = 17,280 H100-hours; cost 1 × 2160 × 80 = 172,800 USD."""
    plan, inputs = _training_plan(1.0)
    assert verify(plan, inputs).exact


def test_training_under_done_is_caught() -> None:
    """1 node × 8 × 2160 h = 17,280 of the 30,000 H100-hours required."""
    plan, inputs = _training_plan(1.0, hours=30_000.0)
    report = verify(plan, inputs)
    assert report.problems == ["training train: work done 17280 of 30000 accelerator-hours of H100"]
    assert report.rules_broken == ["training-work"]


def test_fractional_nodes_are_not_whole() -> None:
    """0.1 node does the 1728 H100-hours, but a plan in whole nodes cannot hold a tenth of one;
    the fractional view (whole_nodes: false) accepts it."""
    plan, inputs = _training_plan(0.1, hours=1728.0)
    report = verify(plan, inputs)
    assert report.rules_broken == ["whole-nodes"]
    assert verify(plan.model_copy(update={"whole_nodes": False}), inputs).ok


def _two_provider_plan(inputs: PlanInputs, gcp_nodes: float) -> Plan:
    """chat on 5 ovh nodes (all flows) plus ``gcp_nodes`` idle gcp:europe-west4 nodes."""
    base = _serve_eu(inputs, OVH, 72.0)
    spare = [
        allocation(inputs, "chat", GCP_EU, t, gcp_nodes, hours=H[t], cost_usd=gcp_nodes * H[t] * 88)
        for t in (0, 1)
    ]
    return plan_with(inputs, [*base.allocations, *spare], base.flows)


def test_survivability_below_fraction_is_caught() -> None:
    """After losing ovh, 2 gcp nodes serve 2 × 20 = 40 of 100 requests/s: 0.4 < 1."""
    inputs = _inputs(rules=[SurvivabilityRule(loss="provider", served_fraction=1.0)])
    report = verify(_two_provider_plan(inputs, 2.0), inputs)
    assert report.rules_broken == ["survivability"]
    assert report.problems == [
        "after losing provider:ovh: service chat serves at most 0.4000 of its peak demand in "
        "period 2027-Q1 on surviving firm (non-spot) nodes (required 1; LP check, relative "
        "tolerance 1e-05)"
    ]
    assert report.recomputed is not None
    by_name = {s.scenario: s for s in report.recomputed.survivability}
    assert set(by_name) == {"provider:aws", "provider:gcp", "provider:ovh"}
    assert by_name["provider:ovh"].served_fraction["chat"] == pytest.approx(0.4)
    assert not by_name["provider:ovh"].ok
    assert by_name["provider:gcp"].ok and by_name["provider:aws"].ok


def test_survivability_met_with_a_standby_provider() -> None:
    """5 gcp nodes carry the full 100 requests/s when ovh is lost, and vice versa."""
    inputs = _inputs(rules=[SurvivabilityRule(loss="provider", served_fraction=1.0)])
    report = verify(_two_provider_plan(inputs, 5.0), inputs)
    assert report.ok, report.problems
    assert report.recomputed is not None
    assert all(
        s.served_fraction["chat"] == pytest.approx(1.0) for s in report.recomputed.survivability
    )


def test_region_loss_scenarios() -> None:
    """Region loss: one scenario per region holding offerings (5 regions)."""
    inputs = _inputs(rules=[SurvivabilityRule(loss="region", served_fraction=0.5)])
    report = verify(_two_provider_plan(inputs, 3.0), inputs)
    assert report.ok, report.problems
    assert report.recomputed is not None
    assert len(report.recomputed.survivability) == 5


MIXED = two_class_model(l4_long_per_replica=0.5)


def _mixed(total: float) -> tuple[Plan, PlanInputs]:
    """One H100 node (40 short or 10 long requests/s) and one L4 node (16 short or 2 long) in
    gcp:europe-west4, Q1 only; costs 1 × 2160 × 88 = 190,080 and 1 × 2160 × 4 = 8,640."""
    classes = request_classes(("short", 0.5, 500, 100), ("long", 0.5, 8000, 500))
    chat = service(demand={"eu": [total, 0.0]}, model="mixed", request_classes=classes)
    inputs = prepare(spec_with(services=[chat], models=[M70, MIXED]), small_catalog())
    allocs = [
        allocation(inputs, "chat", GCP_EU, 0, 1.0, hours=2160.0, cost_usd=190_080.0),
        allocation(inputs, "chat", GCP_L4, 0, 1.0, hours=2160.0, cost_usd=8_640.0),
    ]
    flows = [flow("chat", "eu", "gcp:europe-west4", 0, total / 2, c) for c in ("short", "long")]
    return plan_with(inputs, allocs, flows), inputs


def test_class_split_uses_comparative_advantage() -> None:
    """20 requests/s, 10 short + 10 long. Each node at the mix would give 1/(0.5/40 + 0.5/10) = 16
    plus 1/(0.5/16 + 0.5/2) = 3.56, only 19.56; splitting works: the L4 takes the 10 short
    (0.625 node) and 0.75 long, the H100 the other 9.25 long (0.925 node)."""
    plan, inputs = _mixed(20.0)
    assert verify(plan, inputs).ok


def test_class_split_capacity_exceeded() -> None:
    """The most x short + x long requests/s: L4 x/16 + (x − 10)/2 = 1 with the H100 full on long,
    so x = 32/3 and 2x = 21.333 requests/s < 22."""
    plan, inputs = _mixed(22.0)
    report = verify(plan, inputs)
    assert report.rules_broken == ["serving-capacity"]
    assert "(at most 21.3333 requests/s at this class mix" in report.problems[0]


def test_unknown_offering_and_bad_status() -> None:
    inputs = _inputs()
    plan = _serve_eu(inputs, OVH, 72.0)
    ghost = Allocation.model_validate(plan.allocations[0].model_dump() | {"offering_id": "nope"})
    report = verify(plan.model_copy(update={"allocations": [ghost, plan.allocations[1]]}), inputs)
    assert "allocation-offering" in report.rules_broken
    infeasible = plan.model_copy(update={"status": Status.INFEASIBLE})
    assert verify(infeasible, inputs).rules_broken == ["status"]


def test_flows_default_to_no_flows() -> None:
    """No flows at all: each geography-period reports its unserved demand."""
    inputs = _inputs()
    report = verify(_serve_eu(inputs, OVH, 72.0).model_copy(update={"flows": list[Flow]()}), inputs)
    assert report.rules_broken == ["demand-served"]
    assert len(report.problems) == 2


def test_diversification_breach_is_caught() -> None:
    """ovh spends 1,563,840 and gcp 2 × 88 × (2160 + 2184) = 764,544: ovh's share is
    1,563,840 / 2,328,384 = 0.6716 > 0.6."""
    inputs = _inputs(rules=[DiversificationRule(max_share=0.6)])
    report = verify(_two_provider_plan(inputs, 2.0), inputs)
    assert report.problems == [
        "provider ovh: spend 1,563,840.0 USD is 0.6716 of the total 2,328,384.0 USD, "
        "above max_share 0.6"
    ]
    assert report.rules_broken == ["diversification"]


def test_min_providers_breach_is_caught() -> None:
    """All of chat's demand goes to ovh; two providers with ≥ 10 % each are required."""
    inputs = _inputs(rules=[MinProvidersRule(count=2, min_share=0.1)])
    report = verify(_serve_eu(inputs, OVH, 72.0), inputs)
    assert report.rules_broken == ["min_providers"]
    assert report.problems[0] == (
        "service chat, period 2027-Q1: 1 provider(s) serve at least 10% of demand (ovh 100.0%); "
        "2 required"
    )


def test_gang_min_and_single_region_breaches_are_caught() -> None:
    """1 node on aws:us-east-1 and 1 on gcp:us-east4 in Q1 do 2 × 8 × 2160 = 34,560
    H100-hours (enough), but on 2 regions, with 16 < 24 accelerators in Q1 and 0 in Q2."""
    job = training_job(accelerator_hours=17_280.0, gang_min_accelerators=24)
    inputs = prepare(spec_with(training=[job]), small_catalog())
    gcp_us = "gcp:us-east4:a3-highgpu-8g:on_demand"
    allocs = [
        allocation(inputs, "train", AWS_US, 0, 1, hours=2160, cost_usd=172_800.0, kind="training"),
        allocation(inputs, "train", gcp_us, 0, 1, hours=2160, cost_usd=190_080.0, kind="training"),
    ]
    report = verify(plan_with(inputs, allocs), inputs)
    assert report.rules_broken == ["gang-min", "single-region"]
    assert report.problems == [
        "training train, period 2027-Q1: 16 accelerators, below gang_min 24",
        "training train, period 2027-Q2: 0 accelerators, below gang_min 24",
        "training train: uses 2 regions (aws:us-east-1, gcp:us-east4); single_region allows one",
    ]


RESERVED_KEY = "ovh:gra:h100-8:reserved@ovh-res#0"


def _reserved_inputs() -> PlanInputs:
    """5 reserved ovh nodes at 50 USD/h for Q1 only: fixed cost 5 × 2160 × 50 = 540,000."""
    contract = reserved_contract()
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    return prepare(spec_with(services=[chat], contracts=[contract]), small_catalog())


def _reserved_plan(inputs: PlanInputs, q2_key: str) -> Plan:
    allocs = [
        allocation(inputs, "chat", RESERVED_KEY, 0, 5.0, hours=2160.0, cost_usd=0.0),
        allocation(
            inputs, "chat", q2_key, 1, 5.0, hours=2184.0, cost_usd=786_240.0 * (q2_key == OVH)
        ),
    ]
    q2_cost = allocs[1].cost_usd
    row = ContractYear(
        contract="ovh-res",
        provider="ovh",
        year=2027,
        committed_usd=0.0,
        spent_usd=540_000.0,
        shortfall_usd=0.0,
        reserved_fixed_usd=540_000.0,
    )
    return plan_with(
        inputs,
        allocs,
        [flow("chat", "eu", "ovh:gra", t, 100.0) for t in (0, 1)],
        contracts=[row],
        reserved_fixed_usd=540_000.0,
        cost_by_provider_usd={"ovh": 540_000.0 + q2_cost},
        cost_by_period_usd=[540_000.0, q2_cost],
        cost_by_purchase_option_usd={"reserved": 540_000.0, "on_demand": q2_cost},
    )


def test_reserved_block_costs_its_fixed_cost() -> None:
    """Q1 on the block (0 per use, 540,000 fixed), Q2 on-demand 5 × 2184 × 72 = 786,240:
    objective 1,326,240; the contract's 2027 spend is the block's 540,000."""
    inputs = _reserved_inputs()
    report = verify(_reserved_plan(inputs, OVH), inputs)
    assert report.ok, report.problems
    assert report.recomputed is not None
    assert report.recomputed.costs.objective_usd == pytest.approx(1_326_240.0)


def test_reserved_block_outside_its_dates_is_over_capacity() -> None:
    """The block holds no capacity in Q2 (no overlap with [2027-01-01, 2027-04-01))."""
    inputs = _reserved_inputs()
    report = verify(_reserved_plan(inputs, RESERVED_KEY), inputs)
    assert report.rules_broken == ["offering-capacity"]
    assert report.problems == [
        f"offering {RESERVED_KEY}, period 2027-Q2: 5 nodes allocated, capacity 0"
    ]
