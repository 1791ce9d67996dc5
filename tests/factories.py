"""Small hand-built catalogs and specs for planner and verifier tests.

The catalog has three providers: ``aws`` and ``gcp`` (US-headquartered, subject to the CLOUD Act)
and ``ovh`` (French, not subject to it). Regions, with the RTT (ms) from the two geographies
``us`` (New York) and ``eu`` (Paris) by the haversine estimate:

=====================  =======  =====  ========  ========
region                 country  EU?    RTT us    RTT eu
=====================  =======  =====  ========  ========
aws:us-east-1          US       no        6.3      93.8
aws:eu-west-1          IE       yes      77.7      12.7
gcp:us-east4           US       no        6.3      93.8
gcp:europe-west4       NL       yes      90.1      10.0
ovh:gra                FR       yes      87.1       4.6
=====================  =======  =====  ========  ========

Offerings (8 × H100 per node unless said; prices USD per node-hour; fabric between nodes):

- aws:us-east-1 p5.48xlarge on-demand 80, spot 40 (0.1 interruptions/h, availability 1), EFA
- aws:eu-west-1 p5.48xlarge on-demand 96, EFA
- gcp:us-east4 a3-highgpu-8g on-demand 88, GPUDirect-TCPX
- gcp:europe-west4 a3-highgpu-8g on-demand 88, GPUDirect-TCPX; g2-standard-48 (4 × L4)
  on-demand 4, no fabric
- ovh:gra h100-8 on-demand 72, at most 10 nodes per period, no fabric

Network transfer is free in these specs (``providers[].egress`` at 0 for the three providers)
unless a test asks for list rates with ``spec_with(price_egress=True)`` or sets its own: the
figures of the other tests are about compute (tests/golden/test_golden_egress.py prices it).

The horizon defaults to two quarters from 2027-01-01: 2027-Q1 has 2160 h, 2027-Q2 2184 h.
Model ``m70`` has a measured H100 profile: 2 H100 per replica, 5 requests/s per replica, so one
8-GPU node serves 20 requests/s. Model ``huge`` (1000 B parameters) fits no L4 node.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from archipel.catalog.model import Catalog, Manifest, Offering, Provider, PurchaseOption, Region
from archipel.perf.serving import serving_profile
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Allocation, ContractYear, Flow, Plan, Status
from archipel.spec.models import (
    CatalogSelection,
    Contract,
    EgressRates,
    Geography,
    Horizon,
    InferenceService,
    MeasuredThroughput,
    ModelSpec,
    ProviderSettings,
    RequestClass,
    ReservedBlock,
    Rule,
    Spec,
    TrainingJob,
    WorkAcceleratorHours,
)

OD = PurchaseOption.ON_DEMAND
SPOT = PurchaseOption.SPOT
RESERVED = PurchaseOption.RESERVED

PROVIDERS: tuple[Provider, ...] = (
    Provider("aws", "Amazon Web Services", "US", cloud_act=True),
    Provider("gcp", "Google Cloud", "US", cloud_act=True),
    Provider("ovh", "OVHcloud", "FR", cloud_act=False),
)

REGIONS: tuple[Region, ...] = (
    Region("aws", "us-east-1", "Ashburn", "US", "North America", 39.04, -77.49),
    Region("aws", "eu-west-1", "Dublin", "IE", "Europe", 53.35, -6.26, ("EU",)),
    Region("gcp", "us-east4", "Ashburn", "US", "North America", 39.04, -77.49),
    Region("gcp", "europe-west4", "Eemshaven", "NL", "Europe", 53.44, 6.83, ("EU",)),
    Region("ovh", "gra", "Gravelines", "FR", "Europe", 50.99, 2.13, ("EU",)),
)

EFA = {"scale_up": "nvswitch", "fabric": "efa", "fabric_gbps": 3200.0}
TCPX = {"scale_up": "nvswitch", "fabric": "gpudirect-tcpx", "fabric_gbps": 800.0}
OFFERINGS: tuple[Offering, ...] = (
    Offering("aws", "us-east-1", "p5.48xlarge", "H100", 8, OD, 80.0, **EFA),  # type: ignore[arg-type]
    Offering(
        "aws",
        "us-east-1",
        "p5.48xlarge",
        "H100",
        8,
        SPOT,
        40.0,
        interruptions_per_hour=0.1,
        **EFA,  # type: ignore[arg-type]
    ),
    Offering("aws", "eu-west-1", "p5.48xlarge", "H100", 8, OD, 96.0, **EFA),  # type: ignore[arg-type]
    Offering("gcp", "us-east4", "a3-highgpu-8g", "H100", 8, OD, 88.0, **TCPX),  # type: ignore[arg-type]
    Offering("gcp", "europe-west4", "a3-highgpu-8g", "H100", 8, OD, 88.0, **TCPX),  # type: ignore[arg-type]
    Offering("gcp", "europe-west4", "g2-standard-48", "L4", 4, OD, 4.0, scale_up="pcie"),
    Offering("ovh", "gra", "h100-8", "H100", 8, OD, 72.0, max_nodes=10.0, scale_up="nvswitch"),
)

GEOGRAPHIES: tuple[Geography, ...] = (
    Geography(id="us", lat=40.71, lon=-74.0, country="US"),
    Geography(id="eu", lat=48.86, lon=2.35, country="FR"),
)

M70 = ModelSpec(
    id="m70",
    parameters_b=70,
    throughput=[
        MeasuredThroughput(
            accelerator="H100", accelerators_per_replica=2, requests_per_s_per_replica=5.0
        )
    ],
)
HUGE = ModelSpec(id="huge", parameters_b=1000)


def two_class_model(l4_long_per_replica: float) -> ModelSpec:
    """Model ``mixed``, measured per request class: an H100 replica (2 chips) serves 10 short or
    2.5 long requests/s, an L4 replica (1 chip) 4 short or ``l4_long_per_replica`` long."""
    rates = (("H100", 2, "short", 10.0), ("H100", 2, "long", 2.5), ("L4", 1, "short", 4.0))
    return ModelSpec(
        id="mixed",
        parameters_b=70,
        throughput=[
            MeasuredThroughput(
                accelerator=a,
                accelerators_per_replica=k,
                request_class=c,
                requests_per_s_per_replica=r,
            )
            for a, k, c, r in (*rates, ("L4", 1, "long", l4_long_per_replica))
        ],
    )


MODELS: tuple[ModelSpec, ...] = (M70, HUGE)

START = dt.date(2027, 1, 1)
Q1_HOURS = 2160.0  # 90 days
Q2_HOURS = 2184.0  # 91 days


def small_catalog(offerings: Sequence[Offering] | None = None) -> Catalog:
    """The three-provider catalog above, or the same providers/regions with other offerings."""
    return Catalog(
        Manifest("tests", "2026-01-01", 1, "0" * 64, "hand-built test catalog"),
        PROVIDERS,
        REGIONS,
        tuple(OFFERINGS if offerings is None else offerings),
    )


def service(
    id: str = "chat",
    demand: Mapping[str, Sequence[float]] | None = None,
    *,
    model: str = "m70",
    **kwargs: Any,
) -> InferenceService:
    """A service with a demand table (requests/s per geography per period); default eu 100/s."""
    table = {"eu": [100.0, 100.0]} if demand is None else {g: list(v) for g, v in demand.items()}
    return InferenceService.model_validate(
        {"id": id, "model": model, "demand": {"kind": "table", "by_geography": table}, **kwargs}
    )


def training_job(
    id: str = "train",
    accelerator_hours: float = 1000.0,
    *,
    reference: str = "H100",
    accelerators: Sequence[str] = ("H100",),
    deadline: dt.date = dt.date(2027, 7, 1),
    **kwargs: Any,
) -> TrainingJob:
    """A job of ``accelerator_hours`` H100-hours (by default) due by the end of the horizon."""
    return TrainingJob(
        id=id,
        work=WorkAcceleratorHours(
            reference_accelerator=reference, accelerator_hours=accelerator_hours
        ),
        accelerators=list(accelerators),
        deadline=deadline,
        **kwargs,
    )


def spec_with(
    *,
    services: Sequence[InferenceService] = (),
    training: Sequence[TrainingJob] = (),
    contracts: Sequence[Contract] = (),
    rules: Sequence[Rule] = (),
    providers: Sequence[ProviderSettings] = (),
    models: Sequence[ModelSpec] = MODELS,
    geographies: Sequence[Geography] = GEOGRAPHIES,
    periods: int = 2,
    granularity: str = "quarter",
    start: dt.date = START,
    purchase_options: Sequence[PurchaseOption] = (OD, SPOT),
    name: str = "test-fleet",
    price_egress: bool = False,
) -> Spec:
    """A spec over the small catalog; every list defaults to empty except models/geographies.

    Transfer is free unless ``price_egress`` (list rates) or a provider's own ``egress``."""
    return Spec(
        name=name,
        horizon=Horizon(start=start, granularity=granularity, periods=periods),
        catalog=CatalogSelection(source="tests", purchase_options=list(purchase_options)),
        providers=list(providers) if price_egress else free_transfer(providers),
        geographies=list(geographies),
        models=list(models),
        services=list(services),
        training=list(training),
        contracts=list(contracts),
        rules=list(rules),
    )


