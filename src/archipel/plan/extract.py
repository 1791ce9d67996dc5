"""Read a solution back into a :class:`Plan`: the *extract* step of build → solve → extract."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from archipel.plan.contract_books import settle
from archipel.plan.extract_reservations import add_purchase_spend, reservations_bought
from archipel.plan.lp.build import Built
from archipel.plan.lp.egress import EgressSpend, egress_spend
from archipel.plan.result import (
    Allocation,
    BindingRule,
    ContractShare,
    Flow,
    Plan,
    ServingFigure,
    Status,
)

TOL = 1e-9
# Families whose duals are mechanics of the model rather than rules a person chose.
# Scenario demand rows are kept: their duals price survivability.
MECHANICS = ("service-demand-equal", "job-work-lower")
# Families that only link the model's own columns (no rule or limit a person could relax).
INTERNAL = (
    "region-class-balance",
    "group-load-upper",
    "job-gang-link-upper",
    "job-gang-choice-equal",
    "job-choice-work-lower",
    "job-choice-gang-lower",
    "contract-scope-spend-upper",
    "contract-year-spend-equal",
    "tier-order",
)


def _group_utilisation(built: Built, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """[cells] share of each unit cell's capacity group used in its period (base case): of the
    planned capacity, throughput × the service's ``max_utilization`` (the headroom a service
    asks for is planned, not unused; physical utilisation is this × max_utilization)."""
    cells, car, T = built.serving, built.carriers, built.problem.num_periods
    Q = max(cells.q_s.size, 1)
    rate = cells.q_rate[car.group, cells.class_local[car.cls]] if car.col.size else np.zeros(0)
    load = np.bincount(car.group * T + car.t, weights=x[car.col] / rate, minlength=Q * T)
    units = x[built.n.start : built.n.stop]
    key = cells.n_group * T + cells.n_t
    cap = np.bincount(key, weights=units * cells.n_weight, minlength=Q * T)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cap[key] > 0, load[key] / cap[key], 0.0)
    return np.asarray(share, dtype=float)


def _allocation(
    built: Built,
    workload: str,
    kind: Literal["service", "training"],
    o: int,
    t: int,
    nodes: float,
    hours: float,
    cost: float,
    **serving: Any,
) -> Allocation:
    """An allocation of ``nodes`` of offering ``o`` in period ``t``; descriptive fields from the
    offering, ``serving`` figures (replicas, utilisation, …) for services."""
    inputs = built.problem.inputs
    off = inputs.offerings[o]
    return Allocation(
        workload=workload,
        workload_kind=kind,
        provider=off.provider,
        region=off.region_id,
        instance_type=off.instance_type,
        accelerator=off.accelerator,
        purchase_option=str(off.purchase_option),
        offering_id=inputs.keys[o],
        period=t,
        period_label=inputs.periods[t].label,
        nodes=nodes,
        accelerators=nodes * off.accelerators_per_node,
        hours=hours,
        cost_usd=cost,
        list_cost_usd=cost,
        availability=off.availability,
        **serving,
    )


def contract_shares(built: Built, x: NDArray[np.float64]) -> dict[int, list[ContractShare]]:
    """Per node-view entry with spend under contracts: its list-price spend counted toward each
    contract year — each group's counted spend split over its entries by their list spend."""
    k, v = built.contracts, built.view
    if k.z_group.size == 0:
        return {}
    spec = built.problem.inputs.spec
    gross = x[v.col] * v.cost
    inside = k.entry_group >= 0
    n_groups = int(max(k.z_group.max(), k.entry_group.max())) + 1
    group_total = np.bincount(k.entry_group[inside], weights=gross[inside], minlength=n_groups)
    zval = x[k.z.start : k.z.stop]
    per_group = np.zeros((n_groups, len(k.terms)))  # counted spend per group and year term
    np.add.at(per_group, (k.z_group, k.z_term), np.where(zval > TOL, zval, 0.0))
    rate = np.divide(
        per_group,
        group_total[:, None],
        out=np.zeros_like(per_group),
        where=group_total[:, None] > 0,
    )
    entries = np.flatnonzero(inside & (gross > 0))
    counted = rate[k.entry_group[entries]] * gross[entries, None]  # [entries, terms]
    names = [(spec.contracts[t.contract].id, t.year) for t in k.terms]
    out: dict[int, list[ContractShare]] = {}
    for row, e in zip(counted, entries.tolist(), strict=True):
        hit = np.flatnonzero(row > 0)
        if hit.size:
            out[e] = [
                ContractShare(contract=names[i][0], year=names[i][1], list_usd=float(row[i]))
                for i in hit.tolist()
            ]
    return out


