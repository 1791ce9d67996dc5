"""The greedy baseline: each workload takes its cheapest feasible offering, one at a time.

This is how SkyPilot and dstack place a task: per task, filter offerings by what the task can
say about itself (purchase option, residency, CLOUD Act, exclusivity, model fit, latency,
training accelerators and window), then take the cheapest. Here:

- a service, per period and geography, takes the cheapest allowed offering per request/s in a
  region within its latency SLO (or its ``serving_regions``), sized to serve the demand exactly;
- a training job takes the cheapest offering per unit of work, its work spread over its window
  periods in proportion to their active hours, within ``gang_max_accelerators``, topped up to
  ``gang_min_accelerators``, and in one region when ``single_region``;
- capacity (offering ``max_nodes`` and provider accelerator limits) is taken first come first
  served in spec order (services, then training jobs); an exhausted offering passes the rest of
  the need to the next cheapest.

It ignores the rules across workloads (survivability, diversification, minimum providers) and
commitments beyond pricing with contract discounts, so its plans are FEASIBLE at best: they
prove nothing about optimality. Its code shares nothing with the LP or the verifier.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import PurchaseOption
from archipel.geo import haversine_km, rtt_ms
from archipel.perf.accelerators import canonical_name
from archipel.perf.serving import node_requests_per_s, serving_profile
from archipel.perf.training import spot_useful_fraction, work_per_accelerator_hour
from archipel.plan.inputs import PlanInputs
from archipel.plan.result import Allocation, Blocker, ContractYear, Flow, Plan, Status
from archipel.spec.models import (
    CloudActExclusionRule,
    DemandTable,
    ExclusivityRule,
    InferenceService,
    ResidencyRule,
    TrainingJob,
    WorkAcceleratorHours,
)
from archipel.spec.periods import overlap_hours

F = NDArray[np.float64]
B = NDArray[np.bool_]
EPS = 1e-9

__all__ = ["plan_greedy"]


@dataclass
class _Book:
    """Capacity left, and what has been placed so far (local to one ``plan_greedy`` call)."""

    cap: F  # [O, T] nodes left
    limits: list[tuple[B, F]]  # per provider limit: offerings it covers, accelerators left [T]
    nodes: dict[tuple[str, str, int, int], float]  # (kind, workload, offering, period)
    flows: dict[tuple[str, str, str, int], float]  # (service, geography, region, period)

    def copy(self) -> _Book:
        return _Book(
            self.cap.copy(),
            [(m, left.copy()) for m, left in self.limits],
            dict(self.nodes),
            dict(self.flows),
        )

    def take(self, o: int, t: int, want: float, apn: float) -> float:
        """Take up to ``want`` nodes of offering o in period t; returns what was taken."""
        n = min(want, float(self.cap[o, t]))
        for m, left in self.limits:
            if m[o]:
                n = min(n, float(left[t]) / apn)
        n = max(0.0, n)
        self.cap[o, t] -= n
        for m, left in self.limits:
            if m[o]:
                left[t] -= n * apn
        return n


def _base_mask(inputs: PlanInputs, data_class: str | None, model: str | None) -> B:
    """[O, T]: residency, CLOUD Act and exclusivity allow the cell."""
    cat, offs, spec = inputs.catalog, inputs.offerings, inputs.spec
    ok = np.ones((len(offs), len(inputs.periods)), dtype=bool)
    for rule in spec.rules:
        if (
            isinstance(rule, ResidencyRule)
            and data_class is not None
            and rule.data_class == data_class
        ):
            for i, o in enumerate(offs):
                reg = cat.region(o.region_id) if cat.has_region(o.region_id) else None
                if reg is None or not (
                    set(reg.jurisdictions) & set(rule.jurisdictions)
                    or reg.country in rule.countries
                ):
                    ok[i] = False
        if isinstance(rule, CloudActExclusionRule) and data_class in rule.data_classes:
            ok &= np.array([not inputs.cloud_act.get(o.provider, True) for o in offs])[:, None]
        if isinstance(rule, ExclusivityRule) and model is not None and rule.model == model:
            until = dt.datetime.combine(rule.until, dt.time())
            early = np.array([p.start < until for p in inputs.periods])
            inside = np.array([o.provider in rule.providers for o in offs])
            ok &= inside[:, None] | ~early[None, :]
    return ok


def _effective_price(inputs: PlanInputs) -> tuple[F, NDArray[np.int64]]:
    """[O, T] price after the largest covering discount, and the contract receiving the spend."""
    offs = inputs.offerings
    price = np.array([o.price_usd_per_node_hour for o in offs])[:, None]
    disc = np.zeros((len(offs), len(inputs.periods)))
    owner = np.full(disc.shape, -1, dtype=np.int64)
    for ci, c in enumerate(inputs.spec.contracts):
        for ti, p in enumerate(inputs.periods):
            if not c.start <= p.start.date() < c.end:
                continue
            for oi, o in enumerate(offs):
                covers = o.provider == c.provider and (
                    c.regions is None or o.region_id in c.regions
                )
                better = owner[oi, ti] < 0 or c.discount_pct / 100 > disc[oi, ti]
                if covers and inputs.reserved_contract[oi] is None and better:
                    disc[oi, ti], owner[oi, ti] = c.discount_pct / 100, ci
    return price * (1 - disc), owner


def _demand(svc: InferenceService, inputs: PlanInputs) -> tuple[list[str], F]:
    pers = inputs.periods
    d = svc.demand
    if isinstance(d, DemandTable):
        geos = list(d.by_geography)
        rows = [
            [v[t] if t < len(v) else 0.0 for t in range(len(pers))] for v in d.by_geography.values()
        ]
    else:
        geos = list(d.base_by_geography)
        yrs = [(p.start - pers[0].start).days / 365.25 for p in pers]
        rows = [
            [b * (1 + d.growth_pct_per_year / 100) ** y for y in yrs]
            for b in d.base_by_geography.values()
        ]
    out = np.array(rows, dtype=float).reshape(len(geos), len(pers))
    return geos, out * svc.requests_per_unit()


def _place_service(
    inputs: PlanInputs, svc: InferenceService, price: F, book: _Book
) -> list[Blocker]:
    offs, spec = inputs.offerings, inputs.spec
    model = next((m for m in spec.models if m.id == svc.model), None)
    mix = np.zeros(len(offs))  # requests/s per node at the service's class mix
    for i, o in enumerate(offs):
        prof = (
            serving_profile(model, o.accelerator, svc.request_classes)
            if model is not None and canonical_name(o.accelerator) is not None
            else None
        )
        if prof is not None:
            rate = node_requests_per_s(prof, o.accelerators_per_node)
            mix[i] = 1.0 / sum(c.share / rate[c.name] for c in svc.request_classes)
    options = np.array([o.purchase_option in svc.purchase_options for o in offs])
    allowed = _base_mask(inputs, svc.data_class, svc.model) & (options & (mix > 0))[:, None]
    geos, demand = _demand(svc, inputs)
    points = {g.id: g for g in spec.geographies}
    regions = [
        inputs.catalog.region(o.region_id) if inputs.catalog.has_region(o.region_id) else None
        for o in offs
    ]
    lat = np.array([r.lat if r else np.nan for r in regions])
    lon = np.array([r.lon if r else np.nan for r in regions])
    blockers: list[Blocker] = []
    per_rps = np.where((mix > 0)[:, None], price / np.where(mix > 0, mix, 1.0)[:, None], np.inf)
    for gi, g in enumerate(geos):
        listed = (svc.serving_regions or {}).get(g)
        if listed is not None:
            near = np.array([o.region_id in listed for o in offs])
        elif g in points:
            rtt = rtt_ms(haversine_km(points[g].lat, points[g].lon, lat, lon))
            near = np.nan_to_num(rtt, nan=np.inf) <= svc.latency_slo_rtt_ms
        else:
            near = np.zeros(len(offs), dtype=bool)
        for t, p in enumerate(inputs.periods):
            need = float(demand[gi, t])
            cand = np.flatnonzero(allowed[:, t] & near)
            for o in cand[np.lexsort((cand, per_rps[cand, t]))]:
                if need <= EPS * max(1.0, float(demand[gi, t])):
                    break
                n = book.take(int(o), t, need / mix[o], offs[o].accelerators_per_node)
                if n > 0:
                    book.nodes["service", svc.id, int(o), t] = (
                        book.nodes.get(("service", svc.id, int(o), t), 0.0) + n
                    )
                    key = (svc.id, g, offs[o].region_id, t)
                    book.flows[key] = book.flows.get(key, 0.0) + n * mix[o]
                    need -= n * mix[o]
            if need > 1e-6 * max(1.0, float(demand[gi, t])):
                blockers.append(
                    Blocker(
                        family="service-demand-greedy",
                        entity=f"{svc.id}/{g}/{p.label}",
                        shortfall=need,
                        unit="requests/s",
                        description=f"service {svc.id}, geography {g}, period {p.label}: "
                        "no allowed offering within the latency SLO has capacity left for "
                        f"{need:.6g} of {demand[gi, t]:.6g} requests/s",
                    )
                )
    return blockers


def _job_rates(inputs: PlanInputs, job: TrainingJob) -> tuple[B, F, F]:
    """Allowed cells [O, T], work per node-hour [O], window hours [T]."""
    offs = inputs.offerings
    options = {PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED} | (
        {PurchaseOption.SPOT} if job.preemptible else set()
    )
    wanted = {canonical_name(a) or a for a in job.accelerators}
    start = job.start or inputs.spec.horizon.start
    window = np.array([overlap_hours(p, start, job.deadline) for p in inputs.periods])
    rate = np.zeros(len(offs))
    for i, o in enumerate(offs):
        if (
            o.purchase_option in options
            and (canonical_name(o.accelerator) or o.accelerator) in wanted
        ):
            useful = 1.0
            if o.purchase_option == PurchaseOption.SPOT:
                useful = spot_useful_fraction(
                    o.interruptions_per_hour, job.checkpoint_interval_h, job.restart_h
                )
            rate[i] = (
                o.accelerators_per_node
                * work_per_accelerator_hour(job.work, o.accelerator)
                * useful
            )
    allowed = (
        _base_mask(inputs, job.data_class, job.model) & (rate > 0)[:, None] & (window > 0)[None, :]
    )
    return allowed, rate, window


def _fill_job(
    inputs: PlanInputs, job: TrainingJob, cells: B, rate: F, window: F, cost: F, book: _Book
) -> float:
    """Place the job on ``cells`` in ``book``; returns the work left undone (0 on success)."""
    apn = np.array([o.accelerators_per_node for o in inputs.offerings], dtype=float)
    gmax = float(job.gang_max_accelerators) if job.gang_max_accelerators is not None else np.inf
    acc = np.zeros(len(window))
    required = (
        job.work.accelerator_hours if isinstance(job.work, WorkAcceleratorHours) else job.work.flops
    )
    active = np.flatnonzero(window > 0)

    def fill(t: int, work: float) -> float:
        cand = np.flatnonzero(cells[:, t])
        for o in cand[np.lexsort((cand, cost[cand, t]))]:
            if work <= EPS * required:
                break
            room = (gmax - acc[t]) / apn[o]
            n = book.take(int(o), t, min(work / (rate[o] * window[t]), max(0.0, room)), apn[o])
            if n > 0:
                key = ("training", job.id, int(o), t)
                book.nodes[key] = book.nodes.get(key, 0.0) + n
                acc[t] += n * apn[o]
                work -= n * rate[o] * window[t]
        return max(0.0, work)

    hours = window[active].sum()
    left = (
        sum(fill(int(t), required * window[t] / hours) for t in active) if hours > 0 else required
    )
    for ta in active:
        left = fill(int(ta), left)
    for t in (int(x) for x in active):  # top up to the gang minimum, cheapest first
        cand = np.flatnonzero(cells[:, t])
        for o in cand[np.lexsort((cand, cost[cand, t]))]:
            if acc[t] >= job.gang_min_accelerators - EPS:
                break
            n = book.take(int(o), t, (job.gang_min_accelerators - acc[t]) / apn[o], apn[o])
            key = ("training", job.id, int(o), t)
            book.nodes[key] = book.nodes.get(key, 0.0) + n
            acc[t] += n * apn[o]
        if acc[t] < job.gang_min_accelerators - 1e-6:
            return max(left, EPS * required + 1.0)
    return left


def _place_job(
    inputs: PlanInputs, job: TrainingJob, price: F, book: _Book
) -> tuple[_Book, list[Blocker]]:
    allowed, rate, window = _job_rates(inputs, job)
    cost = np.where(allowed, price / np.where(rate > 0, rate, 1.0)[:, None], np.inf)
    region_of = [o.region_id for o in inputs.offerings]
    if job.single_region:
        best: dict[str, float] = {}
        for o in np.flatnonzero(allowed.any(axis=1)):
            best[region_of[o]] = min(best.get(region_of[o], np.inf), float(cost[o].min()))
        groups = [
            np.array([r == reg for r in region_of])[:, None] & allowed
            for reg in sorted(best, key=lambda r: (best[r], r))
        ]
    else:
        groups = [allowed]
    required = (
        job.work.accelerator_hours if isinstance(job.work, WorkAcceleratorHours) else job.work.flops
    )
    left = required
    for cells in groups:
        trial = book.copy()
        left = _fill_job(inputs, job, cells, rate, window, cost, trial)
        if left <= 1e-6 * required:
            return trial, []
    where = "in any single region" if job.single_region else "across the allowed offerings"
    blocker = Blocker(
        family="training-work-greedy",
        entity=job.id,
        shortfall=left,
        unit="work",
        description=f"training job {job.id}: not enough allowed capacity in its window {where} "
        f"(gang limits included) for {left:.6g} of {required:.6g} units of work",
    )
    return book, [blocker]


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


def _assemble(inputs: PlanInputs, price: F, owner: NDArray[np.int64], book: _Book) -> Plan:
    offs, pers = inputs.offerings, inputs.periods
    windows = {j.id: _job_rates(inputs, j)[2] for j in inputs.spec.training}
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
        Flow(service=s, geography=g, region=r, period=t, requests_per_s=v)
        for (s, g, r, t), v in sorted(book.flows.items())
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


def _limits(inputs: PlanInputs) -> Iterable[tuple[B, F]]:
    for ps in inputs.spec.providers:
        for lim in ps.capacity:
            acc = canonical_name(lim.accelerator) or lim.accelerator if lim.accelerator else None
            m = np.array(
                [
                    o.provider == ps.id
                    and (lim.region is None or o.region_id == lim.region)
                    and (acc is None or o.accelerator == acc)
                    for o in inputs.offerings
                ]
            )
            yield m, np.full(len(inputs.periods), float(lim.max_accelerators))


def plan_greedy(inputs: PlanInputs) -> Plan:
    """Place every workload on its own cheapest feasible offerings (see the module docstring)."""
    price, owner = _effective_price(inputs)
    book = _Book(inputs.capacity_nodes.astype(float).copy(), list(_limits(inputs)), {}, {})
    blockers: list[Blocker] = []
    for svc in inputs.spec.services:
        blockers += _place_service(inputs, svc, price, book)
    for job in inputs.spec.training:
        book, found = _place_job(inputs, job, price, book)
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
