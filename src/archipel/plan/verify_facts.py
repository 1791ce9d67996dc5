"""What the verifier knows before it reads a plan: demand, masks, rates, discounts.

Every array here is derived from the spec, the catalog and the perf estimates alone
(docs/semantics.md); nothing comes from a planner. Shapes: ``O`` offerings of the inputs,
``T`` periods, ``G`` geographies of one service, ``C`` its request classes, ``R`` the regions
that hold at least one offering.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import Catalog, Offering, PurchaseOption, Region
from archipel.geo import haversine_km, rtt_ms
from archipel.perf.serving import MAX_ACCELERATORS_PER_REPLICA, ServingProfile, serving_profile
from archipel.perf.training import spot_useful_fraction, work_per_accelerator_hour
from archipel.plan.inputs import PlanInputs
from archipel.spec.models import (
    CloudActExclusionRule,
    DemandTable,
    ExclusivityRule,
    InferenceService,
    ModelSpec,
    ResidencyRule,
    Spec,
    TrainingJob,
    WorkAcceleratorHours,
)
from archipel.spec.periods import Period, overlap_hours

Bool = NDArray[np.bool_]
Float = NDArray[np.float64]
Int = NDArray[np.int64]

SERVICE_OPTIONS_DEFAULT = (PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED)


@dataclass(frozen=True)
class ServiceFacts:
    service: InferenceService
    geos: tuple[str, ...]
    demand: Float  # [G, T] peak requests/s (all classes)
    classes: tuple[str, ...]
    shares: Float  # [C]
    rate: Float  # [O, C] requests/s one node serves, derated by spot availability; 0: no unit
    per_replica: dict[str, int]  # accelerator -> accelerators per replica (k)
    replicas_per_node: Float  # [O] whole replicas a node hosts (0 when it cannot host one)
    nodes_per_replica: Float  # [O] nodes one replica takes (1, or more on a fabric)
    source: dict[str, str]  # accelerator -> measured | calibrated | estimated
    masks: dict[str, Bool]  # mask name -> array broadcastable to [O, T]
    allowed: Bool  # [O, T]
    latency_ok: Bool  # [G, R]: serving_regions or RTT within the SLO
    region_ok: Bool  # [R, T]: the region has an allowed offering


@dataclass(frozen=True)
class JobFacts:
    job: TrainingJob
    required: float  # work units
    work_per_node_hour: Float  # [O]: accelerators per node × rate × spot useful fraction
    window_hours: Float  # [T]: overlap of each period with [start, deadline)
    masks: dict[str, Bool]
    allowed: Bool  # [O, T]


@dataclass(frozen=True)
class Facts:
    inputs: PlanInputs
    hours: Float  # [T]
    labels: tuple[str, ...]
    regions: tuple[str, ...]  # [R], sorted
    region_of: Int  # [O] index into regions
    provider_of: tuple[str, ...]  # [O]
    accels_per_node: Float  # [O]
    price: Float  # [O] USD per node-hour (0 for reserved blocks)
    services: dict[str, ServiceFacts]
    jobs: dict[str, JobFacts]


def demand_requests_per_s(svc: InferenceService, pers: tuple[Period, ...]) -> Float:
    """Peak D[g, t] in requests/s: a table value, or growth at the period's end (start when
    shrinking), times the service's peak factor; tokens/s become requests/s by the class mix."""
    n_t = len(pers)
    d = svc.demand
    if isinstance(d, DemandTable):
        rows = [[v[t] if t < len(v) else 0.0 for t in range(n_t)] for v in d.by_geography.values()]
    else:
        t0 = pers[0].start if pers else dt.datetime(1970, 1, 1)
        when = [p.end if d.growth_pct_per_year >= 0 else p.start for p in pers]
        years = np.array([(w - t0) / dt.timedelta(days=365.25) for w in when], dtype=float)
        factor = (1.0 + d.growth_pct_per_year / 100.0) ** years
        rows = [list(b * factor) for b in d.base_by_geography.values()]
    out = np.array(rows, dtype=float).reshape(len(rows), n_t)
    return out * svc.requests_per_unit() * svc.peak_factor


