"""Property tests of contracts: for random contract terms the planner's books and the
verifier's independent recomputation agree, and the books add up."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.plan.verify import verify
from archipel.spec.models import CatalogSelection, Contract, DiscountTier
from factories import service, small_catalog, spec_with

OPTIONS = PlanOptions(rule_costs=False)


@st.composite
def contracts(draw: st.DrawFn, name: str) -> Contract:
    provider = draw(st.sampled_from(["aws", "gcp", "ovh"]))
    start = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 900)))
    years = draw(st.integers(1, 3))
    end = start + dt.timedelta(days=365 * years + draw(st.integers(-100, 100)))
    terms: dict[str, object] = {
        "id": name,
        "provider": provider,
        "start": start,
        "end": max(end, start + dt.timedelta(days=30)),
        "discount_pct": draw(st.sampled_from([0.0, 10.0, 30.0])),
        "counts": draw(st.sampled_from(["net", "gross"])),
        "take_or_pay": draw(st.booleans()),
        "carry_over_pct": draw(st.sampled_from([0.0, 50.0])),
    }
    kind = draw(st.sampled_from(["flat", "total", "none", "sized"]))
    if kind == "sized":  # a savings plan: the planner chooses its USD/hour
        terms.update(sized_by_plan=True, take_or_pay=True, discount_pct=30.0)
        return Contract.model_validate(terms)
    if kind == "flat":
        terms["committed_usd_per_year"] = float(draw(st.integers(0, 4_000_000)))
    elif kind == "total":
        terms["total_usd"] = float(draw(st.integers(0, 8_000_000)))
    if draw(st.booleans()):
        terms["discount_tiers"] = [DiscountTier(above_usd=500_000, discount_pct=40)]
    if draw(st.booleans()):
        terms["max_usd_per_year"] = float(draw(st.integers(100_000, 3_000_000)))
    if start < dt.date(2027, 1, 1) and draw(st.booleans()):
        terms["spent_to_date_usd"] = float(draw(st.integers(0, 2_000_000)))
    return Contract.model_validate(terms)


def _spec(deals: list[Contract]) -> object:
    spec = spec_with(
        services=[service(demand={"eu": [100.0, 140.0, 60.0, 120.0]})], contracts=deals, periods=4
    )
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    return spec.model_copy(update={"catalog": sel})


def _books_add_up(plan: Plan) -> None:
    for c in plan.contracts:
        assert c.useful_usd + c.idle_usd == pytest.approx(c.spent_usd, rel=1e-6, abs=1e-3)
        assert c.shortfall_usd <= c.unused_usd + 1e-3 or not c.unused_usd
    assert plan.unused_commitment_usd == pytest.approx(
        sum(c.unused_usd for c in plan.contracts), rel=1e-6, abs=1e-3
    )
    listed = sum(a.list_cost_usd or 0.0 for a in plan.allocations)
    net = sum(a.cost_usd for a in plan.allocations)
    assert listed - net == pytest.approx(plan.discount_usd, rel=1e-6, abs=1e-3)


@settings(max_examples=25, deadline=None)
@given(a=contracts("a"), b=contracts("b"))
def test_planner_and_verifier_keep_the_same_books(a: Contract, b: Contract) -> None:
    spec = _spec([a, b])
    plan = make_plan(spec, small_catalog(), options=OPTIONS)  # type: ignore[arg-type]
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE), plan.message
    assert plan.verified, plan.verification_problems
    _books_add_up(plan)


@settings(max_examples=15, deadline=None)
@given(a=contracts("a"))
def test_greedy_books_verify_too(a: Contract) -> None:
    inputs = prepare(_spec([a]), small_catalog())  # type: ignore[arg-type]
    plan = plan_greedy(inputs)
    report = verify(plan, inputs)
    assert report.ok and not report.stale, report.problems + report.stale
    _books_add_up(plan)
