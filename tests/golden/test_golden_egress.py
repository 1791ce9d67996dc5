"""Hand-checked network cost on the small catalog of tests/factories.py (docs/semantics.md,
"Network cost").

Common facts: model m70 serves 20 requests/s per 8-H100 node; one period, 2027-Q1 (2160 h).
H100 node prices per hour: ovh:gra 72 (at most 10 nodes), gcp us-east4 and europe-west4 88.
Geography ``eu`` is Paris (country FR); both gcp regions are within its 100 ms SLO (10.0 and
93.8 ms). A GB is 2^30 = 1,073,741,824 bytes. Transfer rates are given in each spec
(``providers[].egress``), so the figures do not move when the list rates are revised.

100 requests/s on average for a quarter are 100 × 3600 × 2160 = 777,600,000 requests. With
50,000 bytes in and 250,000 bytes out per request they move
777,600,000 × 50,000 / 2^30 = 36,209.82 GB in and 777,600,000 × 250,000 / 2^30 = 181,049.11 GB
out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.catalog.model import PurchaseOption
from archipel.plan.greedy import plan_greedy
from archipel.plan.inputs import prepare
from archipel.plan.planner import PlanOptions, make_plan
from archipel.plan.result import Plan, Status
from archipel.plan.verify import verify
from archipel.spec.models import (
    CatalogSelection,
    EgressRates,
    Geography,
    PriceOverride,
    ProviderSettings,
    RequestClass,
    Spec,
)
from factories import service, small_catalog, spec_with

REQUESTS = 100 * 3600 * 2160  # 777,600,000
GB_IN = REQUESTS * 50_000 / 2**30  # 36,209.82
GB_OUT = REQUESTS * 250_000 / 2**30  # 181,049.11
SIZES = [
    RequestClass(
        name="agent",
        share=1.0,
        input_tokens=12_000,
        output_tokens=1_000,
        request_bytes=50_000,
        response_bytes=250_000,
    )
]
GCP_RATES = EgressRates(
    internet_usd_per_gb=0.12, inter_region_usd_per_gb=0.02, inter_continent_usd_per_gb=0.08
)


def paris(gateway: str | None = None) -> list[Geography]:
    return [Geography(id="eu", lat=48.86, lon=2.35, country="FR", gateway_region=gateway)]


def on(spec: Spec, *providers: str) -> Spec:
    sel = CatalogSelection(
        source="tests",
        providers=list(providers),
        accelerators=["H100"],
        purchase_options=[PurchaseOption.ON_DEMAND],
    )
    return spec.model_copy(update={"catalog": sel})


def run(spec: Spec) -> Plan:
    plan = make_plan(spec, small_catalog(), options=PlanOptions(mip_rel_gap=0.0))
    assert plan.status == Status.OPTIMAL, plan.message
    assert plan.verified, plan.verification_problems
    return plan


def test_one_flow_pays_its_average_responses_at_the_internet_rate() -> None:
    """Default sizes, no gateway: the response leaves ovh:gra for Paris at ovh's 0.05 USD/GB.

    The default class (1,000 input, 250 output tokens) streams 1,000 + 250 × 250 = 63,500 bytes
    back (its 5,000 bytes in are free ingress). Demand is 100 requests/s on average with a
    peak-to-average of 2: capacity is sized for 200 requests/s, 10 nodes × 72 × 2160 =
    1,555,200 USD, but transfer is paid on the average:
    777,600,000 × 63,500 / 2^30 GB × 0.05 = 45,986.47 GB × 0.05 = 2,299.32 USD.
    """
    ovh = ProviderSettings(id="ovh", egress=EgressRates(internet_usd_per_gb=0.05))
    spec = spec_with(
        services=[service(demand={"eu": [100.0]}, peak_to_average=2.0)],
        geographies=paris(),
        providers=[ovh],
        periods=1,
    )
    plan = run(on(spec, "ovh"))
    [flow] = plan.flows
    assert (flow.region, flow.requests_per_s) == ("ovh:gra", pytest.approx(200.0))
    assert flow.egress_usd == pytest.approx(2_299.32, abs=0.01)
    assert plan.egress_usd == pytest.approx(2_299.32, abs=0.01)
    assert plan.objective_usd == pytest.approx(1_555_200 + 2_299.32, abs=0.01)
    assert plan.cost_by_provider_usd == {"ovh": pytest.approx(1_557_499.32, abs=0.01)}
    assert plan.cost_by_period_usd == [pytest.approx(1_557_499.32, abs=0.01)]


def test_a_gateway_moves_a_geographys_traffic_next_to_it() -> None:
    """Paris's traffic enters the fleet at gcp:europe-west4; us-east4 is 1 USD/h cheaper.

    Without a gateway both regions send the 181,049.11 GB of responses to Paris at Google's
    0.12 USD/GB (21,725.89 USD either way), so the cheaper us-east4 wins:
    5 nodes × 87 × 2160 = 939,600 + 21,725.89 = 961,325.89 USD.

    With the gateway, serving in us-east4 would add the trip across the Atlantic at Google's
    inter-continent 0.08 USD/GB: (36,209.82 in + 181,049.11 back) × 0.08 = 17,380.71 USD, more
    than the 5 × 1 × 2160 = 10,800 USD of compute it saves (978,706.61 in all). So the plan
    serves Paris from europe-west4, where only the responses' last leg is paid:
    5 × 88 × 2160 = 950,400 + 21,725.89 = 972,125.89 USD.
    """
    gcp = ProviderSettings(
        id="gcp",
        egress=GCP_RATES,
        prices=[
            PriceOverride(
                instance_type="a3-highgpu-8g", region="gcp:us-east4", usd_per_node_hour=87
            )
        ],
    )
    chat = service(demand={"eu": [100.0]}, request_classes=SIZES)
    direct = run(
        on(spec_with(services=[chat], providers=[gcp], geographies=paris(), periods=1), "gcp")
    )
    assert {f.region for f in direct.flows} == {"gcp:us-east4"}
    assert direct.objective_usd == pytest.approx(961_325.89, abs=0.01)

    gateway = paris("gcp:europe-west4")
    spec = spec_with(services=[chat], providers=[gcp], geographies=gateway, periods=1)
    plan = run(on(spec, "gcp"))
    assert {f.region for f in plan.flows} == {"gcp:europe-west4"}
    assert {a.region for a in plan.allocations} == {"gcp:europe-west4"}
    assert plan.egress_usd == pytest.approx(21_725.89, abs=0.01)
    assert plan.objective_usd == pytest.approx(972_125.89, abs=0.01)
    assert 972_125.89 < 939_600 + 21_725.89 + 17_380.71  # what staying in us-east4 would cost


def test_a_gateway_on_another_provider_makes_each_sender_bill_its_leg() -> None:
    """Paris's gateway is aws:eu-west-1; only ovh:gra serves (5 nodes, 777,600 USD).

    Request aws → ovh: 36,209.82 GB at aws's internet 0.05 = 1,810.49 USD (aws);
    response ovh → aws: 181,049.11 GB at ovh's internet 0.02 = 3,620.98 USD (ovh);
    response aws → Paris: 181,049.11 GB at 0.05 = 9,052.46 USD (aws).
    By provider: ovh 777,600 + 3,620.98 = 781,220.98; aws 1,810.49 + 9,052.46 = 10,862.95;
    network cost 14,483.93 USD. The greedy baseline places the same nodes and bills the same.
    """
    providers = [
        ProviderSettings(id="ovh", egress=EgressRates(internet_usd_per_gb=0.02)),
        ProviderSettings(id="aws", egress=EgressRates(internet_usd_per_gb=0.05)),
    ]
    chat = service(demand={"eu": [100.0]}, request_classes=SIZES)
    spec = on(
        spec_with(
            services=[chat], providers=providers, geographies=paris("aws:eu-west-1"), periods=1
        ),
        "ovh",
    )
    plan = run(spec)
    assert plan.cost_by_provider_usd == {
        "aws": pytest.approx(10_862.95, abs=0.01),
        "ovh": pytest.approx(781_220.98, abs=0.01),
    }
    assert plan.egress_usd == pytest.approx(14_483.93, abs=0.01)
    assert plan.cost_by_purchase_option_usd == {"on_demand": pytest.approx(777_600)}

    inputs = prepare(spec, small_catalog())
    greedy = plan_greedy(inputs)
    assert verify(greedy, inputs).exact
    assert greedy.egress_usd == pytest.approx(14_483.93, abs=0.01)
    assert greedy.objective_usd == pytest.approx(plan.objective_usd)
