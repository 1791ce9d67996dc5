"""The verifier recomputes network cost on its own: tampered figures are caught, and its
account of the average agrees with the planner's and the greedy baseline's."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.greedy_egress import averages
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.lp.egress import average_share
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Flow, Plan
from archipel.plan.verify import verify
from archipel.plan.verify_egress import recompute_egress
from archipel.plan.verify_facts import derive_facts
from archipel.spec.models import (
    CatalogSelection,
    EgressRates,
    Geography,
    InferenceService,
    ProviderSettings,
    RequestClass,
)
from factories import service, small_catalog, spec_with

GATEWAY = Geography(id="eu", lat=48.86, lon=2.35, country="FR", gateway_region="aws:eu-west-1")


def planned() -> tuple[Plan, PlanInputs]:
    """eu (gateway aws:eu-west-1) served by ovh:gra: aws and ovh each bill a leg."""
    providers = [
        ProviderSettings(id="ovh", egress=EgressRates(internet_usd_per_gb=0.02)),
        ProviderSettings(id="aws", egress=EgressRates(internet_usd_per_gb=0.05)),
    ]
    spec = spec_with(services=[service()], providers=providers, geographies=[GATEWAY])
    sel = CatalogSelection(
        source="tests", providers=["ovh"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    spec = spec.model_copy(update={"catalog": sel})
    plan = make_plan(spec, small_catalog(), options=PlanOptions(rule_costs=False))
    assert plan.verified, plan.verification_problems
    assert plan.cost_by_provider_usd["aws"] > 0  # aws bills the gateway's legs, serves nothing
    return plan, prepare(spec, small_catalog())


def test_a_tampered_flow_egress_is_a_stale_figure() -> None:
    plan, inputs = planned()
    first = plan.flows[0]
    flows = [first.model_copy(update={"egress_usd": first.egress_usd / 2}), *plan.flows[1:]]
    report = verify(plan.model_copy(update={"flows": flows}), inputs)
    assert report.ok and not report.exact
    assert any("flow-egress" in s for s in report.stale)
    assert any(f"expected {first.egress_usd:.6g}" in s for s in report.stale)


def test_network_cost_left_out_of_the_totals_is_caught() -> None:
    plan, inputs = planned()
    aws = plan.cost_by_provider_usd["aws"]
    cheaper = plan.model_copy(
        update={
            "egress_usd": 0.0,
            "objective_usd": (plan.objective_usd or 0.0) - plan.egress_usd,
            "cost_by_provider_usd": {"ovh": plan.cost_by_provider_usd["ovh"]},
            "lower_bound_usd": None,  # the bound counts network cost: it would be above
            "gap": None,
        }
    )
    report = verify(cheaper, inputs)
    assert report.ok and not report.exact
    assert report.cost_delta_usd == pytest.approx(plan.egress_usd)
    assert any(f"cost_by_provider_usd[aws] is 0, expected {aws:.6g}" in s for s in report.stale)
    assert any("egress_usd is 0, expected" in s for s in report.stale)


def test_flows_moved_to_another_region_are_repriced() -> None:
    """The same requests served in the gateway's own region cost only the last leg, at aws's
    rate; the verifier prices the flow where it says it is served, not where it was planned."""
    plan, inputs = planned()
    facts = derive_facts(inputs)
    moved = [f.model_copy(update={"region": "aws:eu-west-1"}) for f in plan.flows]
    at_gateway = recompute_egress(facts, moved)
    assert at_gateway.total_usd < plan.egress_usd
    assert set(at_gateway.by_provider) == {"aws"}


def test_the_three_accounts_of_an_average_agree_with_the_hand_figure() -> None:
    """Demand doubling a year, sized at the end of 2027-Q1 (90 days, y1 = 90 / 365.25): the
    quarter's mean over its end value is (2^y1 − 1) / (ln 2 · y1) / 2^y1 = 0.919263.

    A flow of 1 peak request/s of 1 GB responses at 1 USD/GB then costs
    3600 × 2160 × 0.919263 = 7,148,191 USD in the verifier's account."""
    y1 = 90 / 365.25
    hand = (2**y1 - 1) / (math.log(2) * y1) / 2**y1
    assert hand == pytest.approx(0.919263, abs=1e-6)
    big = RequestClass(
        name="big",
        share=1.0,
        input_tokens=1,
        output_tokens=1,
        request_bytes=0,
        response_bytes=2**30,
    )
    svc = InferenceService.model_validate(
        {
            "id": "chat",
            "model": "m70",
            "demand": {
                "kind": "growth",
                "base_by_geography": {"eu": 10},
                "growth_pct_per_year": 100,
            },
            "request_classes": [big],
        }
    )
    ovh = ProviderSettings(id="ovh", egress=EgressRates(internet_usd_per_gb=1.0))
    inputs = prepare(spec_with(services=[svc], providers=[ovh], periods=2), small_catalog())
    lp = average_share(svc, inputs.periods, dt.date(2027, 1, 1))
    greedy = averages(inputs, svc) / (inputs.period_hours * 3600.0)
    assert lp[0] == pytest.approx(hand, rel=1e-12)
    assert greedy == pytest.approx(lp, rel=1e-12)
    one = Flow(
        service="chat",
        request_class="big",
        geography="eu",
        region="ovh:gra",
        period=0,
        requests_per_s=1.0,
    )
    priced = recompute_egress(derive_facts(inputs), [one])
    assert priced.total_usd == pytest.approx(3600 * 2160 * hand, rel=1e-12)
    assert priced.total_usd == pytest.approx(7_148_191, abs=1)
