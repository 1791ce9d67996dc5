"""The verifier checks what would break in the real world: replicas across nodes without a fabric,
gangs of mixed chips or without a fabric, spot counted as firm, demand below its peak, and plans
that claim what cannot be (tests/factories.py catalog; figures derived in each docstring).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from archipel.catalog.model import Offering, PurchaseOption
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.verify import verify
from archipel.spec.models import (
    DemandGrowth,
    InferenceService,
    MeasuredThroughput,
    ModelSpec,
    SurvivabilityRule,
)
from factories import (
    EFA,
    M70,
    OFFERINGS,
    allocation,
    flow,
    plan_with,
    service,
    small_catalog,
    spec_with,
    training_job,
)

OVH = "ovh:gra:h100-8:on_demand"
AWS_US = "aws:us-east-1:p5.48xlarge:on_demand"
AWS_SPOT = "aws:us-east-1:p5.48xlarge:spot"
GCP_L4 = "gcp:europe-west4:g2-standard-48:on_demand"
H200 = "aws:us-east-1:p5e.48xlarge:on_demand"
H = (2160.0, 2184.0)

WIDE = ModelSpec(
    id="wide",
    parameters_b=700,
    multi_node_replicas=True,
    throughput=[
        MeasuredThroughput(
            accelerator="H100", accelerators_per_replica=16, requests_per_s_per_replica=30.0
        ),
        MeasuredThroughput(
            accelerator="L4", accelerators_per_replica=8, requests_per_s_per_replica=1.0
        ),
    ],
)
WITH_H200 = (
    *OFFERINGS,
    Offering("aws", "us-east-1", "p5e.48xlarge", "H200", 8, PurchaseOption.ON_DEMAND, 100.0, **EFA),  # type: ignore[arg-type]
)


def _wide_inputs() -> PlanInputs:
    chat = service(demand={"us": [30.0, 30.0]}, model="wide")
    return prepare(spec_with(services=[chat], models=[M70, WIDE]), small_catalog())


def test_a_replica_larger_than_a_node_needs_a_fabric() -> None:
    """A 16-H100 replica takes 2 whole p5 nodes joined by EFA (30 requests/s per replica); on
    ovh's 8-GPU nodes, which have no fabric, it cannot be built at all."""
    inputs = _wide_inputs()
    on_aws = [
        allocation(inputs, "chat", AWS_US, t, 2.0, hours=H[t], cost_usd=2 * H[t] * 80)
        for t in (0, 1)
    ]
    flows = [flow("chat", "us", "aws:us-east-1", t, 30.0) for t in (0, 1)]
    good = plan_with(inputs, on_aws, flows)
    report = verify(good, inputs)
    assert report.exact, report.problems + report.stale
    odd = [a.model_copy(update={"nodes": 3.0, "cost_usd": 3 * a.hours * 80}) for a in on_aws]
    bad = verify(plan_with(inputs, odd, flows), inputs)
    assert "replica-topology" in bad.rules_broken
    assert any("not a whole number of 2-node replicas" in p for p in bad.problems)


def test_an_eight_accelerator_replica_never_lands_on_four_accelerator_nodes() -> None:
    """An 8-L4 replica on g2-standard-48 (4 L4, no fabric) would span two machines with no fast
    link between them, however cheap the L4 node is."""
    chat = service(demand={"eu": [1.0, 1.0]}, model="wide", latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat], models=[M70, WIDE]), small_catalog())
    allocs = [
        allocation(inputs, "chat", GCP_L4, t, 2.0, hours=H[t], cost_usd=2 * H[t] * 4)
        for t in (0, 1)
    ]
    flows = [flow("chat", "eu", "gcp:europe-west4", t, 1.0) for t in (0, 1)]
    report = verify(plan_with(inputs, allocs, flows), inputs)
    assert report.rules_broken[0] == "replica-topology"
    assert "needs more accelerators than a g2-standard-48 node holds" in report.problems[0]