def purchase_shares(
    built: Built, shares: dict[int, list[ContractShare]], n_node: int
) -> dict[int, list[ContractShare]]:
    """Per purchase column: its list spend counted toward each contract year (summed over the
    periods it covers)."""
    per: dict[int, dict[tuple[str, int], float]] = {}
    cover_b = built.purchases.cover_b
    for e, items in shares.items():
        if e < n_node:
            continue
        d = per.setdefault(int(cover_b[e - n_node]), {})
        for sh in items:
            d[sh.contract, sh.year] = d.get((sh.contract, sh.year), 0.0) + sh.list_usd
    return {
        c: [ContractShare(contract=k[0], year=k[1], list_usd=v) for k, v in sorted(d.items())]
        for c, d in per.items()
    }


def allocations(
    built: Built, x: NDArray[np.float64], shares: dict[int, list[ContractShare]] | None = None
) -> list[Allocation]:
    """The plan's allocations at list price, each with the contract years its spend counts
    toward (``settle`` then applies the discounts)."""
    prob, inputs = built.problem, built.problem.inputs
    shares = contract_shares(built, x) if shares is None else shares
    spec = inputs.spec
    out: list[Allocation] = []
    sc, tc = built.serving, built.training
    svc_ids = [s.id for s in spec.services]
    units = x[built.n.start : built.n.stop]
    util = _group_utilisation(built, x)
    for i in np.nonzero(units > TOL)[0]:
        prof = sc.q_profile[sc.n_group[i]]
        out.append(
            _allocation(
                built,
                svc_ids[sc.n_s[i]],
                "service",
                int(sc.n_o[i]),
                int(sc.n_t[i]),
                float(units[i] * sc.n_nodes[i]),
                float(prob.hours[sc.n_t[i]]),
                float(units[i] * sc.n_cost[i]),
                contract_spend=shares.get(int(i), []),
                replicas=float(units[i] * sc.n_replicas[i]),
                accelerators_per_replica=prof.accelerators_per_replica,
                nodes_per_replica=int(sc.n_nodes[i]),
                utilisation=float(util[i]),
                throughput_source=prof.source,
            )
        )
    job_ids = [j.id for j in spec.training]
    nodes_t = x[built.y.start : built.y.stop]
    n_units = units.size
    for i in np.nonzero(nodes_t > TOL)[0]:
        nodes = float(nodes_t[i])
        out.append(
            _allocation(
                built,
                job_ids[tc.y_j[i]],
                "training",
                int(tc.y_o[i]),
                int(tc.y_t[i]),
                nodes,
                float(tc.y_hours[i]),
                nodes * float(tc.y_cost[i]),
                contract_spend=shares.get(n_units + int(i), []),
            )
        )
    return out


def egress(built: Built, x: NDArray[np.float64]) -> EgressSpend:
    """Network cost of the base flows the plan reports (those above ``TOL``)."""
    fi = built.flow_cells
    val = x[built.flow.start : built.flow.stop]
    val = np.where(val > TOL, val, 0.0)
    T = built.problem.num_periods
    return egress_spend(built.egress, fi, built.serving.f_t[fi], val, T)


def flows(built: Built, x: NDArray[np.float64]) -> list[Flow]:
    cells, prob = built.serving, built.problem
    svc = prob.inputs.spec.services
    fi = built.flow_cells
    val = x[built.flow.start : built.flow.stop]
    usd = egress(built, x).per_flow
    out = []
    for k in np.nonzero(val > TOL)[0]:
        i = fi[k]
        s = int(cells.f_s[i])
        c = int(cells.class_local[cells.f_c[i]])
        out.append(
            Flow(
                service=svc[s].id,
                request_class=svc[s].request_classes[c].name,
                geography=cells.geographies[cells.f_g[i]],
                region=prob.regions[cells.f_r[i]],
                period=int(cells.f_t[i]),
                requests_per_s=float(val[k]),
                egress_usd=float(usd[k]),
            )
        )
    return out


def serving_figures(built: Built, allocs: list[Allocation]) -> list[ServingFigure]:
    """Replica size and requests/s per replica of each (service, accelerator) the plan uses."""
    cells = built.serving
    svc = built.problem.inputs.spec.services
    used = {(a.workload, a.accelerator) for a in allocs if a.workload_kind == "service"}
    seen: dict[tuple[str, str], ServingFigure] = {}
    for q, prof in enumerate(cells.q_profile):
        sid = svc[cells.q_s[q]].id
        key = (sid, prof.accelerator)
        if key in used and key not in seen:
            seen[key] = ServingFigure(
                service=sid,
                accelerator=prof.accelerator,
                accelerators_per_replica=prof.accelerators_per_replica,
                requests_per_s_per_replica=dict(prof.requests_per_s_per_replica),
                source=prof.source,
            )
    return [seen[k] for k in sorted(seen)]


