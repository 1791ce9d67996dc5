"""The greedy baseline: each workload takes its cheapest feasible offering, one at a time.

This is how SkyPilot and dstack place a task: per task, filter offerings by what the task can
say about itself (purchase option, residency, CLOUD Act, exclusivity, model fit, latency,
training accelerators and window), then take the cheapest. Here:

- a service, per period and geography, takes the cheapest allowed offering per request/s (at
  its class mix, derated by spot availability) in a region within its latency SLO (or its
  ``serving_regions``); the nodes an offering needs for all geographies are rounded up to whole
  nodes (or whole multi-node replicas); spot carries at most ``spot_max_share`` of peak demand;
- a training job takes the cheapest accelerator type (and region, when ``single_region``) per
  unit of work, on instance types with a fabric, its work spread over its window periods in
  proportion to their active hours, in whole nodes, within ``gang_max_accelerators``, topped up
  to ``gang_min_accelerators``;
- capacity (offering ``max_nodes`` and provider accelerator limits) is taken first come first
  served in spec order (services, then training jobs); an exhausted offering passes the rest of
  the need to the next cheapest.

It ignores the rules across workloads (survivability, diversification, minimum providers) and
commitments beyond pricing with contract discounts, and never buys reservations (the offerings
reservation options derive hold no capacity for it), so its plans are FEASIBLE at best: they
prove nothing about optimality. Its code shares nothing with the LP or the verifier.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.perf.serving import MAX_ACCELERATORS_PER_REPLICA, serving_profile
from archipel.plan.greedy_book import EPS, B, Book, F, base_mask, effective_price, limits
from archipel.plan.greedy_training import job_rates, place_job
from archipel.plan.inputs import PlanInputs, spec_sha256
from archipel.plan.result import Allocation, Blocker, ContractYear, Flow, Plan, Status
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
        per_replica = 1.0 / sum(
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
    for t, p in enumerate(inputs.periods):
        spot_left = svc.spot_max_share * float(demand[:, t].sum())
        spare = np.zeros(len(offs))  # requests/s free on nodes already taken this period
        for gi, g in enumerate(geos):
            need = float(demand[gi, t])
            cand = np.flatnonzero(allowed[:, t] & near[gi])
            for o in cand[np.lexsort((cand, per_rps[cand, t]))]:
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


def _contract_rows(
    inputs: PlanInputs, spent: dict[tuple[int, int], float], fixed: dict[tuple[int, int], float]
) -> list[ContractYear]:
    pers = inputs.periods
    h0, h1 = pers[0].start, pers[-1].end
    rows = []
    for ci, c in enumerate(inputs.spec.contracts):
        a, b = (
            max(dt.datetime.combine(c.start, dt.time()), h0),
            min(dt.datetime.combine(c.end, dt.time()), h1),
        )
        committed: dict[int, float] = {}
        for y in range(a.year, b.year + 1):
            ys, ye = dt.datetime(y, 1, 1), dt.datetime(y + 1, 1, 1)
            inside = (min(b, ye) - max(a, ys)).total_seconds()
            if inside > 0:
                committed[y] = c.committed_usd_per_year * inside / (ye - ys).total_seconds()
        for y in sorted(set(committed) | {yy for cc, yy in spent if cc == ci}):
            s = spent.get((ci, y), 0.0)
            rows.append(
                ContractYear(
                    contract=c.id,
                    provider=c.provider,
                    year=y,
                    committed_usd=committed.get(y, 0.0),
                    spent_usd=s,
                    shortfall_usd=max(0.0, committed.get(y, 0.0) - s),
                    reserved_fixed_usd=fixed.get((ci, y), 0.0),
                )
            )
    return rows


def _assemble(inputs: PlanInputs, price: F, owner: NDArray[np.int64], book: Book) -> Plan:
    offs, pers = inputs.offerings, inputs.periods
    windows = {j.id: job_rates(inputs, j)[2] for j in inputs.spec.training}
    serving = {s.id: _serving(inputs, s) for s in inputs.spec.services}
    allocations: list[Allocation] = []
    by_period = inputs.reserved_fixed_usd.sum(axis=0).astype(float)
    by_provider: dict[str, float] = defaultdict(float)
    by_option: dict[str, float] = defaultdict(float)
    spent: dict[tuple[int, int], float] = defaultdict(float)
    fixed_by: dict[tuple[int, int], float] = defaultdict(float)
    for (kind, w, oi, t), n in sorted(book.nodes.items(), key=lambda kv: kv[0]):
        if n <= 0:
            continue
        o = offs[oi]
        hours = float(pers[t].hours if kind == "service" else windows[w][t])
        cost = n * hours * float(price[oi, t])
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
        by_period[t] += cost
        by_provider[o.provider] += cost
        by_option[str(o.purchase_option)] += cost
        if owner[oi, t] >= 0:
            spent[int(owner[oi, t]), pers[t].year] += cost
    ids = {c.id: i for i, c in reversed(list(enumerate(inputs.spec.contracts)))}
    for oi, cid in enumerate(inputs.reserved_contract):
        for ti in np.flatnonzero(inputs.reserved_fixed_usd[oi] > 0):
            v = float(inputs.reserved_fixed_usd[oi, ti])
            by_provider[offs[oi].provider] += v
            by_option["reserved"] += v
            if cid in ids:
                spent[ids[cid], pers[ti].year] += v
                fixed_by[ids[cid], pers[ti].year] += v
    rows = _contract_rows(inputs, spent, fixed_by)
    take_or_pay = {c.id: c.take_or_pay for c in inputs.spec.contracts}
    shortfall = 0.0
    for r in rows:
        if take_or_pay[r.contract] and r.shortfall_usd > 0:
            shortfall += r.shortfall_usd
            by_provider[r.provider] += r.shortfall_usd
    flows = [
        Flow(service=s, request_class=c, geography=g, region=r, period=t, requests_per_s=v)
        for (s, c, g, r, t), v in sorted(book.flows.items())
        if v > 0
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
        allocations=allocations,
        flows=flows,
        contracts=rows,
    )


def plan_greedy(inputs: PlanInputs) -> Plan:
    """Place every workload on its own cheapest feasible offerings (see the module docstring)."""
    price, owner = effective_price(inputs)
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
    return _assemble(inputs, price, owner, book)
