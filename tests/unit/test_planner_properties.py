"""Property tests of the planner on random small fleets over the factories' catalog."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import Offering
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan, plan_lp
from archipel.plan.result import Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CatalogSelection,
    CloudActExclusionRule,
    DiversificationRule,
    ResidencyRule,
    Rule,
    Spec,
    SurvivabilityRule,
)
from factories import OD, service, small_catalog, spec_with

FAST = PlanOptions(rule_costs=False)
# requests/s: zero or at least 0.01 (the verifier compares with 1e-6 absolute tolerance)
demand = st.lists(st.one_of(st.just(0.0), st.floats(0.01, 150)), min_size=2, max_size=2)


@st.composite
def fleets(draw: st.DrawFn, cross_rules: bool = True) -> Spec:
    services = [
        service(
            f"s{i}",
            {g: draw(demand) for g in draw(st.sets(st.sampled_from(["eu", "us"]), min_size=1))},
            data_class=draw(st.sampled_from([None, "personal", "sovereign"])),
            latency_slo_rtt_ms=draw(st.sampled_from([20.0, 100.0])),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    rules: list[Rule] = []
    if draw(st.booleans()):
        rules.append(ResidencyRule(data_class="personal", jurisdictions=["EU"]))
    if draw(st.booleans()):
        rules.append(CloudActExclusionRule(data_classes=["sovereign"]))
    if cross_rules and draw(st.booleans()):
        rules.append(SurvivabilityRule(served_fraction=draw(st.sampled_from([0.3, 0.5, 1.0]))))
    if cross_rules and draw(st.booleans()):
        rules.append(DiversificationRule(max_share=draw(st.sampled_from([0.5, 0.8]))))
    return spec_with(services=services, rules=rules)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_random_fleets_give_verified_plans(spec: Spec) -> None:
    plan = make_plan(spec, small_catalog(), options=FAST)
    assert plan.status in (Status.OPTIMAL, Status.INFEASIBLE)
    if plan.status == Status.OPTIMAL:
        assert plan.verified, plan.verification_problems
    else:
        assert plan.infeasibility, "an infeasible plan must say why"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(cross_rules=False))
def test_planner_never_costs_more_than_greedy(spec: Spec) -> None:
    inputs = prepare(spec, small_catalog())
    greedy = plan_greedy(inputs)
    if greedy.status != Status.FEASIBLE or not verify(greedy, inputs).ok:
        return  # greedy found no valid plan: nothing to compare against
    lp = plan_lp(inputs, FAST)
    assert lp.status == Status.OPTIMAL
    assert lp.objective_usd is not None and greedy.objective_usd is not None
    # whole-node plans stop within mip_rel_gap of their bound: allow that much
    assert lp.objective_usd <= greedy.objective_usd * (1 + FAST.mip_rel_gap) + 1e-6


@settings(max_examples=30, deadline=None)
@given(
    d=st.integers(1, 200),
    caps=st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
    prices=st.tuples(st.integers(50, 120), st.integers(50, 120), st.integers(50, 120)),
)
def test_integer_mode_equals_exhaustive_search(
    d: int, caps: tuple[int, int, int], prices: tuple[int, int, int]
) -> None:
    """One period, three H100 offerings near Paris with small capacities: the integer plan's
    cost equals the best whole-node vector found by enumeration (20 requests/s per node)."""
    regions = [
        ("aws", "eu-west-1", "p5.48xlarge"),
        ("gcp", "europe-west4", "a3-highgpu-8g"),
        ("ovh", "gra", "h100-8"),
    ]
    offerings = [
        Offering(p, r, it, "H100", 8, OD, float(price), max_nodes=float(cap))
        for (p, r, it), price, cap in zip(regions, prices, caps, strict=True)
    ]
    spec = spec_with(services=[service(demand={"eu": [float(d)]})], periods=1)
    spec = spec.model_copy(
        update={"catalog": CatalogSelection(source="tests", purchase_options=[OD])}
    )
    hours = 2160.0
    best = math.inf
    for n in itertools.product(*(range(c + 1) for c in caps)):
        if 20 * sum(n) >= d:
            best = min(best, hours * sum(k * p for k, p in zip(n, prices, strict=True)))
    plan = make_plan(spec, small_catalog(offerings), options=PlanOptions(rule_costs=False))
    if math.isinf(best):
        assert plan.status == Status.INFEASIBLE
        return
    assert plan.status == Status.OPTIMAL and plan.verified, plan.verification_problems
    assert plan.objective_usd == pytest.approx(best)
    assert all(
        float(a.nodes).is_integer() or abs(a.nodes - round(a.nodes)) < 1e-6
        for a in plan.allocations
    )
    assert plan.lower_bound_usd is not None and plan.lower_bound_usd <= best + 1e-6


def test_same_input_same_plan() -> None:
    spec = spec_with(
        services=[service(demand={"eu": [100, 120], "us": [50, 60]})],
        rules=[SurvivabilityRule(served_fraction=0.5), DiversificationRule(max_share=0.7)],
    )
    a = make_plan(spec, small_catalog())
    b = make_plan(spec, small_catalog())
    strip = {"timings_s"}
    assert a.model_dump(exclude=strip) == b.model_dump(exclude=strip)
