"""The deployment table from a plan made by the planner on the small test catalog.

Spec: service ``chat`` (m70: 5 requests/s per replica of 2 H100, 4 replicas per node) with
300 requests/s from eu and 50 from us, data class ``personal`` under EU residency. ovh:gra holds
10 nodes (40 replicas, 200/s); the rest, 150/s, goes to gcp:europe-west4 (88/h, the cheapest
other EU region): 8 nodes, 32 replicas. eu's 300/s: 200 on ovh, 100 on gcp; us's 50/s: on gcp.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.route.policy import decide
from archipel.route.table import deployment_table
from archipel.route.types import Action, Health, Request
from archipel.spec.models import CatalogSelection, Spec
from archipel.spec.rules import (
    CloudActExclusionRule,
    RampStep,
    ResidencyRule,
    TrafficRampRule,
)
from factories import allocation, service, small_catalog, spec_with

GCP = "gcp:europe-west4:a3-highgpu-8g:on_demand"
OVH = "ovh:gra:h100-8:on_demand"
AWS_US = "aws:us-east-1:p5.48xlarge:on_demand"


def _spec() -> Spec:
    svc = service(demand={"eu": [300, 300], "us": [50, 50]}, data_class="personal")
    spec = spec_with(
        services=[svc],
        rules=[
            ResidencyRule(data_class="personal", jurisdictions=["EU"]),
            CloudActExclusionRule(data_classes=["sovereign"]),
            TrafficRampRule(
                service="chat",
                provider="gcp",
                steps=[RampStep(start=dt.date(2027, 4, 1), max_share=0.5)],
            ),
        ],
    )
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    return spec.model_copy(update={"catalog": sel})


@pytest.fixture(scope="module")
def planned() -> tuple[Plan, PlanInputs]:
    spec = _spec()
    plan = make_plan(spec, small_catalog(), options=PlanOptions(mip_rel_gap=0.0))
    assert plan.status == Status.OPTIMAL, plan.message
    return plan, prepare(spec, small_catalog())


def test_table_arrays_hand_checked(planned: tuple[Plan, PlanInputs]) -> None:
    plan, inputs = planned
    t = deployment_table(plan, inputs, 0)
    assert t.period_label == inputs.periods[0].label
    assert t.services == ("chat",) and t.geographies == ("us", "eu")
    assert t.data_classes == ("personal", "sovereign")
    d = {o: i for i, o in enumerate(t.offering_id)}
    assert set(d) == {GCP, OVH}
    g, o = d[GCP], d[OVH]
    assert t.key[o] == f"chat/ovh:gra/{OVH}"
    assert t.provider[g] == "gcp" and t.region[o] == "ovh:gra"
    assert list(t.replicas[[o, g]]) == [40, 32]
    assert t.rate[:, 0].tolist() == [5.0, 5.0]
    assert not t.spot.any()
    # eu: 200 of 300 on ovh, 100 on gcp; us: all 50 on gcp
    assert t.weight[1, o] == pytest.approx(2 / 3) and t.weight[1, g] == pytest.approx(1 / 3)
    assert t.weight[0, g] == pytest.approx(1.0) and t.weight[0, o] == 0.0
    # personal: both EU; sovereign: not gcp (CLOUD Act); no class: everything
    assert t.allowed[0].tolist() == [True, True]
    assert t.allowed[1, o] and not t.allowed[1, g]
    assert t.allowed[2].all()
    assert t.tier.tolist() == [0, 0]
    # Paris to Gravelines: 4.6 ms in the factories' table
    assert t.rtt_ms[1, o] == pytest.approx(4.6, abs=0.05)
    assert t.rtt_ms[0, g] == pytest.approx(
        float(rtt_ms(haversine_km(40.71, -74.0, 53.44, 6.83))), rel=1e-9
    )
    # the gcp ramp starts with Q2: Q1 has none, Q2 caps gcp at 0.5
    assert t.ramp.tolist() == [1.0, 1.0]
    t1 = deployment_table(plan, inputs, 1)
    d1 = {off: i for i, off in enumerate(t1.offering_id)}
    assert t1.ramp[d1[GCP]] == 0.5 and t1.ramp[d1[OVH]] == 1.0


def test_capacity_without_flow_is_spill_tier(planned: tuple[Plan, PlanInputs]) -> None:
    """Two aws:us-east-1 nodes the plan holds without flow: tier 1, weight 0, and not allowed
    for personal (not in the EU) nor sovereign (CLOUD Act)."""
    plan, inputs = planned
    extra = allocation(inputs, "chat", AWS_US, 0, 2.0, hours=2160.0, cost_usd=0.0)
    plan = plan.model_copy(update={"allocations": [*plan.allocations, extra]})
    t = deployment_table(plan, inputs, 0)
    a = t.offering_id.index(AWS_US)
    assert t.tier[a] == 1 and t.replicas[a] == 8
    assert (t.weight[:, a] == 0).all()
    assert t.allowed[:2, a].tolist() == [False, False] and t.allowed[2, a]
    assert np.allclose(t.weight.sum(axis=1), 1.0)


def test_precise_errors(planned: tuple[Plan, PlanInputs]) -> None:
    plan, inputs = planned
    other = prepare(spec_with(services=[service()]), small_catalog())
    with pytest.raises(ValueError, match="another spec"):
        deployment_table(plan, other, 0)
    empty = plan.model_copy(update={"allocations": [a for a in plan.allocations if a.period]})
    with pytest.raises(ValueError, match="no service replicas in period 0"):
        deployment_table(empty, inputs, 0)
    with pytest.raises(ValueError, match="outside the horizon"):
        deployment_table(plan, inputs, 2)


def test_policy_on_the_planned_table(planned: tuple[Plan, PlanInputs]) -> None:
    """eu's personal requests split 2:1 between ovh and gcp; with both down, the aws capacity
    held without flow is no way out (not in the EU): retry, never aws."""
    plan, inputs = planned
    extra = allocation(inputs, "chat", AWS_US, 0, 2.0, hours=2160.0, cost_usd=0.0)
    t = deployment_table(
        plan.model_copy(update={"allocations": [*plan.allocations, extra]}), inputs, 0
    )
    o, g, a = (t.offering_id.index(x) for x in (OVH, GCP, AWS_US))
    r = Request("chat", "eu", "default", 0.0, 5.0, data_class="personal")
    up = Health(np.ones(t.size, dtype=bool), np.zeros(t.size))
    picks = [decide(r, t, up, 0.0, u).deployment for u in np.arange(300) / 300]
    assert (picks.count(o), picks.count(g)) == (200, 100)
    down = Health(np.arange(t.size) == a, np.zeros(t.size))
    assert decide(r, t, down, 0.0, 0.5).action == Action.RETRY
    anyone = Request("chat", "eu", "default", 0.0, 5.0)
    d = decide(anyone, t, down, 0.0, 0.5)
    assert (d.action, d.deployment) == (Action.FAILOVER, a)