def test_a_gang_is_one_accelerator_type() -> None:
    """1 H100 node and 1 H200 node, both on EFA in one region, mix chip types in one run."""
    job = training_job(accelerator_hours=17_280.0, accelerators=("H100", "H200"))
    inputs = prepare(spec_with(training=[job]), small_catalog(WITH_H200))
    allocs = [
        allocation(inputs, "train", AWS_US, 0, 1, hours=2160, cost_usd=172_800.0, kind="training"),
        allocation(inputs, "train", H200, 0, 1, hours=2160, cost_usd=216_000.0, kind="training"),
    ]
    report = verify(plan_with(inputs, allocs), inputs)
    assert report.rules_broken == ["gang-type"]
    assert report.problems == [
        "training train: mixes accelerator types (H100, H200); a gang is one type for the whole run"
    ]


def test_a_gang_across_nodes_needs_a_fabric() -> None:
    """2 ovh nodes (no fabric) for a job without a one-node gang limit: the cell itself is not
    allowed; with gang_max_accelerators 8 one ovh node is fine, two are not."""
    job = training_job(accelerator_hours=17_280.0)
    inputs = prepare(spec_with(training=[job]), small_catalog())
    two = allocation(inputs, "train", OVH, 0, 2, hours=2160, cost_usd=311_040.0, kind="training")
    report = verify(plan_with(inputs, [two]), inputs)
    assert report.rules_broken[0] == "training-fabric"
    small = training_job(accelerator_hours=17_280.0, gang_max_accelerators=8)
    inputs = prepare(spec_with(training=[small]), small_catalog())
    one = allocation(inputs, "train", OVH, 0, 1, hours=2160, cost_usd=155_520.0, kind="training")
    assert verify(plan_with(inputs, [one]), inputs).exact
    two = allocation(inputs, "train", OVH, 0, 2, hours=2160, cost_usd=311_040.0, kind="training")
    assert "training-fabric" in verify(plan_with(inputs, [two]), inputs).rules_broken


def _spot_inputs(availability: float, **svc: object) -> PlanInputs:
    catalog = small_catalog(
        [
            replace(o, availability=availability) if o.purchase_option == "spot" else o
            for o in OFFERINGS
        ]
    )
    chat = service(
        demand={"us": [100.0, 100.0]},
        purchase_options=["on_demand", "spot"],
        spot_max_share=1.0,
        **svc,
    )
    return prepare(spec_with(services=[chat]), catalog)


def _on_spot(inputs: PlanInputs, nodes: float) -> list:
    return [
        allocation(inputs, "chat", AWS_SPOT, t, nodes, hours=H[t], cost_usd=nodes * H[t] * 40)
        for t in (0, 1)
    ]


def test_spot_capacity_is_derated_by_its_availability() -> None:
    """At availability 0.5 a spot node serves 20 × 0.5 = 10 requests/s: 5 nodes carry 50 of
    the 100 requests/s, 10 nodes carry them all."""
    inputs = _spot_inputs(0.5)
    flows = [flow("chat", "us", "aws:us-east-1", t, 100.0) for t in (0, 1)]
    short = verify(plan_with(inputs, _on_spot(inputs, 5.0), flows), inputs)
    assert short.rules_broken == ["serving-capacity"]
    assert "(at most 50 requests/s" in short.problems[0]
    assert verify(plan_with(inputs, _on_spot(inputs, 10.0), flows), inputs).exact


def test_spot_share_is_capped_per_service() -> None:
    """spot_max_share 0.5: at most 50 of the 100 requests/s may be carried by spot nodes, so 5
    spot nodes alone break the cap; 3 spot + 3 on-demand nodes split it 50/50 and hold."""
    inputs = _spot_inputs(1.0)
    chat = inputs.spec.services[0].model_copy(update={"spot_max_share": 0.5})
    inputs = prepare(inputs.spec.model_copy(update={"services": [chat]}), inputs.catalog)
    flows = [flow("chat", "us", "aws:us-east-1", t, 100.0) for t in (0, 1)]
    all_spot = verify(plan_with(inputs, _on_spot(inputs, 5.0), flows), inputs)
    assert all_spot.rules_broken == ["spot-share"]
    mixed = _on_spot(inputs, 3.0) + [
        allocation(inputs, "chat", AWS_US, t, 3.0, hours=H[t], cost_usd=3 * H[t] * 80)
        for t in (0, 1)
    ]
    assert verify(plan_with(inputs, mixed, flows), inputs).ok


