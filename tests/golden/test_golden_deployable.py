"""Hand-checked plans that can be deployed: whole replicas on real machines, one-type gangs on a
fabric, spot derated and kept out of survivability, capacity at the peak, request classes split
across chip types, a lab's own chip. Catalog and figures: tests/factories.py (H100 nodes of 8:
ovh:gra 72 USD/h at most 10 nodes, no fabric; aws:us-east-1 80 with EFA; gcp 88 with TCPX;
g2-standard-48 is 4 × L4 at 4 USD/h). 2027-Q1 has 2160 h, 2027-Q2 2184 h: 4344 h. Each plan is
solved to optimality (``mip_rel_gap=0``) and verified.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import Catalog, Offering, PurchaseOption
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    AcceleratorDecl,
    CatalogSelection,
    CostCapital,
    DemandGrowth,
    InferenceService,
    MeasuredThroughput,
    ModelSpec,
    OfferingDecl,
    ProviderSettings,
    RegionDecl,
    Spec,
    SurvivabilityRule,
)
from factories import (
    EFA,
    M70,
    OD,
    OFFERINGS,
    SPOT,
    request_classes,
    service,
    small_catalog,
    spec_with,
    training_job,
    two_class_model,
)

HOURS = 4344.0


def run(spec: Spec, catalog: Catalog, **options: Any) -> Plan:
    options.setdefault("mip_rel_gap", 0.0)
    options.setdefault("rule_costs", False)
    plan = make_plan(spec, catalog, options=PlanOptions(**options))
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    assert all(a.nodes == round(a.nodes) for a in plan.allocations) or not plan.whole_nodes
    return plan


def select(spec: Spec, accelerators: list[str], options: list[PurchaseOption]) -> Spec:
    sel = CatalogSelection(source="tests", accelerators=accelerators, purchase_options=options)
    return spec.model_copy(update={"catalog": sel})


def test_an_eight_gpu_replica_never_lands_on_one_gpu_nodes() -> None:
    """A model whose replica is 8 H100 (measured, 20 requests/s per replica), 100 requests/s
    from Paris. A 1-GPU a3-highgpu-1g VM at 8.5 USD/h is cheaper per GPU than ovh's node (72 / 8
    = 9), and 40 of them (340 USD/h) would undercut 5 ovh nodes (360 USD/h) — but a replica cannot
    span VMs without a fast link, so the plan is 5 ovh nodes: 5 × 72 × 4344 = 1,563,840."""
    big = ModelSpec(
        id="big",
        parameters_b=400,
        bytes_per_parameter=1,
        throughput=[
            MeasuredThroughput(
                accelerator="H100", accelerators_per_replica=8, requests_per_s_per_replica=20.0
            )
        ],
    )
    one_gpu = Offering("gcp", "europe-west4", "a3-highgpu-1g", "H100", 1, OD, 8.5)
    catalog = small_catalog([*OFFERINGS, one_gpu])
    spec = spec_with(services=[service(demand={"eu": [100, 100]}, model="big")], models=[big])
    plan = run(select(spec, ["H100"], [OD]), catalog)
    assert {a.instance_type for a in plan.allocations} == {"h100-8"}
    assert [a.replicas for a in plan.allocations] == [5.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_563_840)


def test_a_gang_stays_one_accelerator_type() -> None:
    """A job of 50,000 H100-hours on H100 or H200 (same BF16 peak, so an H200-hour does an
    H100-hour of work) with a gang of at least 16 accelerators in both quarters. Only
    aws:us-east-1 has a fabric: p5 (H100) at 80 USD/h with 1 node available, p5e (H200) at 100.
    One H100 node plus one H200 node (180 USD/h) would be cheapest but mixes chips; one H100 node
    cannot hold the gang; so 2 H200 nodes in each quarter: 200 × 4344 = 868,800 (their work,
    2 × 8 × 4344 = 69,504 H100-hours, covers the job)."""
    catalog = small_catalog(
        [
            Offering("aws", "us-east-1", "p5.48xlarge", "H100", 8, OD, 80.0, max_nodes=1, **EFA),  # type: ignore[arg-type]
            Offering("aws", "us-east-1", "p5e.48xlarge", "H200", 8, OD, 100.0, **EFA),  # type: ignore[arg-type]
            Offering("ovh", "gra", "h100-8", "H100", 8, OD, 72.0, scale_up="nvswitch"),
        ]
    )
    job = training_job(
        accelerator_hours=50_000, accelerators=("H100", "H200"), gang_min_accelerators=16
    )
    plan = run(spec_with(training=[job]), catalog)
    assert {a.accelerator for a in plan.allocations} == {"H200"}
    assert [a.nodes for a in plan.allocations] == [2.0, 2.0]
    assert plan.objective_usd == pytest.approx(868_800)
    assert plan.lower_bound_usd == pytest.approx(868_800)


def _spot_catalog() -> Catalog:
    """aws:us-east-1 spot at 36 USD/h with availability 0.5: 20 × 0.5 = 10 requests/s per node."""
    return small_catalog(
        [
            replace(o, availability=0.5, price_usd_per_node_hour=36.0)
            if o.purchase_option == SPOT
            else o
            for o in OFFERINGS
        ]
    )


def _spot_spec(rules: list[Any]) -> Spec:
    """100 requests/s from New York within 20 ms: aws:us-east-1 or gcp:us-east4 only."""
    chat = service(
        demand={"us": [100, 100]},
        latency_slo_rtt_ms=20.0,
        purchase_options=["on_demand", "spot"],
        spot_max_share=1.0,
    )
    return select(spec_with(services=[chat], rules=rules), ["H100"], [OD, SPOT])


def test_spot_is_derated_by_its_availability() -> None:
    """A spot node serves half its nominal 20 requests/s: 3.6 USD/h per request/s against 4.0 on
    demand, so 10 spot nodes (not 5): 10 × 36 × 4344 = 1,563,840."""
    plan = run(_spot_spec([]), _spot_catalog())
    assert {a.purchase_option for a in plan.allocations} == {"spot"}
    assert [a.nodes for a in plan.allocations] == [10.0, 10.0]
    assert plan.objective_usd == pytest.approx(1_563_840)


def test_spot_is_left_out_of_survivability_unless_asked() -> None:
    """Surviving the loss of any provider at 100 %: losing aws needs 5 gcp nodes (440 USD/h);
    losing gcp needs aws capacity for 100 requests/s. Firm only (the default), that is 5 aws
    on-demand nodes (400): 840 × 4344 = 3,648,960, and the firm nodes serve the demand too. With
    count_spot the cheaper 10 spot nodes (360) can stand in: 800 × 4344 = 3,475,200."""
    firm = run(_spot_spec([SurvivabilityRule(served_fraction=1.0)]), _spot_catalog())
    assert "spot" not in {a.purchase_option for a in firm.allocations}
    assert firm.objective_usd == pytest.approx(3_648_960)
    counted = run(
        _spot_spec([SurvivabilityRule(served_fraction=1.0, count_spot=True)]), _spot_catalog()
    )
    assert counted.objective_usd == pytest.approx(3_475_200)


def test_peak_demand_sizes_capacity() -> None:
    """Demand doubles each year from 100 requests/s; in 2027-Q1 it ends at 100 × 2^(90/365.25) =
    118.6, and with a peak-to-average of 1.5 the peak is 177.9 requests/s: ceil(177.9 / 20) = 9
    ovh nodes, not the 5 that the period's starting average would suggest: 9 × 72 × 2160 =
    1,399,680."""
    chat = InferenceService(
        id="chat",
        model="m70",
        demand=DemandGrowth(base_by_geography={"eu": 100.0}, growth_pct_per_year=100.0),
        peak_to_average=1.5,
    )
    plan = run(select(spec_with(services=[chat], periods=1), ["H100"], [OD]), small_catalog())
    assert [a.nodes for a in plan.allocations] == [9.0]
    assert plan.objective_usd == pytest.approx(1_399_680)


def test_headroom_plans_more_replicas_and_the_verifier_holds_plans_to_it() -> None:
    """The same peak of 177.9 requests/s with max_utilization 0.9: a node may carry 18 of its
    20 requests/s, so ceil(177.9 / 18) = 10 ovh nodes: 10 × 72 × 2160 = 1,555,200; the greedy
    planner sizes the same. The plan sized at full throughput (9 nodes) fails the verifier
    against the spec that asks for the headroom."""
    chat = InferenceService(
        id="chat",
        model="m70",
        demand=DemandGrowth(base_by_geography={"eu": 100.0}, growth_pct_per_year=100.0),
        peak_to_average=1.5,
    )
    base = select(spec_with(services=[chat], periods=1), ["H100"], [OD])
    roomy = base.model_copy(update={"services": [chat.model_copy(update={"max_utilization": 0.9})]})
    plan = run(roomy, small_catalog())
    assert [a.nodes for a in plan.allocations] == [10.0]
    assert plan.objective_usd == pytest.approx(1_555_200)
    assert plan.allocations[0].utilisation == pytest.approx(177.9 / 180, abs=1e-3)
    greedy = make_plan(roomy, small_catalog(), "greedy")
    assert greedy.verified and sum(a.nodes for a in greedy.allocations) == 10.0
    tight = run(base, small_catalog())
    report = verify(tight, prepare(roomy, small_catalog()))
    assert not report.ok
    assert any("at most 162 requests/s" in p for p in report.problems), report.problems


MELANGE = two_class_model(l4_long_per_replica=0.125)


def test_two_chip_types_in_two_regions_split_a_two_class_mix() -> None:
    """100 short and 100 long requests/s from Paris in 2027-Q1 (2160 h). Per node: ovh's 8 H100
    serve 40 short or 10 long (72 USD/h: 1.8 and 7.2 USD/h per request/s); gcp:europe-west4's
    4 L4 serve 16 short or 0.5 long (4 USD/h: 0.25 and 8.0). Short goes to the L4s in one
    region, long to the H100s in another. Whole nodes: 7 L4 nodes carry the 100 short (their
    spare 0.75 node-time could take only 0.375 long), 10 H100 nodes the 100 long (ovh's limit):
    (7 × 4 + 10 × 72) × 2160 = 748 × 2160 = 1,615,680. Six L4 nodes would leave 4 short for the
    H100s, 10.1 nodes: over ovh's 10. Fractional view: 6.25 L4 + 10 H100 = 745 USD/h."""
    classes = request_classes(("short", 0.5, 500, 100), ("long", 0.5, 8000, 500))
    chat = service(
        demand={"eu": [200.0]}, model="mixed", request_classes=classes, latency_slo_rtt_ms=50.0
    )
    spec = select(
        spec_with(services=[chat], models=[M70, MELANGE], periods=1), ["H100", "L4"], [OD]
    )
    plan = run(spec, small_catalog())
    nodes = {a.instance_type: a.nodes for a in plan.allocations}
    assert nodes == {"g2-standard-48": 7.0, "h100-8": 10.0}
    short = {f.region for f in plan.flows if f.request_class == "short"}
    assert short == {"gcp:europe-west4"}
    assert plan.objective_usd == pytest.approx(1_615_680)
    relaxed = run(spec, small_catalog(), whole_nodes=False)
    assert relaxed.objective_usd == pytest.approx(745 * 2160)


def test_a_declared_custom_chip_is_used_where_it_is_cheapest() -> None:
    """The lab's own Atlas-1 nodes (8 chips, 2 per replica at 5 requests/s, like an H100 node's
    20 requests/s) come online in Paris on 2027-04-01: bought for 1,402,560 USD each over 4
    years, 1,402,560 / (4 × 8766 h) = 40 USD per node-hour. Q1 runs on ovh (5 × 72 × 2160 =
    777,600), Q2 on Atlas-1 (5 × 40 × 2184 = 436,800): 1,214,400."""
    m70 = M70.model_copy(
        update={
            "throughput": [
                *M70.throughput,
                MeasuredThroughput(
                    accelerator="Atlas-1",
                    accelerators_per_replica=2,
                    requests_per_s_per_replica=5.0,
                ),
            ]
        }
    )
    spec = spec_with(services=[service(demand={"eu": [100, 100]})], models=[m70])
    spec = spec.model_copy(
        update={
            "providers": [ProviderSettings(id="lab", hq_country="FR", cloud_act=False)],
            "regions": [
                RegionDecl(id="lab:paris-1", city="Paris", country="FR", lat=48.86, lon=2.35)
            ],
            "accelerators": [
                AcceleratorDecl(
                    name="Atlas-1", memory_gib=144, bf16_tflops=1000, memory_bandwidth_tb_per_s=5
                )
            ],
            "offerings": [
                OfferingDecl(
                    provider="lab",
                    region="lab:paris-1",
                    instance_type="atlas-8",
                    accelerator="Atlas-1",
                    accelerators_per_node=8,
                    cost=CostCapital(usd_per_node=1_402_560, amortisation_years=4),
                    available_from=dt.date(2027, 4, 1),
                    max_nodes=10,
                )
            ],
        }
    )
    plan = run(select(spec, ["H100"], [OD]), small_catalog())
    by_period = {(a.period, a.instance_type) for a in plan.allocations}
    assert by_period == {(0, "h100-8"), (1, "atlas-8")}
    assert plan.objective_usd == pytest.approx(1_214_400)