def _region_facts(catalog: Catalog, offerings: tuple[Offering, ...]) -> list[Region | None]:
    return [
        catalog.region(o.region_id) if catalog.has_region(o.region_id) else None for o in offerings
    ]


def residency_mask(spec: Spec, data_class: str | None, regions: list[Region | None]) -> Bool:
    """[O]: every residency rule of the data class holds for the offering's region."""
    ok = np.ones(len(regions), dtype=bool)
    for rule in spec.rules:
        if (
            isinstance(rule, ResidencyRule)
            and data_class is not None
            and rule.data_class == data_class
        ):
            ok &= np.array(
                [
                    r is not None
                    and (
                        bool(set(r.jurisdictions) & set(rule.jurisdictions))
                        or r.country in rule.countries
                    )
                    for r in regions
                ],
                dtype=bool,
            )
    return ok


def cloud_act_mask(inputs: PlanInputs, data_class: str | None) -> Bool:
    """[O]: the provider is not subject to the CLOUD Act when the data class is excluded."""
    excluded = data_class is not None and any(
        isinstance(r, CloudActExclusionRule) and data_class in r.data_classes
        for r in inputs.spec.rules
    )
    if not excluded:
        return np.ones(len(inputs.offerings), dtype=bool)
    return np.array(
        [not inputs.cloud_act.get(o.provider, True) for o in inputs.offerings], dtype=bool
    )


def exclusivity_mask(inputs: PlanInputs, model: str | None) -> Bool:
    """[O, T]: before ``until``, only the rule's providers (every rule of the model holds)."""
    ok = np.ones((len(inputs.offerings), len(inputs.periods)), dtype=bool)
    for rule in inputs.spec.rules:
        if isinstance(rule, ExclusivityRule) and model is not None and rule.model == model:
            until = dt.datetime.combine(rule.until, dt.time())
            before = np.array([p.start < until for p in inputs.periods], dtype=bool)
            inside = np.array([o.provider in rule.providers for o in inputs.offerings], dtype=bool)
            ok &= inside[:, None] | ~before[None, :]
    return ok


def _options_mask(offerings: tuple[Offering, ...], options: set[PurchaseOption]) -> Bool:
    return np.array([o.purchase_option in options for o in offerings], dtype=bool)


@dataclass(frozen=True)
class _Serving:
    rate: Float  # [O, C]
    fits: Bool  # [O] the model has a profile on the accelerator
    replicas_per_node: Float  # [O]
    nodes_per_replica: Float  # [O]
    per_replica: dict[str, int]
    source: dict[str, str]


