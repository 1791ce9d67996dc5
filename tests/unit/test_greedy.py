"""The greedy baseline on the small test catalog (tests/factories.py), checked by the verifier.

Figures: m70 serves 20 requests/s per 8-H100 node; ovh:gra 72 USD/h (10 nodes at most),
gcp:europe-west4 88, aws:eu-west-1 96; 2027-Q1 has 2160 h, 2027-Q2 2184 h. With a 50 ms SLO,
Paris (eu) reaches only the EU regions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archipel.catalog.model import Catalog, Offering
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.result import Allocation, Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CapacityLimit,
    CloudActExclusionRule,
    Contract,
    ExclusivityRule,
    ProviderSettings,
    ResidencyRule,
    Rule,
    Spec,
    SurvivabilityRule,
)
from factories import OFFERINGS, reserved_contract, service, small_catalog, spec_with, training_job

OVH = "ovh:gra:h100-8:on_demand"
GCP_EU = "gcp:europe-west4:a3-highgpu-8g:on_demand"
AWS_EU = "aws:eu-west-1:p5.48xlarge:on_demand"
AWS_US = "aws:us-east-1:p5.48xlarge:on_demand"


def _nodes(allocations: Sequence[Allocation], key: str) -> list[float]:
    return [a.nodes for a in allocations if a.offering_id == key]


def test_greedy_picks_the_cheapest() -> None:
    """100 requests/s → 5 nodes of ovh (72 < 88 < 96): 5 × 72 × (2160 + 2184) = 1,563,840."""
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat]), small_catalog())
    plan = plan_greedy(inputs)
    assert plan.status == Status.FEASIBLE and plan.planner == "greedy"
    assert _nodes(plan.allocations, OVH) == pytest.approx([5.0, 5.0])
    assert plan.objective_usd == pytest.approx(1_563_840.0)
    assert verify(plan, inputs).ok


def test_greedy_spills_to_the_next_cheapest_when_capacity_runs_out() -> None:
    """300 requests/s: ovh's 10 nodes serve 200, gcp (88) takes the other 100 on 5 nodes.
    Q1: 10 × 2160 × 72 + 5 × 2160 × 88 = 1,555,200 + 950,400 = 2,505,600."""
    chat = service(demand={"eu": [300.0, 300.0]}, latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat]), small_catalog())
    plan = plan_greedy(inputs)
    assert _nodes(plan.allocations, OVH) == pytest.approx([10.0, 10.0])
    assert _nodes(plan.allocations, GCP_EU) == pytest.approx([5.0, 5.0])
    assert plan.cost_by_period_usd[0] == pytest.approx(2_505_600.0)
    assert verify(plan, inputs).ok


def test_contract_discount_changes_the_choice() -> None:
    """30 % off aws makes eu-west-1 cost 96 × 0.7 = 67.2 < 72: greedy moves to aws."""
    deal = Contract(
        id="aws-deal",
        provider="aws",
        start=dt.date(2027, 1, 1),
        end=dt.date(2030, 1, 1),
        discount_pct=30.0,
        committed_usd_per_year=1_000_000.0,
    )
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat], contracts=[deal]), small_catalog())
    plan = plan_greedy(inputs)
    assert _nodes(plan.allocations, AWS_EU) == pytest.approx([5.0, 5.0])
    report = verify(plan, inputs)
    assert report.ok, report.problems
    assert [c.year for c in plan.contracts] == [1]


def test_greedy_breaks_survivability_and_the_verifier_says_so() -> None:
    """Everything on ovh: losing ovh leaves nothing, so only survivability is broken."""
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    rules: list[Rule] = [SurvivabilityRule(loss="provider", served_fraction=1.0)]
    inputs = prepare(spec_with(services=[chat], rules=rules), small_catalog())
    report = verify(plan_greedy(inputs), inputs)
    assert report.rules_broken == ["survivability"]


def test_greedy_training_spreads_over_the_window() -> None:
    """17,280 H100-hours, work spread over both quarters by their hours: Q1 gets 17,280 × 2160 /
    4344 = 8,592 h → 8,592 / (8 × 2160) = 0.497 → 1 whole node, and Q2 likewise. ovh (72 USD/h)
    is cheapest but has no fabric, so the gang goes to aws:us-east-1 (80, EFA)."""
    inputs = prepare(
        spec_with(training=[training_job(accelerator_hours=17_280.0)]), small_catalog()
    )
    plan = plan_greedy(inputs)
    assert _nodes(plan.allocations, AWS_US) == [1.0, 1.0]
    assert verify(plan, inputs).ok


def test_greedy_single_node_job_may_use_a_node_without_fabric() -> None:
    """With gang_max_accelerators 8 the job fits one ovh node: 1 node in each quarter."""
    job = training_job(accelerator_hours=17_280.0, gang_max_accelerators=8)
    inputs = prepare(spec_with(training=[job]), small_catalog())
    plan = plan_greedy(inputs)
    assert _nodes(plan.allocations, OVH) == [1.0, 1.0]
    assert verify(plan, inputs).ok


def test_greedy_preemptible_training_takes_spot() -> None:
    """Spot at 40 USD/h with useful fraction 1 − 0.1 × (0.5 + 0.25) = 0.925 costs 43.2 per
    useful node-hour, cheaper than ovh's 72."""
    job = training_job(accelerator_hours=1728.0, preemptible=True)
    inputs = prepare(spec_with(training=[job]), small_catalog())
    plan = plan_greedy(inputs)
    assert {a.purchase_option for a in plan.allocations} == {"spot"}
    assert verify(plan, inputs).ok


