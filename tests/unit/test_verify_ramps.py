"""The verifier on plans that break capacity over time; the greedy baseline keeps to it.

Figures (tests/factories.py): m70 serves 20 requests/s per 8-H100 node; ovh:gra 72 USD/h (≤ 10
nodes), gcp:europe-west4 88; 2027-Q1 has 2160 h, 2027-Q2 2184 h; 100 requests/s from eu with a
50 ms SLO reach the EU regions only.
"""

from __future__ import annotations

import datetime as dt

from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.result import Plan
from archipel.plan.verify import verify
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    ProviderSettings,
    Rule,
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


# --------------------------------------------------------------------------- capacity over time


def test_nodes_before_a_capacity_window_are_caught_first() -> None:
    """gcp's europe-west4 capacity arrives on 2027-02-01: Q1 is not wholly inside, so the 2 gcp
    nodes of Q1 break it (Q2 is fine)."""
    window = CapacityLimit(region="gcp:europe-west4", available_from=dt.date(2027, 2, 1))
    inputs = _inputs(providers=[ProviderSettings(id="gcp", capacity=[window])])
    report = verify(_plan(inputs, {OVH: (3, 3), GCP_EU: (2, 2)}), inputs)
    assert report.rules_broken == ["availability"]
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


def test_greedy_keeps_to_capacity_windows() -> None:
    """ovh (the cheapest) only from 2027-04-01: greedy serves Q1 from gcp, Q2 from ovh."""
    window = CapacityLimit(available_from=dt.date(2027, 4, 1))
    inputs = _inputs(providers=[ProviderSettings(id="ovh", capacity=[window])])
    greedy = plan_greedy(inputs)
    assert {(a.provider, a.period) for a in greedy.allocations} == {("gcp", 0), ("ovh", 1)}
    assert verify(greedy, inputs).ok