FREE_TRANSFER = EgressRates(
    internet_usd_per_gb=0.0, inter_region_usd_per_gb=0.0, inter_continent_usd_per_gb=0.0
)


def free_transfer(providers: Sequence[ProviderSettings]) -> list[ProviderSettings]:
    """The providers with transfer priced at 0, keeping egress rates a test gave."""
    out = [p if p.egress else p.model_copy(update={"egress": FREE_TRANSFER}) for p in providers]
    given = {p.id for p in providers}
    out += [
        ProviderSettings(id=p, egress=FREE_TRANSFER)
        for p in ("aws", "gcp", "ovh")
        if p not in given
    ]
    return out


def request_classes(*classes: tuple[str, float, int, int]) -> list[RequestClass]:
    """Request classes from (name, share, input_tokens, output_tokens) tuples."""
    return [
        RequestClass(name=n, share=s, input_tokens=i, output_tokens=o) for n, s, i, o in classes
    ]


def allocation(
    inputs: PlanInputs,
    workload: str,
    offering_id: str,
    period: int,
    nodes: float,
    *,
    hours: float,
    cost_usd: float,
    kind: str = "service",
    **extra: Any,
) -> Allocation:
    """An allocation whose descriptive fields are copied from the offering; figures given.

    A service's replicas follow from its model's replica size on the offering's nodes."""
    o = inputs.offerings[inputs.offering_index()[offering_id]]
    serving: dict[str, Any] = {}
    svc = next((x for x in inputs.spec.services if x.id == workload), None)
    if kind == "service" and svc is not None:
        model = next(m for m in inputs.spec.models if m.id == svc.model)
        span = model.multi_node_replicas and bool(o.fabric)
        prof = serving_profile(
            model,
            o.accelerator,
            svc.request_classes,
            scale_up=o.scale_up,
            max_accelerators_per_replica=64 if span else o.accelerators_per_node,
        )
        if prof is not None:
            k = prof.accelerators_per_replica
            a = o.accelerators_per_node
            per_node = a // k if a >= k else 1 / -(-k // a)  # a multi-node replica: 1 / nodes
            serving = {
                "replicas": nodes * per_node,
                "accelerators_per_replica": k,
            }
    return Allocation(
        workload=workload,
        workload_kind=kind,
        provider=o.provider,
        region=o.region_id,
        instance_type=o.instance_type,
        accelerator=o.accelerator,
        purchase_option=str(o.purchase_option),
        offering_id=offering_id,
        period=period,
        period_label=inputs.periods[period].label,
        nodes=nodes,
        accelerators=nodes * o.accelerators_per_node,
        hours=hours,
        cost_usd=cost_usd,
        availability=o.availability,
        **serving,
        **extra,
    )


