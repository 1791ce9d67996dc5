"""The deployment table of one plan period: what the routing policy reads (docs/semantics.md,
"Routing policy").

One deployment per (service, region, offering) with replicas in the period, in the order of the
plan's allocations. Its facts come from the plan and the spec the plan was made from:

- ``rate[d, c]``: requests/s per replica per request class, from the plan's serving figures for
  the service on the offering's accelerator (0 where the plan gives none).
- ``rtt_ms[g, d]``: the planner's estimate from the geography's point to the region
  (:func:`archipel.geo.rtt_ms` of the haversine distance).
- ``weight[g, d]``: the plan's flows from geography ``g`` to the region, split over the service's
  deployments in that region in proportion to their capacity, then normalised per service.
- ``allowed[k, d]``: residency and CLOUD Act rules for data class ``k`` (computed here from the
  rules and the catalog's region facts, as ``plan.lp.problem.workload_mask`` does for those two
  rules; exclusivity and capacity windows are the planner's business, already in the plan).
  The last row (no data class) allows every deployment.
- ``tier[d]``: 0 where the deployment carries planned flow, 1 for capacity the plan holds
  without any (kept for peaks and failures, e.g. by a survivability rule).
- ``ramp[d]``: the ``max_share`` of the traffic-ramp step in force at the period's start for the
  service and the deployment's provider (the smallest when several rules apply), 1 where none.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.plan.inputs import PlanInputs, spec_sha256
from archipel.plan.result import Allocation, Plan
from archipel.route.types import BoolArray, DeploymentTable
from archipel.spec.rules import CloudActExclusionRule, ResidencyRule, TrafficRampRule


def data_classes(inputs: PlanInputs) -> tuple[str, ...]:
    """Every data class the spec names (services and rules), sorted."""
    spec = inputs.spec
    names = {s.data_class for s in spec.services if s.data_class is not None}
    for rule in spec.rules:
        if isinstance(rule, ResidencyRule):
            names.add(rule.data_class)
        elif isinstance(rule, CloudActExclusionRule):
            names.update(rule.data_classes)
    return tuple(sorted(names))


def allowed_mask(
    inputs: PlanInputs,
    classes: tuple[str, ...],
    regions: tuple[str, ...],
    providers: tuple[str, ...],
) -> BoolArray:
    """[K + 1, D]: deployment ``d`` (in ``regions[d]`` of ``providers[d]``) may serve data class
    ``classes[k]``; the last row stands for no data class and allows everything."""
    catalog = inputs.catalog
    region_objs = [catalog.region(r) for r in regions]
    exposed = np.array([inputs.cloud_act.get(p, False) for p in providers], dtype=bool)
    out = np.ones((len(classes) + 1, len(regions)), dtype=bool)
    for k, name in enumerate(classes):
        for rule in inputs.spec.rules:
            if isinstance(rule, ResidencyRule) and rule.data_class == name:
                out[k] &= np.array(
                    [
                        bool(set(r.jurisdictions) & set(rule.jurisdictions))
                        or r.country in rule.countries
                        for r in region_objs
                    ],
                    dtype=bool,
                )
            elif isinstance(rule, CloudActExclusionRule) and name in rule.data_classes:
                out[k] &= ~exposed
    return out


def _ramp_cap(inputs: PlanInputs, service: str, provider: str, start: dt.datetime) -> float:
    cap = 1.0
    for rule in inputs.spec.rules:
        if not (
            isinstance(rule, TrafficRampRule)
            and rule.service == service
            and rule.provider == provider
        ):
            continue
        in_force = None
        for step in rule.steps:
            if dt.datetime.combine(step.start, dt.time()) <= start:
                in_force = step
        if in_force is not None:
            cap = min(cap, in_force.max_share)
    return cap


def deployment_table(plan: Plan, inputs: PlanInputs, period: int) -> DeploymentTable:
    """The deployments of ``plan`` in ``period`` with their routing facts (module docstring).

    Raises ValueError for a plan of another spec, a period outside the horizon or a period in
    which the plan places no service replica."""
    spec = inputs.spec
    if plan.spec_sha256 != spec_sha256(spec):
        raise ValueError(
            f"plan {plan.spec_name!r} was made from another spec than {spec.name!r} "
            "(spec_sha256 differs): re-plan, or pass the spec the plan was made from"
        )
    if not 0 <= period < len(inputs.periods):
        raise ValueError(f"period {period} is outside the horizon (0..{len(inputs.periods) - 1})")
    label = inputs.periods[period].label
    groups: dict[tuple[str, str, str], list[Allocation]] = {}
    for a in plan.allocations:
        if a.period == period and a.workload_kind == "service" and a.replicas > 0:
            groups.setdefault((a.workload, a.region, a.offering_id), []).append(a)
    if not groups:
        raise ValueError(
            f"plan {plan.spec_name!r} has no service replicas in period {period} ({label}): "
            "nothing to route to"
        )

    services = tuple(s.id for s in spec.services)
    s_index = {s: i for i, s in enumerate(services)}
    classes_of = tuple(tuple(c.name for c in s.request_classes) for s in spec.services)
    geos = tuple(g.id for g in spec.geographies)
    g_index = {g: i for i, g in enumerate(geos)}
    figures = {(f.service, f.accelerator): f for f in plan.serving_figures}
    off_index = inputs.offering_index()

    keys = list(groups)
    n_d = len(keys)
    n_c = max((len(c) for c in classes_of), default=1)
    service = np.array([s_index[s] for s, _, _ in keys], dtype=np.int64)
    provider = tuple(groups[k][0].provider for k in keys)
    region = tuple(r for _, r, _ in keys)
    offering = tuple(o for _, _, o in keys)
    spot = np.array(
        [
            o in off_index and inputs.offerings[off_index[o]].purchase_option == PurchaseOption.SPOT
            for o in offering
        ],
        dtype=bool,
    )
    # whole replicas: at least one where the plan places any (the fractional view)
    replicas = np.array(
        [max(1, round(sum(a.replicas for a in groups[k]))) for k in keys], dtype=np.int64
    )
    rate = np.zeros((n_d, n_c))
    for d, k in enumerate(keys):
        fig = figures.get((k[0], groups[k][0].accelerator))
        if fig is not None:
            for c, name in enumerate(classes_of[service[d]]):
                rate[d, c] = fig.requests_per_s_per_replica.get(name, 0.0)
    # capacity of a deployment: replicas × the demand-weighted rate over its service's classes
    shares = [np.array([c.share for c in s.request_classes]) for s in spec.services]
    capacity = np.array(
        [
            replicas[d] * float(rate[d, : len(shares[service[d]])] @ shares[service[d]])
            for d in range(n_d)
        ]
    )

    catalog = inputs.catalog
    lat = np.array([catalog.region(r).lat for r in region])
    lon = np.array([catalog.region(r).lon for r in region])
    g_lat = np.array([g.lat for g in spec.geographies])
    g_lon = np.array([g.lon for g in spec.geographies])
    rtt = rtt_ms(haversine_km(g_lat[:, None], g_lon[:, None], lat[None, :], lon[None, :]))
    rtt = rtt.reshape(len(geos), n_d)

    # planned flow per (service, geography, region), split over the region's deployments by
    # capacity (equally where no capacity is known)
    weight = np.zeros((len(geos), n_d))
    for f in plan.flows:
        if f.period != period or f.service not in s_index or f.geography not in g_index:
            continue
        here = (service == s_index[f.service]) & (np.array(region) == f.region)
        if not here.any():
            continue
        cap = np.where(here, capacity, 0.0)
        split = cap / cap.sum() if cap.sum() > 0 else here / here.sum()
        weight[g_index[f.geography]] += f.requests_per_s * split
    tier = np.where(weight.sum(axis=0) > 0, 0, 1).astype(np.int64)
    for s in range(len(services)):
        cols = service == s
        total = weight[:, cols].sum(axis=1, keepdims=True)
        weight[:, cols] = np.divide(
            weight[:, cols], total, out=np.zeros_like(weight[:, cols]), where=total > 0
        )

    dcs = data_classes(inputs)
    start = inputs.periods[period].start
    ramp = np.array(
        [_ramp_cap(inputs, services[service[d]], provider[d], start) for d in range(n_d)]
    )
    return DeploymentTable(
        period=period,
        period_label=label,
        services=services,
        geographies=geos,
        data_classes=dcs,
        request_classes=classes_of,
        key=tuple(f"{s}/{r}/{o}" for s, r, o in keys),
        service=service,
        provider=provider,
        region=region,
        offering_id=offering,
        spot=spot,
        replicas=replicas,
        rate=rate,
        rtt_ms=rtt,
        weight=weight,
        allowed=allowed_mask(inputs, dcs, region, provider),
        tier=tier,
        ramp=ramp,
    )