def _serving(model: ModelSpec | None, svc: InferenceService, inputs: PlanInputs) -> _Serving:
    """Per offering: whole replicas per node (floor(accelerators / k)), or nodes per replica
    (ceil(k / accelerators)) when the model allows multi-node replicas and the instance type has
    a fabric; requests/s per node = replicas per node × rate per replica × spot availability."""
    offerings = inputs.offerings
    n_o, n_c = len(offerings), len(svc.request_classes)
    out = _Serving(np.zeros((n_o, n_c)), np.zeros(n_o, bool), np.zeros(n_o), np.ones(n_o), {}, {})
    if model is None:
        return out
    profiles: dict[tuple[str, str, int], ServingProfile | None] = {}
    for i, o in enumerate(offerings):
        span = model.multi_node_replicas and bool(o.fabric)
        cap = MAX_ACCELERATORS_PER_REPLICA if span else o.accelerators_per_node
        key = (o.accelerator, o.scale_up, cap)
        if key not in profiles:
            acc = inputs.accelerators.get(o.accelerator)
            profiles[key] = (
                None
                if acc is None
                else serving_profile(
                    model,
                    acc,
                    svc.request_classes,
                    scale_up=o.scale_up,
                    max_accelerators_per_replica=cap,
                )
            )
        prof = profiles[key]
        if prof is None:
            continue
        out.fits[i] = True
        k = prof.accelerators_per_replica
        out.per_replica[o.accelerator] = k
        out.source[o.accelerator] = prof.source
        per_replica = np.array(  # the planned share of it: headroom is a rule too
            [
                prof.requests_per_s_per_replica[c.name] * svc.max_utilization
                for c in svc.request_classes
            ]
        )
        if o.accelerators_per_node >= k:
            out.replicas_per_node[i] = o.accelerators_per_node // k
            out.rate[i] = out.replicas_per_node[i] * per_replica * o.availability
        elif span:
            out.nodes_per_replica[i] = -(-k // o.accelerators_per_node)
            out.rate[i] = per_replica * o.availability / out.nodes_per_replica[i]
    return out


def _latency_ok(
    svc: InferenceService,
    geos: tuple[str, ...],
    spec: Spec,
    regions: tuple[str, ...],
    catalog: Catalog,
) -> Bool:
    """[G, R]: listed ``serving_regions`` of a geography, else RTT ≤ the SLO."""
    points = {g.id: g for g in spec.geographies}
    lat = np.array([catalog.region(r).lat if catalog.has_region(r) else np.nan for r in regions])
    lon = np.array([catalog.region(r).lon if catalog.has_region(r) else np.nan for r in regions])
    ok = np.zeros((len(geos), len(regions)), dtype=bool)
    for gi, g in enumerate(geos):
        listed = svc.serving_regions.get(g) if svc.serving_regions is not None else None
        if listed is not None:
            ok[gi] = [r in listed for r in regions]
        elif g in points:
            rtt = rtt_ms(haversine_km(points[g].lat, points[g].lon, lat, lon))
            ok[gi] = np.nan_to_num(rtt, nan=np.inf) <= svc.latency_slo_rtt_ms
    return ok


def _service_facts(
    inputs: PlanInputs,
    svc: InferenceService,
    regions: tuple[str, ...],
    region_of: Int,
    geo_regions: list[Region | None],
) -> ServiceFacts:
    spec = inputs.spec
    models = {m.id: m for m in spec.models}
    geos = tuple(
        svc.demand.by_geography
        if isinstance(svc.demand, DemandTable)
        else svc.demand.base_by_geography
    )
    serving = _serving(models.get(svc.model), svc, inputs)
    rate = serving.rate
    options = set(svc.purchase_options) | {PurchaseOption.OWNED}
    masks: dict[str, Bool] = {
        "purchase-option": _options_mask(inputs.offerings, options)[:, None],
        "model-fit": serving.fits[:, None],
        "replica-topology": np.asarray((rate > 0).all(axis=1) | ~serving.fits, dtype=bool)[:, None],
        "residency": residency_mask(spec, svc.data_class, geo_regions)[:, None],
        "cloud_act_exclusion": cloud_act_mask(inputs, svc.data_class)[:, None],
        "exclusivity": exclusivity_mask(inputs, svc.model),
    }
    allowed = _combine(masks, len(inputs.offerings), len(inputs.periods))
    region_ok = np.zeros((len(regions), len(inputs.periods)), dtype=bool)
    np.logical_or.at(region_ok, region_of, allowed)
    return ServiceFacts(
        service=svc,
        geos=geos,
        demand=demand_requests_per_s(svc, inputs.periods),
        classes=tuple(c.name for c in svc.request_classes),
        shares=np.array([c.share for c in svc.request_classes], dtype=float),
        rate=rate,
        per_replica=serving.per_replica,
        replicas_per_node=serving.replicas_per_node,
        nodes_per_replica=serving.nodes_per_replica,
        source=serving.source,
        masks=masks,
        allowed=allowed,
        latency_ok=_latency_ok(svc, geos, spec, regions, inputs.catalog),
        region_ok=region_ok,
    )


def _job_facts(inputs: PlanInputs, job: TrainingJob, geo_regions: list[Region | None]) -> JobFacts:
    offerings = inputs.offerings
    options = {PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED}
    if job.preemptible:
        options.add(PurchaseOption.SPOT)
    wanted = {inputs.accelerator_name(a) or a for a in job.accelerators}
    start = job.start if job.start is not None else inputs.spec.horizon.start
    window = np.array([overlap_hours(p, start, job.deadline) for p in inputs.periods], dtype=float)
    per_node = np.zeros(len(offerings))
    for i, o in enumerate(offerings):
        if o.accelerator not in inputs.accelerators or o.accelerator not in wanted:
            continue
        useful = (
            spot_useful_fraction(o.interruptions_per_hour, job.checkpoint_interval_h, job.restart_h)
            if o.purchase_option == PurchaseOption.SPOT
            else 1.0
        )
        rate = work_per_accelerator_hour(
            job.work, inputs.accelerators[o.accelerator], inputs.accelerators
        )
        per_node[i] = o.accelerators_per_node * rate * useful
    masks: dict[str, Bool] = {
        "purchase-option": _options_mask(offerings, options)[:, None],
        "training-accelerator": np.array([o.accelerator in wanted for o in offerings], dtype=bool)[
            :, None
        ],
        # a gang spans nodes over a scale-out fabric, unless its largest size fits one node
        "training-fabric": np.array(
            [
                bool(o.fabric)
                or (
                    job.gang_max_accelerators is not None
                    and o.accelerators_per_node >= job.gang_max_accelerators
                )
                for o in offerings
            ],
            dtype=bool,
        )[:, None],
        "residency": residency_mask(inputs.spec, job.data_class, geo_regions)[:, None],
        "cloud_act_exclusion": cloud_act_mask(inputs, job.data_class)[:, None],
        "exclusivity": exclusivity_mask(inputs, job.model),
        "training-window": (window > 0)[None, :],
    }
    required = (
        job.work.accelerator_hours if isinstance(job.work, WorkAcceleratorHours) else job.work.flops
    )
    return JobFacts(
        job=job,
        required=required,
        work_per_node_hour=per_node,
        window_hours=window,
        masks=masks,
        allowed=_combine(masks, len(offerings), len(inputs.periods)),
    )


def _combine(masks: dict[str, Bool], n_o: int, n_t: int) -> Bool:
    allowed = np.ones((n_o, n_t), dtype=bool)
    for m in masks.values():
        allowed &= m
    return allowed


def derive_facts(inputs: PlanInputs) -> Facts:
    """Everything the checks compare a plan against."""
    offerings = inputs.offerings
    regions = tuple(sorted({o.region_id for o in offerings}))
    index = {r: i for i, r in enumerate(regions)}
    region_of = np.array([index[o.region_id] for o in offerings], dtype=np.int64)
    geo_regions = _region_facts(inputs.catalog, offerings)
    return Facts(
        inputs=inputs,
        hours=inputs.period_hours,
        labels=tuple(p.label for p in inputs.periods),
        regions=regions,
        region_of=region_of,
        provider_of=tuple(o.provider for o in offerings),
        accels_per_node=np.array([o.accelerators_per_node for o in offerings], dtype=float),
        price=np.array([o.price_usd_per_node_hour for o in offerings], dtype=float),
        services={
            s.id: _service_facts(inputs, s, regions, region_of, geo_regions)
            for s in inputs.spec.services
        },
        jobs={j.id: _job_facts(inputs, j, geo_regions) for j in inputs.spec.training},
    )


@dataclass(frozen=True)
class Cells:
    """The plan's allocations that name a known offering, period and workload, as arrays."""

    index: Int  # [A] position in plan.allocations
    is_training: Bool  # [A]
    workload: tuple[str, ...]  # [A]
    offering: Int  # [A]
    period: Int  # [A]
    nodes: Float  # [A]

    def active_hours(self, facts: Facts) -> Float:
        """[A]: the period's hours for a service, the window overlap for training."""
        hours = facts.hours[self.period].copy()
        for a in np.flatnonzero(self.is_training):
            hours[a] = facts.jobs[self.workload[a]].window_hours[self.period[a]]
        return hours
