"""Property tests of the planner: whole nodes match exhaustive search; same input, same plan.

Random fleets with every kind of workload and rule are in test_planner_fleets.py."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import Offering
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Status
from archipel.spec.models import (
    CatalogSelection,
    DiversificationRule,
    SurvivabilityRule,
)
from factories import OD, service, small_catalog, spec_with

FAST = PlanOptions(rule_costs=False)
# requests/s: zero or at least 0.01 (the verifier compares with 1e-6 absolute tolerance)
demand = st.lists(st.one_of(st.just(0.0), st.floats(0.01, 150)), min_size=2, max_size=2)


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
