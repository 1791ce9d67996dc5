"""Hand-checked plans over time: a chip from a date, capacity that changes by date.

Small catalog of tests/factories.py, H100 on-demand only unless said: m70 serves 20 requests/s
per 8-H100 node. Node prices per hour: ovh:gra 72 (≤ 10 nodes), aws:us-east-1 80, gcp (both
regions) 88, aws:eu-west-1 96; every region is within 100 ms of Paris ("eu"). Quarters of 2026:
Q1 90 days = 2160 h, Q2 91 days = 2184 h, Q3 and Q4 92 days = 2208 h; 2027-Q1 2160 h, 2027-Q2
2184 h. Demand is constant unless said, so every share below is a whole number of nodes and the
whole-node plan equals its relaxation.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import Catalog
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.spec.declared import AcceleratorDecl, CostPerNodeHour, OfferingDecl
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    CatalogSelection,
    MeasuredThroughput,
    ProviderSettings,
    Spec,
)
from factories import HUGE, M70, OD, service, small_catalog, spec_with


def run(spec: Spec, catalog: Catalog | None = None) -> Plan:
    plan = make_plan(spec, catalog or small_catalog(), options=PlanOptions(mip_rel_gap=0.0))
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    return plan


def on(spec: Spec, providers: list[str] | None = None) -> Spec:
    """The spec on H100 on-demand offerings (of these providers only, when given)."""
    sel = CatalogSelection(
        source="tests", providers=providers, accelerators=["H100"], purchase_options=[OD]
    )
    return spec.model_copy(update={"catalog": sel})


def by_provider(plan: Plan, what: str = "nodes") -> dict[str, list[float]]:
    """Per provider, nodes (or requests/s of flows) in each period."""
    out: dict[str, list[float]] = {}
    for a in plan.allocations:
        out.setdefault(a.provider, [0.0] * len(plan.periods))[a.period] += a.nodes
    if what == "flows":
        out = {}
        for f in plan.flows:
            p = f.region.split(":")[0]
            out.setdefault(p, [0.0] * len(plan.periods))[f.period] += f.requests_per_s
    return out


# --------------------------------------------------------------------------- capacity over time

X1 = AcceleratorDecl(name="X1", memory_gib=96, bf16_tflops=1000, memory_bandwidth_tb_per_s=4)


def chip_spec(limit: CapacityLimit) -> Spec:
    """A custom inference chip X1 in gcp:europe-west4 (own deal, 40/h per 8-chip node; m70
    measured at 5 requests/s per replica of 2 X1, 20 per node like an H100 node), 100 requests/s
    from eu over 2027-Q1 (2160 h) and 2027-Q2 (2184 h); gcp's X1 capacity is ``limit``."""
    x1_rate = MeasuredThroughput(
        accelerator="X1", accelerators_per_replica=2, requests_per_s_per_replica=5.0
    )
    m70 = M70.model_copy(update={"throughput": [*M70.throughput, x1_rate]})
    x1_nodes = OfferingDecl(
        provider="gcp",
        region="gcp:europe-west4",
        instance_type="x1-8",
        accelerator="X1",
        accelerators_per_node=8,
        cost=CostPerNodeHour(usd_per_node_hour=40.0),
    )
    spec = spec_with(
        services=[service(demand={"eu": [100.0, 100.0]})],
        models=[m70, HUGE],
        providers=[ProviderSettings(id="gcp", capacity=[limit])],
    )
    return on(spec).model_copy(update={"accelerators": [X1], "offerings": [x1_nodes]})


def x1_nodes(plan: Plan) -> list[float]:
    out = [0.0] * len(plan.periods)
    for a in plan.allocations:
        if a.accelerator == "X1":
            out[a.period] += a.nodes
    return out


@pytest.mark.parametrize("arrives", [dt.date(2027, 4, 1), dt.date(2027, 2, 15)])
def test_a_chip_available_from_a_date_is_not_used_before(arrives: dt.date) -> None:
    """X1 (40/h) is the cheapest, but arrives on ``arrives``: Q1 is not wholly inside its window
    either way, so Q1 runs on ovh (72/h): 5 × 72 × 2160 = 777,600; Q2 on X1: 5 × 40 × 2184 =
    436,800. Total 1,214,400."""
    plan = run(chip_spec(CapacityLimit(accelerator="X1", available_from=arrives)))
    assert x1_nodes(plan) == [0.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_214_400)


def test_a_chip_leaving_mid_period_is_not_used_in_that_period() -> None:
    """X1 until 2027-05-15: Q2 is not wholly inside, so Q1 on X1 (5 × 40 × 2160 = 432,000) and Q2
    on ovh (5 × 72 × 2184 = 786,240). Total 1,218,240."""
    plan = run(chip_spec(CapacityLimit(accelerator="X1", until=dt.date(2027, 5, 15))))
    assert x1_nodes(plan) == [5.0, 0.0]
    assert plan.objective_usd == pytest.approx(1_218_240)


def test_a_capacity_schedule_grows_the_chip_step_by_step() -> None:
    """16 X1 (2 nodes) at first, 40 (5 nodes) from 2027-04-01: Q1 2 X1 nodes + 3 ovh:
    (2 × 40 + 3 × 72) × 2160 = 296 × 2160 = 639,360; Q2 5 X1: 436,800. Total 1,076,160."""
    limit = CapacityLimit(
        accelerator="X1",
        max_accelerators=16,
        steps=[CapacityStep(start=dt.date(2027, 4, 1), max_accelerators=40)],
    )
    plan = run(chip_spec(limit))
    assert x1_nodes(plan) == [2.0, 5.0]
    assert plan.objective_usd == pytest.approx(1_076_160)


def test_a_capacity_drop_inside_a_period_holds_for_the_whole_period() -> None:
    """40 X1 at first, 16 from 2027-03-01: the drop is inside Q1, so Q1 (and Q2, where the step
    holds on) may use 2 nodes: (2 × 40 + 3 × 72) × 2160 = 639,360 and (80 + 216) × 2184 =
    646,464. Total 1,285,824."""
    limit = CapacityLimit(
        accelerator="X1",
        max_accelerators=40,
        steps=[CapacityStep(start=dt.date(2027, 3, 1), max_accelerators=16)],
    )
    plan = run(chip_spec(limit))
    assert x1_nodes(plan) == [2.0, 2.0]
    assert plan.objective_usd == pytest.approx(1_285_824)
