"""Regressions: each crash or wrong answer found by attacking the planner, with its fix kept.

Catalog and figures: tests/factories.py (8-H100 nodes: aws:us-east-1 80 USD/h with EFA, gcp 88
with TCPX, ovh 72 without a fabric; 2027-Q1 2160 h, 2027-Q2 2184 h).
"""

from __future__ import annotations

from typing import Any

import pytest

from archipel.catalog.model import Offering, PurchaseOption
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Status
from archipel.spec.models import (
    CapacityLimit,
    CatalogSelection,
    ProviderSettings,
    ResidencyRule,
    SurvivabilityRule,
    TrainingJob,
    WorkFlops,
)
from factories import EFA, OD, service, small_catalog, spec_with, training_job
from factories import OFFERINGS as OFFERINGS_WITH_FABRIC

FAST = PlanOptions(rule_costs=False, mip_rel_gap=0.0)


def test_training_work_in_flops_plans() -> None:
    """Work of 6e22 FLOPs at MFU 0.4 on H100 (989 TFLOP/s): 6e22 / (989e12 × 0.4 × 3600) =
    42,128 H100-hours = 2.44 nodes for Q1 → 3 whole nodes (the old LP carried 1e22-sized
    coefficients beyond HiGHS's infinity and crashed)."""
    job = TrainingJob(
        id="train",
        work=WorkFlops(flops=6e22),
        accelerators=["H100"],
        deadline=training_job().deadline,
        start=None,
    )
    plan = make_plan(spec_with(training=[job], periods=1), small_catalog(), options=FAST)
    assert plan.status == Status.OPTIMAL and plan.verified, plan.verification_problems
    assert [a.nodes for a in plan.allocations] == [3.0]


def test_a_gang_of_one_sixteen_chip_node_is_planned() -> None:
    """A job whose gang is exactly one 16-H100 node (gang min = max = 16) and whose work one node
    does in far less than the window: the old per-cell cap (work ÷ work per node, not rounded up,
    gang ignored) made it infeasible while greedy found a plan."""
    node16 = Offering("aws", "us-east-1", "p5-16", "H100", 16, OD, 150.0, **EFA)  # type: ignore[arg-type]
    job = training_job(accelerator_hours=1000.0, gang_min_accelerators=16, gang_max_accelerators=16)
    spec = spec_with(training=[job])
    plan = make_plan(spec, small_catalog([node16]), options=FAST)
    assert plan.status == Status.OPTIMAL and plan.verified, plan.verification_problems
    assert [a.nodes for a in plan.allocations] == [1.0, 1.0]
    assert plan_greedy(prepare(spec, small_catalog([node16]))).objective_usd == pytest.approx(
        plan.objective_usd
    )


def test_nothing_in_the_catalog_matches_is_explained_in_the_specs_terms() -> None:
    """A selection that keeps no offering: no variable at all. The old solver stopped with
    status 'Empty' and pointed at a --log option that did not exist."""
    spec = spec_with(services=[service(demand={"eu": [10.0, 10.0]})])
    spec = spec.model_copy(
        update={"catalog": CatalogSelection(source="tests", accelerators=["MI300X"])}
    )
    plan = make_plan(spec, small_catalog(), options=FAST)
    assert plan.status == Status.INFEASIBLE
    assert {b.entity for b in plan.infeasibility} == {
        "chat/default/eu/2027-Q1",
        "chat/default/eu/2027-Q2",
    }
    assert all("no allowed region" in b.description for b in plan.infeasibility)


def test_a_capacity_limit_written_with_an_alias_binds() -> None:
    """'h100-sxm' is the H100: a limit of 16 accelerators on ovh caps it at 2 nodes, so 100
    requests/s (5 nodes) spill to gcp:europe-west4 (88) — the old LP compared raw strings and
    ignored the limit, and the verifier then rejected the plan as a planner bug."""
    limit = ProviderSettings(
        id="ovh", capacity=[CapacityLimit(accelerator="h100-sxm", max_accelerators=16)]
    )
    chat = service(demand={"eu": [100.0, 100.0]}, latency_slo_rtt_ms=20.0)
    plan = make_plan(spec_with(services=[chat], providers=[limit]), small_catalog(), options=FAST)
    assert plan.verified, plan.verification_problems
    assert {a.provider: a.nodes for a in plan.allocations if a.period == 0} == {
        "ovh": 2.0,
        "gcp": 3.0,
    }