def plan_with(
    inputs: PlanInputs,
    allocations: Sequence[Allocation] = (),
    flows: Sequence[Flow] = (),
    *,
    contracts: Sequence[ContractYear] = (),
    shortfall_usd: float = 0.0,
    reserved_fixed_usd: float = 0.0,
    planner: str = "lp",
    **figures: Any,
) -> Plan:
    """A hand-written plan. Cost breakdowns default to sums of the allocations' ``cost_usd``
    (plus ``shortfall_usd`` in the objective and by provider when given via ``figures``)."""
    by_period = [0.0] * len(inputs.periods)
    by_provider: dict[str, float] = {}
    by_option: dict[str, float] = {}
    for a in allocations:
        by_period[a.period] += a.cost_usd
        by_provider[a.provider] = by_provider.get(a.provider, 0.0) + a.cost_usd
        by_option[a.purchase_option] = by_option.get(a.purchase_option, 0.0) + a.cost_usd
    values: dict[str, Any] = {
        "spec_name": inputs.spec.name,
        "planner": planner,
        "status": Status.OPTIMAL,
        "objective_usd": sum(by_period) + shortfall_usd + reserved_fixed_usd,
        "periods": [p.label for p in inputs.periods],
        "period_hours": [p.hours for p in inputs.periods],
        "cost_by_provider_usd": by_provider,
        "cost_by_period_usd": by_period,
        "cost_by_purchase_option_usd": by_option,
        "shortfall_usd": shortfall_usd,
        "reserved_fixed_usd": reserved_fixed_usd,
        "allocations": list(allocations),
        "flows": list(flows),
        "contracts": list(contracts),
    }
    values.update(figures)
    return Plan.model_validate(values)


def flow(
    service: str,
    geography: str,
    region: str,
    period: int,
    requests_per_s: float,
    request_class: str = "default",
) -> Flow:
    return Flow(
        service=service,
        request_class=request_class,
        geography=geography,
        region=region,
        period=period,
        requests_per_s=requests_per_s,
    )


def reserved_contract(
    *,
    provider: str = "ovh",
    region: str = "ovh:gra",
    instance_type: str = "h100-8",
    nodes: int = 5,
    usd_per_node_hour: float = 50.0,
    start: dt.date = START,
    end: dt.date = dt.date(2027, 4, 1),
    contract_end: dt.date | None = None,
    id: str = "ovh-res",
) -> Contract:
    """A contract holding one reserved block (by default 5 ovh nodes at 50/h for 2027-Q1)."""
    block = ReservedBlock(
        region=region,
        instance_type=instance_type,
        nodes=nodes,
        usd_per_node_hour=usd_per_node_hour,
        start=start,
        end=end,
    )
    return Contract(
        id=id, provider=provider, start=start, end=contract_end or end, reserved_blocks=[block]
    )
