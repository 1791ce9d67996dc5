"""Hand-checked plans on the small catalog of tests/factories.py.

Common facts (see the factories' docstring): model m70 serves 5 requests/s per replica of 2 H100,
so one 8-GPU node serves 20 requests/s. H100 node prices per hour: ovh:gra 72 (≤ 10 nodes per
period), aws:us-east-1 80, gcp (both regions) 88, aws:eu-west-1 96. The horizon is 2027-Q1
(2160 h) and 2027-Q2 (2184 h): 4344 h. Every region is within 100 ms of Paris ("eu").
The catalog selection is narrowed to H100 on-demand so that the figures stay hand-checkable.

Plans are in whole nodes and solved to optimality (``mip_rel_gap=0``); where the derivation is
fractional, the test plans the fractional view (``whole_nodes=False``, the LP relaxation) and
says so, and a whole-node counterpart is derived beside it where it differs.
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
from archipel.spec.models import (
    CatalogSelection,
    CloudActExclusionRule,
    Contract,
    DiversificationRule,
    ExclusivityRule,
    MinProvidersRule,
    PriceOverride,
    ProviderSettings,
    ResidencyRule,
    Spec,
    SurvivabilityRule,
)
from factories import (
    Q1_HOURS,
    Q2_HOURS,
    reserved_contract,
    service,
    small_catalog,
    spec_with,
    training_job,
)

HOURS = Q1_HOURS + Q2_HOURS  # 4344


def h100_only(spec: Spec) -> Spec:
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    return spec.model_copy(update={"catalog": sel})


def run(spec: Spec, **options: Any) -> Plan:
    options.setdefault("mip_rel_gap", 0.0)
    plan = make_plan(h100_only(spec), small_catalog(), options=PlanOptions(**options))
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    return plan


def providers_used(plan: Plan, workload: str = "chat") -> set[str]:
    return {a.provider for a in plan.allocations if a.workload == workload}


def test_cheapest_offering_wins() -> None:
    """100 requests/s from eu need 5 nodes; ovh at 72/h is cheapest: 5 × 72 × 4344 = 1,563,840."""
    plan = run(spec_with(services=[service(demand={"eu": [100, 100]})]))
    assert providers_used(plan) == {"ovh"}
    assert plan.objective_usd == pytest.approx(1_563_840)


def test_eu_residency_moves_service_into_eu_regions() -> None:
    """300 requests/s need 15 nodes; ovh holds 10. Without a rule the other 5 go to aws:us-east-1
    (80/h); with EU residency they go to gcp:europe-west4 (88/h, cheaper than aws:eu-west-1 at 96):
    (10 × 72 + 5 × 88) × 4344 = 5,039,040 (without: (720 + 400) × 4344 = 4,865,280)."""
    svc = service(demand={"eu": [300, 300]}, data_class="personal")
    free = run(spec_with(services=[svc]))
    assert free.objective_usd == pytest.approx(4_865_280)
    plan = run(
        spec_with(
            services=[svc], rules=[ResidencyRule(data_class="personal", jurisdictions=["EU"])]
        )
    )
    assert plan.objective_usd == pytest.approx(5_039_040)
    assert {f.region for f in plan.flows} == {"ovh:gra", "gcp:europe-west4"}


def test_cloud_act_exclusion_moves_service_to_non_us_provider() -> None:
    """With ovh negotiated at 90/h, aws:us-east-1 (80/h) is cheapest: 5 × 80 × 4344 = 1,737,600.
    Excluding CLOUD Act providers leaves only ovh: 5 × 90 × 4344 = 1,954,800."""
    ovh90 = ProviderSettings(
        id="ovh", prices=[PriceOverride(instance_type="h100-8", usd_per_node_hour=90)]
    )
    svc = service(demand={"us": [100, 100]}, data_class="sovereign")
    free = run(spec_with(services=[svc], providers=[ovh90]))
    assert providers_used(free) == {"aws"}
    assert free.objective_usd == pytest.approx(1_737_600)
    plan = run(
        spec_with(
            services=[svc],
            providers=[ovh90],
            rules=[CloudActExclusionRule(data_classes=["sovereign"])],
        )
    )
    assert providers_used(plan) == {"ovh"}
    assert plan.objective_usd == pytest.approx(1_954_800)


def test_exclusivity_pins_model_until_end_date_then_frees_it() -> None:
    """m70 exclusive to gcp until 2027-04-01: Q1 on gcp at 88 (5 × 88 × 2160 = 950,400), Q2 free, on
    ovh at 72 (5 × 72 × 2184 = 786,240). Total 1,736,640."""
    rule = ExclusivityRule(model="m70", providers=["gcp"], until=dt.date(2027, 4, 1))
    plan = run(spec_with(services=[service(demand={"eu": [100, 100]})], rules=[rule]))
    q1 = {a.provider for a in plan.allocations if a.period == 0}
    q2 = {a.provider for a in plan.allocations if a.period == 1}
    assert q1 == {"gcp"} and q2 == {"ovh"}
    assert plan.objective_usd == pytest.approx(1_736_640)


def test_take_or_pay_pulls_work_up_to_the_commitment_and_not_beyond() -> None:
    """An aws contract commits 250 × 8760 USD/year, pro rata over 4344 h: 1,086,000. Moving a
    node-hour from ovh (72) to aws:us-east-1 (80) costs 8 and saves 80 of shortfall, so in the
    fractional view aws gets exactly 1,086,000 / 80 = 13,575 node-hours; ovh the rest of 5 × 4344
    = 21,720: 8,145 × 72 = 586,440. Total 1,672,440 with no shortfall.

    In whole nodes (a_1, a_2 ≤ 5 aws nodes per quarter): with aws node-hours NH = 2160 a_1 +
    2184 a_2 ≥ 13,575 the cost is 72 × 21,720 + 8 × NH = 1,563,840 + 8 NH, least at (5, 2), NH =
    15,168 (then (4, 3) at 15,192): 1,685,184 with no shortfall; below 13,575 node-hours the
    cost is 1,563,840 + 1,086,000 − 72 NH, least at (3, 3), NH = 13,032: 1,711,536, dearer."""
    contract = Contract(
        id="aws-commit",
        provider="aws",
        start=dt.date(2027, 1, 1),
        end=dt.date(2028, 1, 1),
        committed_usd_per_year=250 * 8760,
        take_or_pay=True,
    )
    spec = spec_with(services=[service(demand={"eu": [100, 100]})], contracts=[contract])
    whole = run(spec)
    assert [a.nodes for a in whole.allocations if a.provider == "aws"] == [5.0, 2.0]
    assert whole.objective_usd == pytest.approx(1_685_184)
    assert whole.shortfall_usd == pytest.approx(0, abs=1e-6)
    plan = run(spec, whole_nodes=False)
    aws = sum(a.cost_usd for a in plan.allocations if a.provider == "aws")
    assert aws == pytest.approx(1_086_000)
    assert plan.shortfall_usd == pytest.approx(0, abs=1e-6)
    assert plan.objective_usd == pytest.approx(1_672_440)
    (row,) = plan.contracts
    assert row.committed_usd == pytest.approx(1_086_000) and row.shortfall_usd == pytest.approx(
        0, abs=1e-6
    )


def test_survivability_forces_more_providers_and_reports_its_cost() -> None:
    """Losing any provider must leave 100% of 5 nodes' worth: a+b ≥ 5, a+c ≥ 5, b+c ≥ 5 for ovh (72),
    aws (80), gcp (88) nodes. The LP relaxation's cheapest vertex is 2.5 each: 600/h × 4344 =
    2,606,400 against 1,563,840 without the rule, so the rule costs 1,042,560 in the relaxation.

    In whole nodes: (3, 3, 2) covers every loss (6, 5, 5) at 216 + 240 + 176 = 632/h, below
    (3, 2, 3) at 640 and (2, 3, 3) at 648; any vector with a smaller sum leaves some pair under
    5. 632 × 4344 = 2,745,408."""
    spec = spec_with(
        services=[service(demand={"eu": [100, 100]})],
        rules=[SurvivabilityRule(loss="provider", served_fraction=1.0)],
    )
    whole = run(spec)
    assert whole.objective_usd == pytest.approx(2_745_408)
    assert whole.lower_bound_kind == "lp_relaxation"
    assert whole.lower_bound_usd == pytest.approx(2_606_400)
    plan = run(spec, whole_nodes=False)
    assert providers_used(plan) == {"ovh", "aws", "gcp"}
    assert plan.objective_usd == pytest.approx(2_606_400)
    (cost,) = [r for r in plan.rule_costs if r.kind == "rule"]
    assert (cost.name, cost.method) == ("survivability (rules[0])", "re-solve")
    assert cost.effect_usd == pytest.approx(1_042_560)
    assert all(s.ok and s.served_fraction["chat"] >= 1.0 - 1e-6 for s in plan.survivability)


def test_training_job_lands_in_one_region_on_a_fabric_in_whole_nodes() -> None:
    """400,000 H100-hours = 50,000 node-hours. ovh (72) is cheapest but has no fabric, so a gang
    cannot span its nodes; the cheapest fabric is aws:us-east-1 (EFA) at 80: 50,000 × 80 =
    4,000,000 in the fractional view. In whole nodes (n_1, n_2 per quarter):
    2160 n_1 + 2184 n_2 ≥ 50,000 at least node-hours: (9, 14) gives 19,440 + 30,576 = 50,016
    (10, 13 gives 49,992, short; every other pair is more), so 50,016 × 80 = 4,001,280."""
    job = training_job(accelerator_hours=400_000, single_region=True)
    plan = run(spec_with(training=[job]))
    assert {a.region for a in plan.allocations} == {"aws:us-east-1"}
    assert sorted(a.nodes for a in plan.allocations) == [9.0, 14.0]
    assert plan.objective_usd == pytest.approx(4_001_280)
    relaxed = run(spec_with(training=[job]), whole_nodes=False)
    assert relaxed.objective_usd == pytest.approx(4_000_000)


def test_infeasible_spec_is_explained() -> None:
    """EU residency + CLOUD Act exclusion leave only ovh (10 nodes = 200 requests/s) for 400
    requests/s: 200 requests/s per period cannot be served, and the explanation says so."""
    svc = service(demand={"eu": [400, 400]}, data_class="sovereign")
    spec = spec_with(
        services=[svc],
        rules=[
            ResidencyRule(data_class="sovereign", jurisdictions=["EU"]),
            CloudActExclusionRule(data_classes=["sovereign"]),
        ],
    )
    plan = make_plan(h100_only(spec), small_catalog())
    assert plan.status == Status.INFEASIBLE
    assert plan.allocations == []
    shortfalls = {b.entity: b.shortfall for b in plan.infeasibility}
    assert shortfalls == pytest.approx(
        {"chat/default/eu/2027-Q1": 200.0, "chat/default/eu/2027-Q2": 200.0}
    )


def test_region_loss_survivability_spreads_over_every_region() -> None:
    """Losing any one region must leave 5 nodes: Σ_{j≠i} x_j ≥ 5. With per-region prices 72 (ovh),
    80 (aws us), 88, 88 (gcp), 96 (aws eu), fill the four cheapest to m and the last to 5 − 3m ≤ m:
    cost 480 + 40m is least at m = 1.25, every region 1.25 nodes: 530/h × 4344 = 2,302,320."""
    plan = run(
        spec_with(
            services=[service(demand={"eu": [100, 100]})],
            rules=[SurvivabilityRule(loss="region", served_fraction=1.0)],
        ),
        whole_nodes=False,
    )
    assert plan.objective_usd == pytest.approx(2_302_320)
    assert {a.region for a in plan.allocations} == {
        "ovh:gra",
        "aws:us-east-1",
        "aws:eu-west-1",
        "gcp:us-east4",
        "gcp:europe-west4",
    }
    assert all(a.nodes == pytest.approx(1.25) for a in plan.allocations)


def test_min_providers_keeps_a_second_provider_at_its_minimum_share() -> None:
    """Two providers, each ≥ 25% of demand: in the fractional view ovh 3.75 nodes, aws:us-east-1
    1.25 nodes: (3.75 × 72 + 1.25 × 80) × 4344 = 370 × 4344 = 1,607,280. In whole nodes aws needs
    2 nodes for its 25 requests/s, ovh 3 for the rest: (216 + 160) × 4344 = 1,633,344."""
    rule = MinProvidersRule(count=2, min_share=0.25)
    spec = spec_with(services=[service(demand={"eu": [100, 100]})], rules=[rule])
    plan = run(spec, whole_nodes=False)
    assert providers_used(plan) == {"ovh", "aws"}
    assert plan.objective_usd == pytest.approx(1_607_280)
    assert run(spec).objective_usd == pytest.approx(1_633_344)


def test_diversification_caps_a_providers_share_of_spend() -> None:
    """ovh ≤ 60% of spend: 72x ≤ 0.6 (72x + 80y), x + y = 5 → x = 3.125, y = 1.875 on
    aws:us-east-1: (225 + 150) × 4344 = 1,629,000."""
    plan = run(
        spec_with(
            services=[service(demand={"eu": [100, 100]})],
            rules=[DiversificationRule(max_share=0.6)],
        ),
        whole_nodes=False,
    )
    ovh = plan.cost_by_provider_usd["ovh"] / plan.objective_usd
    assert ovh == pytest.approx(0.6)
    assert plan.objective_usd == pytest.approx(1_629_000)


def test_reserved_block_is_paid_used_or_not_and_used_first() -> None:
    """3 reserved aws:us-east-1 nodes at 50/h over the horizon cost 3 × 50 × 4344 = 651,600
    whatever happens; they serve 60 of 100 requests/s, ovh the other 2 nodes: 2 × 72 × 4344 =
    625,536. Total 1,277,136."""
    contract = reserved_contract(
        id="aws-ri",
        provider="aws",
        region="aws:us-east-1",
        instance_type="p5.48xlarge",
        nodes=3,
        end=dt.date(2027, 7, 1),
        contract_end=dt.date(2028, 1, 1),
    )
    spec = spec_with(services=[service(demand={"eu": [100, 100]})], contracts=[contract])
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    plan = make_plan(
        spec.model_copy(update={"catalog": sel}), small_catalog(), options=PlanOptions()
    )
    assert plan.status == Status.OPTIMAL and plan.verified, plan.verification_problems
    assert plan.reserved_fixed_usd == pytest.approx(651_600)
    reserved = [a for a in plan.allocations if a.purchase_option == "reserved"]
    assert reserved and all(a.nodes == pytest.approx(3.0) for a in reserved)
    assert plan.objective_usd == pytest.approx(1_277_136)