def binding_rules(built: Built, duals: NDArray[np.float64], limit: int = 40) -> list[BindingRule]:
    out: list[BindingRule] = []
    for block in built.lp.row_blocks:
        base = block.family.split("@", 1)[0]
        if base in INTERNAL or (base in MECHANICS and "@" not in block.family):
            continue
        d = duals[block.start : block.start + block.size]
        hit = np.nonzero(np.abs(d) > 1e-7)[0]
        if hit.size == 0:
            continue
        hit = hit[np.argsort(-np.abs(d[hit]))][:limit]
        for i, name in zip(hit, block.label(hit), strict=True):
            out.append(
                BindingRule(
                    family=block.family,
                    entity=name,
                    shadow_price_usd=float(d[i]),
                    description=block.description,
                )
            )
    out.sort(key=lambda r: -abs(r.shadow_price_usd))
    return out[:limit]


def to_plan(built: Built, x: NDArray[np.float64], status: Status, message: str = "") -> Plan:
    """The plan a solution describes; integer columns within 1e-6 of a whole number are rounded."""
    prob, inputs = built.problem, built.problem.inputs
    spec = inputs.spec
    lp = built.lp
    near = lp.integer & (np.abs(x - np.round(x)) <= 1e-6)
    x = np.where(near, np.round(x), x)
    k = built.contracts
    carry = x[k.carry.start : k.carry.stop]
    hourly = {
        spec.contracts[int(c)].id: float(v)
        for c, v in zip(k.hourly_contract, x[k.hourly.start : k.hourly.stop], strict=True)
    }
    shares = contract_shares(built, x)
    plain = allocations(built, x, shares)
    n_node = built.n.size + built.y.size  # the view's node entries; purchases' spend after
    bought = reservations_bought(built, x, plain, purchase_shares(built, shares, n_node))
    books = settle(
        inputs,
        plain,
        {i: float(c) for i, c in enumerate(carry) if c > TOL},
        hourly,
        bought,
    )
    allocs = books.allocations
    T = prob.num_periods
    fixed = inputs.reserved_fixed_usd
    by_period = fixed.sum(axis=0).copy() if fixed.size else np.zeros(T)
    by_provider: dict[str, float] = {}
    by_option: dict[str, float] = {}
    for o, off in enumerate(inputs.offerings):
        f = float(fixed[o].sum())
        if f > 0:
            by_provider[off.provider] = by_provider.get(off.provider, 0.0) + f
            by_option["reserved"] = by_option.get("reserved", 0.0) + f
    for a in allocs:
        by_period[a.period] += a.cost_usd
        by_provider[a.provider] = by_provider.get(a.provider, 0.0) + a.cost_usd
        by_option[a.purchase_option] = by_option.get(a.purchase_option, 0.0) + a.cost_usd
    network = egress(built, x)
    by_period += network.by_period
    for p, usd in network.by_provider.items():
        by_provider[p] = by_provider.get(p, 0.0) + usd
    add_purchase_spend(built, x, by_period, by_provider, by_option)  # reservations bought
    for p, short in books.billed_by_provider.items():
        by_provider[p] = by_provider.get(p, 0.0) + short
    billed = sum(books.billed_by_provider.values())
    objective = float(by_period.sum()) + billed
    return Plan(
        spec_name=spec.name,
        planner="lp",
        status=status,
        message=message,
        objective_usd=objective,
        catalog_sha256=inputs.catalog.manifest.content_sha256,
        periods=[p.label for p in inputs.periods],
        period_hours=prob.hours.tolist(),
        cost_by_provider_usd=dict(sorted(by_provider.items())),
        cost_by_period_usd=by_period.tolist(),
        cost_by_purchase_option_usd=dict(sorted(by_option.items())),
        shortfall_usd=billed,
        reserved_fixed_usd=float(fixed.sum()),
        egress_usd=float(network.by_period.sum()),
        allocations=allocs,
        flows=flows(built, x),
        contracts=books.contracts,
        discount_usd=books.discount_usd,
        unused_commitment_usd=books.unused_usd,
        savings_plans_usd_per_hour=hourly,
        reservations=bought,
        serving_figures=serving_figures(built, allocs),
        stats={
            "variables": built.lp.num_cols,
            "constraints": built.lp.num_rows,
            "nonzeros": built.lp.nnz,
        },
    )
