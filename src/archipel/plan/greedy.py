"""The greedy baseline: each workload takes its cheapest feasible offering, one at a time.

This is how SkyPilot and dstack place a task: per task, filter offerings by what the task can
say about itself (purchase option, residency, CLOUD Act, exclusivity, model fit, latency,
training accelerators and window), then take the cheapest. Here:

- a service, per period and geography, takes the cheapest allowed offering per request/s (at
  its class mix, derated by spot availability, plus what moving the requests' bytes between
  the geography and the region costs: :mod:`archipel.plan.greedy_egress`) in a region within
  its latency SLO (or its ``serving_regions``); the nodes an offering needs for all geographies are rounded up to whole
  nodes (or whole multi-node replicas); spot carries at most ``spot_max_share`` of peak demand;
- a training job takes the cheapest accelerator type (and region, when ``single_region``) per
  unit of work, on instance types with a fabric, its work spread over its window periods in
  proportion to their active hours, in whole nodes, within ``gang_max_accelerators``, topped up
  to ``gang_min_accelerators``;
- capacity (offering ``max_nodes`` and provider accelerator limits, with their windows and
  steps over time) is taken first come first served in spec order (services, then training
  jobs); an exhausted offering passes the rest of the need to the next cheapest.

It ignores the rules across workloads (survivability, diversification, minimum providers,
traffic ramps, migration limits) and commitments beyond pricing with contract discounts, and
never buys reservations (the offerings reservation options derive hold no capacity for it), so
its plans are FEASIBLE at best, and the verifier reports the rules they break: they prove
nothing about optimality. Its code shares nothing with the LP or the verifier.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.perf.serving import MAX_ACCELERATORS_PER_REPLICA, serving_profile
from archipel.plan.contract_books import assign_best, settle
from archipel.plan.greedy_book import EPS, B, Book, F, base_mask, effective_price, limits
from archipel.plan.greedy_egress import Transfer, averages, flow_costs, mix_cost
from archipel.plan.greedy_training import job_rates, place_job
from archipel.plan.inputs import PlanInputs, spec_sha256
from archipel.plan.result import Allocation, Blocker, Flow, Plan, Status
from archipel.spec.models import (
    DemandTable,
    InferenceService,
)

__all__ = ["plan_greedy"]


def _demand(svc: InferenceService, inputs: PlanInputs) -> tuple[list[str], F]:
    """Peak requests/s per geography and period (docs/semantics.md, Demand)."""
    pers = inputs.periods
    d = svc.demand
    if isinstance(d, DemandTable):
        geos = list(d.by_geography)
        rows = [
            [v[t] if t < len(v) else 0.0 for t in range(len(pers))] for v in d.by_geography.values()
        ]
    else:
        geos = list(d.base_by_geography)
        at = [p.end if d.growth_pct_per_year >= 0 else p.start for p in pers]
        yrs = [(x - pers[0].start) / dt.timedelta(days=365.25) for x in at]
        rows = [
            [b * (1 + d.growth_pct_per_year / 100) ** y for y in yrs]
            for b in d.base_by_geography.values()
        ]
    out = np.array(rows, dtype=float).reshape(len(geos), len(pers))
    return geos, out * svc.requests_per_unit() * svc.peak_factor


@dataclass(frozen=True)
class _Serving:
    mix: F  # [O] requests/s one node serves at the class mix (derated); 0: cannot host
    step: F  # [O] nodes per unit: 1, or the nodes of one multi-node replica
    replicas: F  # [O] replicas per node (fraction for a multi-node replica)
    k: dict[str, int]  # accelerator -> accelerators per replica
    source: dict[str, str]


def _serving(inputs: PlanInputs, svc: InferenceService) -> _Serving:
    offs, spec = inputs.offerings, inputs.spec
    model = next((m for m in spec.models if m.id == svc.model), None)
    out = _Serving(np.zeros(len(offs)), np.ones(len(offs)), np.zeros(len(offs)), {}, {})
    if model is None:
        return out
    for i, o in enumerate(offs):
        acc = inputs.accelerators.get(o.accelerator)
        span = model.multi_node_replicas and bool(o.fabric)
        cap = MAX_ACCELERATORS_PER_REPLICA if span else o.accelerators_per_node
        prof = (
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
        if prof is None:
            continue
        k = prof.accelerators_per_replica
        if o.accelerators_per_node >= k:
            out.replicas[i] = o.accelerators_per_node // k
        elif span:
            out.step[i] = -(-k // o.accelerators_per_node)
            out.replicas[i] = 1.0 / out.step[i]
        else:
            continue
        per_replica = svc.max_utilization / sum(
            c.share / prof.requests_per_s_per_replica[c.name] for c in svc.request_classes
        )
        out.mix[i] = out.replicas[i] * per_replica * o.availability
        out.k[o.accelerator] = k
        out.source[o.accelerator] = prof.source
    return out


def _near(inputs: PlanInputs, svc: InferenceService, g: str) -> B:
    """[O] offerings in regions within the SLO of geography g (or its serving_regions)."""
    offs, points = inputs.offerings, {x.id: x for x in inputs.spec.geographies}
    listed = (svc.serving_regions or {}).get(g)
    if listed is not None:
        return np.array([o.region_id in listed for o in offs], dtype=bool)
    if g not in points:
        return np.zeros(len(offs), dtype=bool)
    regions = [
        inputs.catalog.region(o.region_id) if inputs.catalog.has_region(o.region_id) else None
        for o in offs
    ]
    lat = np.array([r.lat if r else np.nan for r in regions])
    lon = np.array([r.lon if r else np.nan for r in regions])
    rtt = rtt_ms(haversine_km(points[g].lat, points[g].lon, lat, lon))
    return np.asarray(np.nan_to_num(rtt, nan=np.inf) <= svc.latency_slo_rtt_ms, dtype=bool)


def _place_service(
    inputs: PlanInputs, svc: InferenceService, price: F, book: Book
) -> list[Blocker]:
    offs = inputs.offerings
    sv = _serving(inputs, svc)
    options = np.array(
        [
            o.purchase_option in svc.purchase_options or o.purchase_option == PurchaseOption.OWNED
            for o in offs
        ]
    )
    allowed = base_mask(inputs, svc.data_class, svc.model) & (options & (sv.mix > 0))[:, None]
    spot = np.array([o.purchase_option == PurchaseOption.SPOT for o in offs], dtype=bool)
    geos, demand = _demand(svc, inputs)
    near = [_near(inputs, svc, g) for g in geos]
    blockers: list[Blocker] = []
    per_rps = np.where(
        (sv.mix > 0)[:, None], price / np.where(sv.mix > 0, sv.mix, 1.0)[:, None], np.inf
    )
    apn = np.array([o.accelerators_per_node for o in offs], dtype=float)
    # transfer cost per hour per peak request/s, per geography: [G][O, T]
    tr, hours = Transfer(inputs), np.array([p.hours for p in inputs.periods])
    moved = averages(inputs, svc) / hours
    transfer = [mix_cost(inputs, svc, g, tr)[:, None] * moved[None, :] for g in geos]
    for t, p in enumerate(inputs.periods):
        spot_left = svc.spot_max_share * float(demand[:, t].sum())
        spare = np.zeros(len(offs))  # requests/s free on nodes already taken this period
        for gi, g in enumerate(geos):
            need = float(demand[gi, t])
            cand = np.flatnonzero(allowed[:, t] & near[gi])
            cost = per_rps[cand, t] + transfer[gi][cand, t]
            for o in cand[np.lexsort((cand, cost))]:
                if need <= EPS * max(1.0, float(demand[gi, t])):
                    break
                cap = min(need, spot_left) if spot[o] else need
                use = min(cap, spare[o])
                if use < cap:
                    got = book.take(int(o), t, (cap - use) / sv.mix[o], apn[o], sv.step[o])
                    if got > 0:
                        key = ("service", svc.id, int(o), t)
                        book.nodes[key] = book.nodes.get(key, 0.0) + got
                        spare[o] += got * sv.mix[o]
                    use = min(cap, spare[o])
                if use <= 0:
                    continue
                spare[o] -= use
                need -= use
                if spot[o]:
                    spot_left -= use
                for c in svc.request_classes:
                    key2 = (svc.id, c.name, g, offs[o].region_id, t)
                    book.flows[key2] = book.flows.get(key2, 0.0) + use * c.share
            if need > 1e-6 * max(1.0, float(demand[gi, t])):
                blockers.append(
                    Blocker(
                        family="service-demand-greedy",
                        entity=f"{svc.id}/{g}/{p.label}",
                        shortfall=need,
                        unit="requests/s",
                        description=f"service {svc.id}, geography {g}, period {p.label}: "
                        "no allowed offering within the latency SLO has capacity left for "
                        f"{need:.6g} of {demand[gi, t]:.6g} peak requests/s",
                    )
                )
    return blockers


def _assemble(inputs: PlanInputs, book: Book) -> Plan:
    offs, pers = inputs.offerings, inputs.periods
    windows = {j.id: job_rates(inputs, j)[2] for j in inputs.spec.training}
    serving = {s.id: _serving(inputs, s) for s in inputs.spec.services}
    allocations: list[Allocation] = []
    by_period = inputs.reserved_fixed_usd.sum(axis=0).astype(float)
    by_provider: dict[str, float] = defaultdict(float)
    by_option: dict[str, float] = defaultdict(float)
    for (kind, w, oi, t), n in sorted(book.nodes.items(), key=lambda kv: kv[0]):
        if n <= 0:
            continue
        o = offs[oi]
        hours = float(pers[t].hours if kind == "service" else windows[w][t])
        cost = n * hours * o.price_usd_per_node_hour
        extra = {}
        if kind == "service":
            sv = serving[w]
            extra = {
                "replicas": n * float(sv.replicas[oi]),
                "accelerators_per_replica": sv.k.get(o.accelerator, 0),
                "nodes_per_replica": int(sv.step[oi]),
                "throughput_source": sv.source.get(o.accelerator, ""),
            }
        allocations.append(
            Allocation(
                workload=w,
                workload_kind="service" if kind == "service" else "training",
                provider=o.provider,
                region=o.region_id,
                instance_type=o.instance_type,
                accelerator=o.accelerator,
                purchase_option=str(o.purchase_option),
                offering_id=inputs.keys[oi],
                period=t,
                period_label=pers[t].label,
                nodes=n,
                accelerators=n * o.accelerators_per_node,
                hours=hours,
                cost_usd=cost,
                availability=o.availability,
                **extra,
            )
        )
    books = settle(inputs, assign_best(inputs, allocations))
    allocations = books.allocations
    for al in allocations:
        by_period[al.period] += al.cost_usd
        by_provider[al.provider] += al.cost_usd
        by_option[al.purchase_option] += al.cost_usd
    for fo in np.flatnonzero(inputs.reserved_fixed_usd.sum(axis=1) > 0).tolist():
        v = float(inputs.reserved_fixed_usd[fo].sum())
        by_provider[offs[fo].provider] += v
        by_option["reserved"] += v
    for prov, short in books.billed_by_provider.items():
        by_provider[prov] += short
    shortfall = sum(books.billed_by_provider.values())
    kept = {k: v for k, v in sorted(book.flows.items()) if v > 0}
    egress, egress_by_period, egress_by_payer = flow_costs(inputs, kept)
    by_period += egress_by_period
    for payer, usd in egress_by_payer.items():
        by_provider[payer] += usd
    flows = [
        Flow(
            service=s,
            request_class=c,
            geography=g,
            region=r,
            period=t,
            requests_per_s=v,
            egress_usd=egress[s, c, g, r, t],
        )
        for (s, c, g, r, t), v in kept.items()
    ]
    return Plan(
        spec_name=inputs.spec.name,
        planner="greedy",
        status=Status.FEASIBLE,
        message="greedy baseline: each workload on its cheapest feasible offerings; "
        "cross-workload rules ignored",
        objective_usd=float(sum(by_provider.values())),
        catalog_sha256=inputs.catalog.manifest.content_sha256,
        spec_sha256=spec_sha256(inputs.spec),
        periods=[p.label for p in pers],
        period_hours=[p.hours for p in pers],
        cost_by_provider_usd=dict(by_provider),
        cost_by_period_usd=[float(v) for v in by_period],
        cost_by_purchase_option_usd=dict(by_option),
        shortfall_usd=shortfall,
        reserved_fixed_usd=float(inputs.reserved_fixed_usd.sum()),
        egress_usd=float(egress_by_period.sum()),
        allocations=allocations,
        flows=flows,
        contracts=books.contracts,
        discount_usd=books.discount_usd,
        unused_commitment_usd=books.unused_usd,
    )


def plan_greedy(inputs: PlanInputs) -> Plan:
    """Place every workload on its own cheapest feasible offerings (see the module docstring)."""
    price = effective_price(inputs)
    capacity = inputs.capacity_nodes.astype(float).copy()
    capacity[inputs.reservable.offering] = 0.0  # greedy never buys reservations
    book = Book(capacity, list(limits(inputs)), {}, {})
    blockers: list[Blocker] = []
    for svc in inputs.spec.services:
        blockers += _place_service(inputs, svc, price, book)
    for job in inputs.spec.training:
        book, found = place_job(inputs, job, price, book)
        blockers += found
    if blockers:
        return Plan(
            spec_name=inputs.spec.name,
            planner="greedy",
            status=Status.INFEASIBLE,
            message="greedy could not place: " + "; ".join(b.description for b in blockers),
            catalog_sha256=inputs.catalog.manifest.content_sha256,
            periods=[p.label for p in inputs.periods],
            period_hours=[p.hours for p in inputs.periods],
            infeasibility=blockers,
        )
    return _assemble(inputs, book)