def test_infeasible_with_two_provider_limits_is_explained_without_a_crash() -> None:
    """Two limits share one constraint family's name; the explanation used to look rows up in
    the first of them and raised IndexError. EU-resident demand of 300 requests/s with ovh and
    gcp capped at 8 accelerators each leaves 40 + aws:eu-west-1's unlimited nodes — so cap aws
    too: 3 × 20 = 60 servable, 240 short each quarter."""
    limits = [
        ProviderSettings(id=p, capacity=[CapacityLimit(max_accelerators=8)])
        for p in ("ovh", "gcp", "aws")
    ]
    rules: list[Any] = [ResidencyRule(data_class="eu", jurisdictions=["EU"])]
    chat = service(demand={"eu": [300.0, 300.0]}, data_class="eu")
    plan = make_plan(
        spec_with(services=[chat], providers=limits, rules=rules), small_catalog(), options=FAST
    )
    assert plan.status == Status.INFEASIBLE
    assert plan.infeasibility
    families = {b.family for b in plan.infeasibility}
    assert families <= {"service-demand-equal", "provider-accelerators-upper"}


def test_greedy_with_no_matching_offering_and_a_rule_reports_infeasible() -> None:
    """No offering fits, and a survivability rule applies: greedy used to raise TypeError."""
    spec = spec_with(
        services=[service(demand={"eu": [10.0, 10.0]}, model="huge")],
        rules=[SurvivabilityRule(served_fraction=0.5)],
    )
    plan = plan_greedy(prepare(spec, small_catalog()))
    assert plan.status == Status.INFEASIBLE and plan.infeasibility


def test_lower_bound_is_labelled_for_what_it_is() -> None:
    """Whole nodes report the LP relaxation as their bound, with the gap to it: 90 requests/s
    need 4.5 nodes of ovh in the relaxation (4.5 × 72 × 4344) but 5 in whole nodes."""
    chat = service(demand={"eu": [90.0, 90.0]}, latency_slo_rtt_ms=20.0)
    spec = spec_with(services=[chat])
    spec = spec.model_copy(
        update={
            "catalog": CatalogSelection(
                source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
            )
        }
    )
    whole = make_plan(spec, small_catalog(), options=FAST)
    assert whole.lower_bound_kind == "lp_relaxation" and whole.whole_nodes
    assert whole.lower_bound_usd == pytest.approx(4.5 * 72 * 4344)
    assert whole.objective_usd == pytest.approx(5 * 72 * 4344)
    assert whole.gap == pytest.approx(0.1)
    frac = make_plan(spec, small_catalog(), options=PlanOptions(whole_nodes=False))
    assert frac.lower_bound_kind == "lp_optimum" and not frac.whole_nodes and frac.gap == 0.0


def test_snapshot_rows_of_a_declared_chip_are_planned_only_when_the_spec_declares_it() -> None:
    """A snapshot may hold rows of a chip of one's own (flagged accelerator-declared, e.g. AWS
    g5's A10G). Undeclared, they are left out; declared as 'a10g' (any case), they are planned
    on under the spec's name: 1 A10G serves the measured 5 requests/s at 1.2 USD/h, so 10
    requests/s from New York take 2 of them (2 × 1.2 × 4344 = 10,425.6) instead of an H100
    node. Excluding assumed rows keeps them: their facts come from the spec."""
    from archipel.spec.models import AcceleratorDecl, MeasuredThroughput, ModelSpec

    a10g = Offering(
        "aws", "us-east-1", "g5.xlarge", "A10G", 1, OD, 1.2, flags=("accelerator-declared",)
    )
    catalog = small_catalog([*OFFERINGS_WITH_FABRIC, a10g])
    model = ModelSpec(
        id="m7",
        parameters_b=7,
        throughput=[
            MeasuredThroughput(
                accelerator="a10g", accelerators_per_replica=1, requests_per_s_per_replica=5.0
            )
        ],
    )
    chat = service(demand={"us": [10.0, 10.0]}, model="m7", latency_slo_rtt_ms=20.0)
    spec = spec_with(services=[chat], models=[model])
    without = make_plan(spec, catalog, options=FAST)
    assert "g5.xlarge" not in {a.instance_type for a in without.allocations}
    chip = AcceleratorDecl(
        name="a10g", memory_gib=24, bf16_tflops=70, memory_bandwidth_tb_per_s=0.6, kind="gpu"
    )
    declared = spec.model_copy(
        update={
            "accelerators": [chip],
            "catalog": spec.catalog.model_copy(update={"exclude_assumed": True}),
        }
    )
    plan = make_plan(declared, catalog, options=FAST)
    assert plan.verified, plan.verification_problems
    assert {(a.instance_type, a.accelerator, a.nodes) for a in plan.allocations} == {
        ("g5.xlarge", "a10g", 2.0)
    }
    assert plan.objective_usd == pytest.approx(2 * 1.2 * 4344)