def test_greedy_infeasible_names_the_workload() -> None:
    """Sovereign EU data may only use ovh (10 nodes = 200 requests/s) but needs 300."""
    rules: list[Rule] = [
        ResidencyRule(data_class="sov", jurisdictions=["EU"]),
        CloudActExclusionRule(data_classes=["sov"]),
    ]
    chat = service(demand={"eu": [300.0, 300.0]}, data_class="sov")
    plan = plan_greedy(prepare(spec_with(services=[chat], rules=rules), small_catalog()))
    assert plan.status == Status.INFEASIBLE
    assert "service chat, geography eu, period 2027-Q1" in plan.message
    assert plan.infeasibility[0].shortfall == pytest.approx(100.0)


@st.composite
def fleets(draw: st.DrawFn) -> tuple[Spec, Catalog]:
    """Random small fleets without cross-workload rules: capacities, demands, SLOs, data
    classes, exclusivity, contracts, provider limits and training jobs."""
    offerings = [
        Offering(
            o.provider,
            o.region,
            o.instance_type,
            o.accelerator,
            o.accelerators_per_node,
            o.purchase_option,
            draw(st.sampled_from([o.price_usd_per_node_hour, 50.0, 100.0])),
            o.interruptions_per_hour,
            draw(st.sampled_from([None, None, 3.0, 20.0])),
        )
        for o in OFFERINGS
    ]
    services = [
        service(
            f"s{i}",
            {
                g: [draw(st.floats(0, 150)) for _ in range(2)]
                for g in draw(st.sampled_from([["eu"], ["us"], ["eu", "us"]]))
            },
            latency_slo_rtt_ms=draw(st.sampled_from([20.0, 50.0, 100.0])),
            data_class=draw(st.sampled_from([None, "pii", "sov"])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    jobs = [
        training_job(
            f"j{i}",
            draw(st.floats(10, 5000)),
            preemptible=draw(st.booleans()),
            single_region=draw(st.booleans()),
            gang_max_accelerators=draw(st.sampled_from([None, 8, 64])),
            gang_min_accelerators=draw(st.sampled_from([0, 0, 1])),
            deadline=draw(st.sampled_from([dt.date(2027, 3, 1), dt.date(2027, 7, 1)])),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    rules: list[Rule] = [
        ResidencyRule(data_class="pii", jurisdictions=["EU"], countries=["US"]),
        CloudActExclusionRule(data_classes=["sov"]),
    ]
    if draw(st.booleans()):
        rules.append(
            ExclusivityRule(model="m70", providers=["aws", "gcp"], until=dt.date(2027, 4, 1))
        )
    contracts = (
        [
            Contract(
                id="c1",
                provider=draw(st.sampled_from(["aws", "gcp", "ovh"])),
                start=dt.date(2026, 7, 1),
                end=draw(st.sampled_from([dt.date(2027, 4, 1), dt.date(2028, 1, 1)])),
                committed_usd_per_year=draw(st.sampled_from([0.0, 1e6, 1e8])),
                discount_pct=draw(st.sampled_from([0.0, 15.0, 40.0])),
                take_or_pay=draw(st.booleans()),
            )
        ]
        if draw(st.booleans())
        else []
    )
    providers = (
        [
            ProviderSettings(
                id="aws",
                capacity=[CapacityLimit(max_accelerators=draw(st.sampled_from([16.0, 200.0])))],
            )
        ]
        if draw(st.booleans())
        else []
    )
    spec = spec_with(
        services=services, training=jobs, rules=rules, contracts=contracts, providers=providers
    )
    return spec, small_catalog(offerings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_greedy_plans_always_verify(fleet: tuple[Spec, Catalog]) -> None:
    """Whenever greedy places everything, the independent verifier accepts its plan."""
    spec, catalog = fleet
    inputs = prepare(spec, catalog)
    plan = plan_greedy(inputs)
    if plan.status == Status.INFEASIBLE:
        assert plan.infeasibility and plan.message
        return
    report = verify(plan, inputs)
    assert report.ok, report.problems


def test_greedy_uses_a_reserved_block_while_it_lasts() -> None:
    """A Q1-only block of 5 ovh nodes costs nothing per use: greedy serves Q1 on it and Q2 on
    ovh on-demand; objective = 5 × 2160 × 50 fixed + 5 × 2184 × 72 = 540,000 + 786,240."""
    contract = reserved_contract()
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat], contracts=[contract]), small_catalog())
    plan = plan_greedy(inputs)
    assert sorted((a.period, a.purchase_option) for a in plan.allocations) == [
        (0, "reserved"),
        (1, "on_demand"),
    ]
    assert plan.objective_usd == pytest.approx(1_326_240.0)
    assert verify(plan, inputs).ok
