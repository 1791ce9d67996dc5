"""The verifier on plans that break capacity over time, traffic ramps and migration limits; the
greedy baseline (which ignores ramps and migration limits) is caught; infeasible ramps are named.

Figures (tests/factories.py): m70 serves 20 requests/s per 8-H100 node; ovh:gra 72 USD/h (≤ 10
nodes), gcp:europe-west4 88; 2027-Q1 has 2160 h, 2027-Q2 2184 h; 100 requests/s from eu with a
50 ms SLO reach the EU regions only.
"""

from __future__ import annotations

import datetime as dt

import pytest

from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.planner import make_plan
from archipel.plan.result import Plan, Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    ExclusivityRule,
    MigrationLimitRule,
    ProviderSettings,
    RampStep,
    Rule,
    TrafficRampRule,
)
from factories import allocation, flow, plan_with, service, small_catalog, spec_with

OVH = "ovh:gra:h100-8:on_demand"
GCP_EU = "gcp:europe-west4:a3-highgpu-8g:on_demand"
H = (2160.0, 2184.0)
PRICE = {OVH: 72.0, GCP_EU: 88.0}


def _inputs(
    rules: list[Rule] | None = None, providers: list[ProviderSettings] | None = None
) -> PlanInputs:
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    spec = spec_with(services=[chat], rules=rules or [], providers=providers or [])
    return prepare(spec, small_catalog())


def _plan(inputs: PlanInputs, nodes: dict[str, tuple[float, float]]) -> Plan:
    """chat served by ``nodes`` per offering and quarter, 20 requests/s per node."""
    allocs, flows = [], []
    for key, per_t in nodes.items():
        region = ":".join(key.split(":")[:2])
        for t, n in enumerate(per_t):
            if n > 0:
                cost = n * H[t] * PRICE[key]
                allocs.append(allocation(inputs, "chat", key, t, n, hours=H[t], cost_usd=cost))
                flows.append(flow("chat", "eu", region, t, 20.0 * n))
    return plan_with(inputs, allocs, flows)


def _ramp(provider: str, lo: float, hi: float) -> TrafficRampRule:
    step = RampStep(start=dt.date(2027, 1, 1), min_share=lo, max_share=hi)
    return TrafficRampRule(service="chat", provider=provider, steps=[step])


# --------------------------------------------------------------------------- traffic ramps


def test_a_plan_within_its_ramp_verifies() -> None:
    """ovh 3 nodes (60 %), gcp 2 (40 %) against ovh in [25 %, 60 %]."""
    inputs = _inputs([_ramp("ovh", 0.25, 0.6)])
    report = verify(_plan(inputs, {OVH: (3, 3), GCP_EU: (2, 2)}), inputs)
    assert report.ok, report.problems


def test_a_share_above_the_ramp_is_caught() -> None:
    """All 100 requests/s on ovh, whose ramp allows at most 50 %."""
    inputs = _inputs([_ramp("ovh", 0.0, 0.5)])
    report = verify(_plan(inputs, {OVH: (5, 5)}), inputs)
    assert report.rules_broken == ["traffic_ramp"]
    assert report.problems == [
        f"service chat on provider ovh, period 2027-Q{q}: 100 of 100 peak requests/s "
        "(100.0000%), above the traffic ramp's max_share 0.5 (step from 2027-01-01)"
        for q in (1, 2)
    ]


def test_a_share_below_the_ramp_is_caught_period_by_period() -> None:
    """gcp must carry at least 25 % from 2027-04-01 on: 1 node (20 %) in Q2 is short; Q1 is
    before the ramp's first step, where the rule says nothing."""
    step = RampStep(start=dt.date(2027, 4, 1), min_share=0.25)
    inputs = _inputs([TrafficRampRule(service="chat", provider="gcp", steps=[step])])
    report = verify(_plan(inputs, {OVH: (5, 4), GCP_EU: (0, 1)}), inputs)
    assert report.problems == [
        "service chat on provider gcp, period 2027-Q2: 20 of 100 peak requests/s (20.0000%), "
        "below the traffic ramp's min_share 0.25 (step from 2027-04-01)"
    ]


# --------------------------------------------------------------------------- migration limits


def test_a_gradual_migration_verifies() -> None:
    """ovh 100 % → 80 %, gcp 0 % → 20 %: shifts of 20 % ≤ 25 %."""
    inputs = _inputs([MigrationLimitRule(max_shift=0.25)])
    report = verify(_plan(inputs, {OVH: (5, 4), GCP_EU: (0, 1)}), inputs)
    assert report.ok, report.problems


def test_a_migration_too_fast_is_caught_for_each_provider() -> None:
    """Everything moves from ovh to gcp in one quarter: a 100 % shift on both."""
    inputs = _inputs([MigrationLimitRule(max_shift=0.25, services=["chat"])])
    report = verify(_plan(inputs, {OVH: (5, 0), GCP_EU: (0, 5)}), inputs)
    assert report.rules_broken == ["migration_limit"]
    assert report.problems == [
        f"service chat on provider {p}: share {a} in 2027-Q1, {b} in 2027-Q2, a shift of "
        "100.0000%, above the migration limit's max_shift 0.25"
        for p, a, b in (("gcp", "0.0000%", "100.0000%"), ("ovh", "100.0000%", "0.0000%"))
    ]