def test_spot_does_not_count_toward_survivability_unless_asked() -> None:
    """5 on-demand ovh nodes plus 5 aws spot nodes (both reach 'us' only at aws… so serve eu from
    ovh and keep aws spot as standby): losing ovh leaves only spot, which serves 0 firm; with
    count_spot the spot standby serves all 100 requests/s."""
    for count_spot, ok in ((False, False), (True, True)):
        rule = SurvivabilityRule(loss="provider", served_fraction=1.0, count_spot=count_spot)
        chat = service(
            demand={"eu": [100.0, 100.0]},
            purchase_options=["on_demand", "spot"],
            spot_max_share=1.0,
            serving_regions={"eu": ["ovh:gra", "aws:us-east-1"]},
        )
        inputs = prepare(spec_with(services=[chat], rules=[rule]), small_catalog())
        allocs = [
            allocation(inputs, "chat", OVH, t, 5.0, hours=H[t], cost_usd=5 * H[t] * 72)
            for t in (0, 1)
        ] + _on_spot(inputs, 5.0)
        flows = [flow("chat", "eu", "ovh:gra", t, 100.0) for t in (0, 1)]
        report = verify(plan_with(inputs, allocs, flows), inputs)
        assert report.ok is ok, report.problems


def test_capacity_covers_the_peak_of_each_period() -> None:
    """Growth 100 % a year from 100 requests/s: Q1 2027 ends at 100 × 2^(90/365.25) = 118.6
    requests/s, and with peak_to_average 1.5 the peak is 177.9: flows sized at the period's
    start (100) leave the peak unserved."""
    chat = InferenceService(
        id="chat",
        model="m70",
        demand=DemandGrowth(base_by_geography={"eu": 100.0}, growth_pct_per_year=100.0),
        latency_slo_rtt_ms=50.0,
        peak_to_average=1.5,
    )
    inputs = prepare(spec_with(services=[chat], periods=1), small_catalog())
    peak = 100.0 * 2 ** (90 / 365.25) * 1.5
    assert peak == pytest.approx(177.9, abs=0.05)
    alloc = [allocation(inputs, "chat", OVH, 0, 9.0, hours=2160.0, cost_usd=9 * 2160 * 72.0)]
    low = verify(plan_with(inputs, alloc, [flow("chat", "eu", "ovh:gra", 0, 100.0)]), inputs)
    assert low.rules_broken == ["demand-served"]
    assert f"served 100 of {peak:.6g} peak requests/s" in low.problems[0]
    full = verify(plan_with(inputs, alloc, [flow("chat", "eu", "ovh:gra", 0, peak)]), inputs)
    assert full.exact, full.problems + full.stale


def test_a_plan_cannot_claim_the_impossible() -> None:
    """A lower bound above the plan's own cost, a negative gap, and a plan made for another spec
    (spec_sha256) are problems, not bookkeeping."""
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=50.0)
    inputs = prepare(spec_with(services=[chat]), small_catalog())
    allocs = [
        allocation(inputs, "chat", OVH, t, 5.0, hours=H[t], cost_usd=5 * H[t] * 72) for t in (0, 1)
    ]
    plan = plan_with(inputs, allocs, [flow("chat", "eu", "ovh:gra", t, 100.0) for t in (0, 1)])
    assert verify(plan, inputs).exact
    bound = verify(plan.model_copy(update={"lower_bound_usd": 2e6}), inputs)
    assert bound.rules_broken == ["plan-claims"]
    assert verify(plan.model_copy(update={"gap": -0.1}), inputs).rules_broken == ["plan-claims"]
    other = verify(plan.model_copy(update={"spec_sha256": "0" * 64}), inputs)
    assert other.rules_broken == ["plan-spec"]
    _ = dt
