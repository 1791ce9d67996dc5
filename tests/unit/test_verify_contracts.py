"""The verifier re-derives contract books on its own: tampered plans are caught, and the
contract language rejects terms that do not add up."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import ContractShare, Plan
from archipel.plan.verify import verify
from archipel.spec.models import CatalogSelection, Contract, DiscountTier, Spec
from factories import service, small_catalog, spec_with

D = dt.date


def _spec(contract: Contract) -> Spec:
    sel = CatalogSelection(
        source="tests", accelerators=["H100"], purchase_options=[PurchaseOption.ON_DEMAND]
    )
    spec = spec_with(services=[service(demand={"eu": [100.0, 100.0]})], contracts=[contract])
    return spec.model_copy(update={"catalog": sel})


def _planned(contract: Contract) -> tuple[Plan, Spec]:
    spec = _spec(contract)
    plan = make_plan(spec, small_catalog(), options=PlanOptions(whole_nodes=False))
    assert plan.verified, plan.verification_problems
    return plan, spec


def _deal(**kw: object) -> Contract:
    return Contract.model_validate(
        {"id": "aws-deal", "provider": "aws", "start": D(2027, 1, 1), "end": D(2028, 1, 1), **kw}
    )


def test_spend_counted_beyond_the_yearly_maximum_is_caught() -> None:
    """The plan counts 434,400 of list spend (the cap of 100 × 8760 a year, pro rata); checked
    against a contract capped at half that, it counts too much."""
    plan, spec = _planned(_deal(discount_pct=30, max_usd_per_year=100 * 8760))
    halved = spec.model_copy(
        update={"contracts": [spec.contracts[0].model_copy(update={"max_usd_per_year": 50 * 8760})]}
    )
    report = verify(plan, prepare(halved, small_catalog()))
    assert "contract-max" in report.rules_broken
    assert any("more than its maximum 217200" in p for p in report.problems)


def test_carry_over_beyond_the_cap_is_caught() -> None:
    plan, spec = _planned(_deal(committed_usd_per_year=500 * 8760))
    row = plan.contracts[0].model_copy(update={"carried_out_usd": 1.0})
    tampered = plan.model_copy(update={"contracts": [row]})
    report = verify(tampered, prepare(spec, small_catalog()))
    assert "contract-carry" in report.rules_broken  # no carry-over allowed, and no next year


def test_spend_counted_toward_a_contract_out_of_scope_is_caught() -> None:
    plan, spec = _planned(_deal(discount_pct=10, scope={"regions": ["aws:eu-west-1"]}))
    assert not any(a.contract_spend for a in plan.allocations)  # us-east-1 is out of scope
    a = plan.allocations[0]
    share = [ContractShare(contract="aws-deal", year=1, list_usd=1.0)]
    tampered = plan.model_copy(
        update={
            "allocations": [a.model_copy(update={"contract_spend": share}), *plan.allocations[1:]]
        }
    )
    report = verify(tampered, prepare(spec, small_catalog()))
    assert "contract-scope" in report.rules_broken
    assert any("whose scope does not cover it" in p for p in report.problems)


def test_spot_is_outside_a_contract_unless_listed() -> None:
    assert "spot" not in _deal().scope.purchase_options
    assert "spot" in _deal(scope={"purchase_options": ["spot"]}).scope.purchase_options


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"schedule_usd": [1.0, 2.0]}, "schedule_usd has 2 entries; the term"),
        ({"ramp": [1, 2]}, "ramp spreads total_usd"),
        ({"total_usd": 1e9, "ramp": [1, 2]}, "ramp needs 1 non-negative weights"),
        ({"total_usd": 1e9, "committed_usd_per_year": 5.0}, "give one of"),
        (
            {
                "discount_tiers": [
                    DiscountTier(above_usd=5, discount_pct=1),
                    DiscountTier(above_usd=5, discount_pct=2),
                ]
            },
            "strictly increasing",
        ),
        ({"regions": ["aws:us-east-1"], "scope": {"regions": ["aws:us-east-1"]}}, "not both"),
    ],
)
def test_contract_terms_that_do_not_add_up_are_rejected(
    terms: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _deal(**terms)


def test_a_savings_plan_above_its_maximum_is_caught() -> None:
    plan, spec = _planned(_deal(sized_by_plan=True, discount_pct=30, max_usd_per_hour=500))
    assert 0 < plan.savings_plans_usd_per_hour["aws-deal"] <= 500
    tampered = plan.model_copy(update={"savings_plans_usd_per_hour": {"aws-deal": 900.0}})
    report = verify(tampered, prepare(spec, small_catalog()))
    assert "contract-max" in report.rules_broken


def test_a_savings_plan_covers_spend_hour_by_hour_not_pooled() -> None:
    """Spend counted toward a savings plan beyond its cover in one period is caught, even when
    the year as a whole stays under the commitment."""
    plan, spec = _planned(_deal(sized_by_plan=True, discount_pct=30))
    h = plan.savings_plans_usd_per_hour["aws-deal"]
    thin = plan.model_copy(update={"savings_plans_usd_per_hour": {"aws-deal": h / 2}})
    report = verify(thin, prepare(spec, small_catalog()))
    assert any("more than its commitment covers" in p for p in report.problems)
