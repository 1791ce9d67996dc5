"""What the gateway exposes of a plan's contracts: the contract years running in the served
period and what the plan expects its serving deployments to spend toward them (hand-checked
on the small catalog of tests/factories.py: aws:us-east-1 H100 nodes at 80 USD/h, 20 requests/s
each, at most 5 per quarter; 2027-Q1 has 2160 h, Q2 2184 h)."""

from __future__ import annotations

import datetime as dt

import pytest

from archipel.catalog.model import PurchaseOption
from archipel.gateway.fleet import commitments
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.spec.models import CatalogSelection, Contract
from factories import service, small_catalog, spec_with


def test_commitments_of_the_served_period_priced_as_the_gateway_meters_spend() -> None:
    """A 20 % discount makes aws (64 USD/h) cheaper than ovh (72): 5 aws nodes serve the 100
    requests/s. In 2027-Q1 they spend 5 × 80 × 2160 × 0.8 = 691,200 toward the contract's first
    year; in Q2 5 × 80 × 2184 × 0.8 = 698,880. A contract year that has not started is left
    out."""
    deal = Contract(
        id="aws-deal",
        provider="aws",
        start=dt.date(2027, 1, 1),
        end=dt.date(2029, 1, 1),
        committed_usd_per_year=1_000_000,
        discount_pct=20,
    )
    spec = spec_with(services=[service(demand={"eu": [100.0, 100.0]})], contracts=[deal])
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    spec = spec.model_copy(update={"catalog": sel})
    plan = make_plan(spec, small_catalog(), options=PlanOptions(mip_rel_gap=0.0))
    assert plan.verified
    inputs = prepare(spec, small_catalog())
    (q1,) = commitments(plan, inputs, 0)
    assert (q1.contract, q1.provider, q1.year) == ("aws-deal", "aws", 1)
    assert q1.committed_usd == pytest.approx(plan.contracts[0].committed_usd)
    assert q1.serving_usd == pytest.approx(691_200)
    (q2,) = commitments(plan, inputs, 1)
    assert q2.serving_usd == pytest.approx(698_880)