# --------------------------------------------------------------------------- capacity over time


def test_nodes_before_a_capacity_window_are_caught_first() -> None:
    """gcp's europe-west4 capacity arrives on 2027-02-01: Q1 is not wholly inside, so the 2 gcp
    nodes of Q1 break it (Q2 is fine). Availability ranks with the rules that make cells exist."""
    window = CapacityLimit(region="gcp:europe-west4", available_from=dt.date(2027, 2, 1))
    inputs = _inputs(
        [_ramp("ovh", 0.0, 0.5)], providers=[ProviderSettings(id="gcp", capacity=[window])]
    )
    report = verify(_plan(inputs, {OVH: (3, 3), GCP_EU: (2, 2)}), inputs)
    assert report.rules_broken == ["availability", "traffic_ramp"]
    assert report.problems[0] == (
        f"allocation chat on {GCP_EU}, period 2027-Q1: 2 nodes, but the capacity of provider "
        "gcp gcp:europe-west4 is available only from 2027-02-01, and a period counts only when "
        "it lies wholly inside that window"
    )


def test_a_capacity_step_is_checked_in_its_periods() -> None:
    """gcp may hold 16 accelerators (2 nodes), 8 from 2027-04-01: 2 nodes in Q2 break it."""
    step = CapacityLimit(
        max_accelerators=16, steps=[CapacityStep(start=dt.date(2027, 4, 1), max_accelerators=8)]
    )
    inputs = _inputs(providers=[ProviderSettings(id="gcp", capacity=[step])])
    report = verify(_plan(inputs, {OVH: (3, 3), GCP_EU: (2, 2)}), inputs)
    assert report.problems == ["provider gcp, period 2027-Q2: 16 accelerators, limit 8"]
    assert report.rules_broken == ["provider-capacity"]


def test_a_limit_on_an_instance_type_covers_only_that_type() -> None:
    """ovh h100-8 limited to 32 accelerators (4 nodes): 5 nodes break it."""
    limit = CapacityLimit(instance_type="h100-8", max_accelerators=32)
    inputs = _inputs(providers=[ProviderSettings(id="ovh", capacity=[limit])])
    report = verify(_plan(inputs, {OVH: (5, 4), GCP_EU: (0, 1)}), inputs)
    assert report.problems == ["provider ovh h100-8, period 2027-Q1: 40 accelerators, limit 32"]


# --------------------------------------------------------------------------- greedy and diagnosis


def test_greedy_ignores_ramps_and_migration_limits_and_the_verifier_says_so() -> None:
    """Greedy puts everything on ovh (72/h, 5 nodes): above a 50 % ramp on ovh; and with gcp
    exclusive in Q1 it jumps from gcp to ovh in Q2, breaking a 25 % migration limit."""
    inputs = _inputs([_ramp("ovh", 0.0, 0.5)])
    greedy = plan_greedy(inputs)
    assert greedy.status == Status.FEASIBLE
    assert verify(greedy, inputs).rules_broken == ["traffic_ramp"]
    gcp_first = ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2027, 4, 1))
    inputs = _inputs([MigrationLimitRule(max_shift=0.25), gcp_first])
    assert verify(plan_greedy(inputs), inputs).rules_broken == ["migration_limit"]


def test_greedy_keeps_to_capacity_windows() -> None:
    """ovh (the cheapest) only from 2027-04-01: greedy serves Q1 from gcp, Q2 from ovh."""
    window = CapacityLimit(available_from=dt.date(2027, 4, 1))
    inputs = _inputs(providers=[ProviderSettings(id="ovh", capacity=[window])])
    greedy = plan_greedy(inputs)
    assert {(a.provider, a.period) for a in greedy.allocations} == {("gcp", 0), ("ovh", 1)}
    assert verify(greedy, inputs).ok


def test_a_ramp_on_a_provider_the_exclusivity_forbids_is_named_as_the_blocker() -> None:
    """m70 is exclusive to gcp until 2027-04-01, yet the ramp wants ≥ 25 % of 100 requests/s on
    ovh from 2027-01-01: in Q1 no ovh cell exists, so the ramp's 25 requests/s cannot be met."""
    gcp_first = ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2027, 4, 1))
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    spec = spec_with(services=[chat], rules=[_ramp("ovh", 0.25, 1.0), gcp_first])
    plan = make_plan(spec, small_catalog())
    assert plan.status == Status.INFEASIBLE
    assert [(b.family, b.entity) for b in plan.infeasibility] == [
        ("provider-ramp-share-lower", "chat/ovh/2027-Q1")
    ]
    assert plan.infeasibility[0].shortfall == pytest.approx(25.0)
