"""Any valid spec written by ``dump_spec`` loads back unchanged; the schema covers the spec."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.catalog.model import PurchaseOption
from archipel.spec.dump import dump_spec
from archipel.spec.load import parse_spec
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    CatalogSelection,
    CloudActExclusionRule,
    Contract,
    DemandGrowth,
    DemandTable,
    DiversificationRule,
    ExclusivityRule,
    Geography,
    Horizon,
    InferenceService,
    MeasuredThroughput,
    MigrationLimitRule,
    MinProvidersRule,
    ModelSpec,
    PriceOverride,
    ProviderSettings,
    RampStep,
    RequestClass,
    ReservedBlock,
    ResidencyRule,
    Spec,
    SurvivabilityRule,
    TrafficRampRule,
    TrainingJob,
    WorkAcceleratorHours,
    WorkFlops,
)
from archipel.spec.schema import json_schema

# Ids that YAML would read as something else when unquoted are included on purpose.
ids = st.one_of(
    st.sampled_from(["no", "yes", "on", "null", "1", "1.5", "2027-01-01", "eu.west", "a-b_c"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,11}", fullmatch=True),
)
texts = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "S"]), min_size=1, max_size=20
)
# within the spec's physical bounds (spec.models: MAX_* and the per-field limits)
nonneg = st.floats(min_value=0, max_value=1e5, allow_nan=False)
pos = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False)
share = st.floats(min_value=0, max_value=1, allow_nan=False)
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31))
options = st.lists(st.sampled_from(list(PurchaseOption)), max_size=3, unique=True)


@st.composite
def horizons(draw: st.DrawFn) -> Horizon:
    gran = draw(st.sampled_from(["month", "quarter", "hour"]))
    year = draw(st.integers(2024, 2035))
    month = draw(st.sampled_from([1, 4, 7, 10])) if gran != "hour" else draw(st.integers(1, 12))
    day = 1 if gran != "hour" else draw(st.integers(1, 28))
    return Horizon(
        start=dt.date(year, month, day), granularity=gran, periods=draw(st.integers(1, 20))
    )


@st.composite
def windows(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    a, b = draw(dates), draw(dates)
    if a == b:
        b = a + dt.timedelta(days=1)
    return min(a, b), max(a, b)


@st.composite
def services(draw: st.DrawFn) -> InferenceService:
    geos = draw(st.lists(ids, max_size=3, unique=True))
    demand: DemandTable | DemandGrowth
    if draw(st.booleans()):
        demand = DemandTable(
            unit=draw(
                st.sampled_from(["requests_per_s", "total_tokens_per_s", "output_tokens_per_s"])
            ),
            by_geography={g: draw(st.lists(nonneg, max_size=4)) for g in geos},
        )
    else:
        demand = DemandGrowth(
            base_by_geography={g: draw(nonneg) for g in geos},
            growth_pct_per_year=draw(st.floats(-99, 1000, allow_nan=False)),
        )
    n = draw(st.integers(1, 3))
    classes = [
        RequestClass(
            name=f"c{i}",
            share=1.0 / n if i < n - 1 else 1.0 - (n - 1) / n,
            input_tokens=draw(st.integers(0, 10_000)),
            output_tokens=draw(st.integers(1, 4000)),
        )
        for i in range(n)
    ]
    if abs(sum(c.share for c in classes) - 1.0) > 1e-6:
        classes = [RequestClass(name="all", share=1.0, input_tokens=1, output_tokens=1)]
    return InferenceService(
        id=draw(ids),
        model=draw(ids),
        demand=demand,
        latency_slo_rtt_ms=draw(pos),
        serving_regions=draw(
            st.none() | st.dictionaries(ids, st.lists(texts, max_size=2), max_size=2)
        ),
        data_class=draw(st.none() | texts),
        request_classes=classes,
        purchase_options=draw(options),
    )


@st.composite
def training_jobs(draw: st.DrawFn) -> TrainingJob:
    start, deadline = draw(windows())
    gmin = draw(st.integers(0, 100_000))
    work = draw(
        st.builds(WorkAcceleratorHours, reference_accelerator=texts, accelerator_hours=pos)
        | st.builds(WorkFlops, flops=pos, mfu=st.floats(0.01, 1.0))
    )
    return TrainingJob(
        id=draw(ids),
        model=draw(st.none() | ids),
        work=work,
        accelerators=draw(st.lists(texts, min_size=1, max_size=3)),
        gang_min_accelerators=gmin,
        gang_max_accelerators=draw(st.none() | st.integers(max(gmin, 1), 200_000)),
        single_region=draw(st.booleans()),
        start=draw(st.none() | st.just(start)),
        deadline=deadline,
        preemptible=draw(st.booleans()),
        checkpoint_interval_h=draw(pos),
        restart_h=draw(nonneg),
        data_class=draw(st.none() | texts),
    )


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    start, end = draw(windows())
    blocks = draw(
        st.lists(
            st.builds(
                ReservedBlock,
                region=texts,
                instance_type=texts,
                nodes=st.integers(1, 1000),
                usd_per_node_hour=nonneg,
                start=dates,
                end=dates,
            ),
            max_size=2,
        )
    )
    return Contract(
        id=draw(ids),
        provider=draw(ids),
        regions=draw(st.none() | st.lists(texts, max_size=2)),
        start=start,
        end=end,
        committed_usd_per_year=draw(nonneg),
        discount_pct=draw(st.floats(0, 99.9)),
        take_or_pay=draw(st.booleans()),
        reserved_blocks=blocks,
    )


rules = st.one_of(
    st.builds(
        ResidencyRule,
        data_class=texts,
        jurisdictions=st.lists(texts, min_size=1, max_size=2),
        countries=st.lists(st.sampled_from(["DE", "FR", "NO"]), max_size=2),
    ),
    st.builds(CloudActExclusionRule, data_classes=st.lists(texts, min_size=1, max_size=2)),
    st.builds(
        ExclusivityRule, model=ids, providers=st.lists(ids, min_size=1, max_size=2), until=dates
    ),
    st.builds(DiversificationRule, max_share=share),
    st.builds(
        SurvivabilityRule,
        loss=st.sampled_from(["provider", "region"]),
        served_fraction=share,
        services=st.none() | st.lists(ids, max_size=2),
    ),
    st.builds(
        MinProvidersRule,
        count=st.integers(1, 5),
        min_share=share,
        services=st.none() | st.lists(ids, max_size=2),
    ),
    st.builds(
        TrafficRampRule,
        service=ids,
        provider=ids,
        steps=st.lists(dates, min_size=1, max_size=3, unique=True)
        .flatmap(lambda ds: st.tuples(*(st.tuples(st.just(d), share, share) for d in sorted(ds))))
        .map(
            lambda xs: [
                RampStep(start=d, min_share=min(a, b), max_share=max(a, b)) for d, a, b in xs
            ]
        ),
    ),
    st.builds(MigrationLimitRule, max_shift=share, services=st.none() | st.lists(ids, max_size=2)),
)


@st.composite
def capacity_limits(draw: st.DrawFn) -> CapacityLimit:
    """A limit with an optional window and steps before its end."""
    since, until = sorted(draw(st.lists(dates, min_size=2, max_size=2, unique=True)))
    starts = sorted(draw(st.lists(dates, max_size=3, unique=True)))
    keep_until = draw(st.booleans())
    steps = [
        CapacityStep(start=d, max_accelerators=draw(nonneg))
        for d in starts
        if not keep_until or d < until
    ]
    return CapacityLimit(
        region=draw(st.none() | texts),
        accelerator=draw(st.none() | texts),
        instance_type=draw(st.none() | texts),
        max_accelerators=draw(nonneg),
        available_from=draw(st.none() | st.just(since)),
        until=until if keep_until else None,
        steps=steps,
    )


providers = st.builds(
    ProviderSettings,
    id=ids,
    cloud_act=st.none() | st.booleans(),
    capacity=st.lists(capacity_limits(), max_size=2),
    prices=st.lists(
        st.builds(
            PriceOverride,
            instance_type=texts,
            region=st.none() | texts,
            purchase_option=st.sampled_from(list(PurchaseOption)),
            usd_per_node_hour=nonneg,
        ),
        max_size=2,
    ),
)

models = st.builds(
    ModelSpec,
    id=ids,
    parameters_b=pos,
    bytes_per_parameter=st.floats(0.1, 8.0),
    context_length_tokens=st.integers(1, 10**7),
    throughput=st.lists(
        st.builds(
            MeasuredThroughput,
            accelerator=texts,
            accelerators_per_replica=st.integers(1, 64),
            request_class=st.none() | ids,
            requests_per_s_per_replica=pos,
        ),
        max_size=2,
    ),
)

specs = st.builds(
    Spec,
    name=texts,
    horizon=horizons(),
    catalog=st.builds(
        CatalogSelection,
        source=texts,
        providers=st.none() | st.lists(ids, max_size=3),
        accelerators=st.none() | st.lists(texts, max_size=3),
        purchase_options=options,
    ),
    providers=st.lists(providers, max_size=2),
    geographies=st.lists(
        st.builds(
            Geography,
            id=ids,
            lat=st.floats(-90, 90),
            lon=st.floats(-180, 180),
            country=st.sampled_from(["DE", "NO", "US", "ON"]),
        ),
        max_size=3,
    ),
    models=st.lists(models, max_size=2),
    services=st.lists(services(), max_size=2),
    training=st.lists(training_jobs(), max_size=2),
    contracts=st.lists(contracts(), max_size=2),
    rules=st.lists(rules, max_size=4),
)


@settings(max_examples=100, deadline=None)
@given(specs)
def test_dump_then_parse_gives_the_same_spec(spec: Spec) -> None:
    text = dump_spec(spec)
    assert parse_spec(text, "roundtrip.yaml") == spec, text


def test_defaults_are_left_out_but_kinds_are_kept() -> None:
    spec = Spec(
        horizon=Horizon(start=dt.date(2027, 1, 1), periods=4),
        rules=[DiversificationRule(max_share=0.5)],
    )
    text = dump_spec(spec)
    assert text == (
        "version: 1\n"
        "horizon:\n  start: 2027-01-01\n  periods: 4\n"
        "rules:\n- kind: diversification\n  max_share: 0.5\n"
    )
    assert parse_spec(text) == spec


def test_json_schema_names_the_spec_and_its_parts() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("spec-v1.json")
    assert schema["required"] == ["horizon"]
    assert {"ResidencyRule", "DemandTable", "TrainingJob"} <= set(schema["$defs"])
    assert schema["properties"]["horizon"]["$ref"] == "#/$defs/Horizon"
