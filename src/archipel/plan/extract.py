"""Read a solution back into a :class:`Plan`: the *extract* step of build → solve → extract."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from archipel.plan.extract_reservations import add_purchase_spend, reservations_bought
from archipel.plan.lp.build import Built
from archipel.plan.lp.shared import contract_years
from archipel.plan.result import (
    Allocation,
    BindingRule,
    ContractYear,
    Flow,
    Plan,
    ServingFigure,
    Status,
)

TOL = 1e-9
# Families whose duals are mechanics of the model rather than rules a person chose.
# Scenario demand rows are kept: their duals price survivability.
_MECHANICS = ("service-demand-equal", "job-work-lower")
_INTERNAL = (
    "region-class-balance",
    "group-load-upper",
    "job-gang-link-upper",
    "job-gang-choice-equal",
    "job-choice-work-lower",
    "job-choice-gang-lower",
)


def _group_utilisation(built: Built, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """[cells] share of each unit cell's capacity group used in its period (base case)."""
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
        availability=off.availability,
        **serving,
    )


def allocations(built: Built, x: NDArray[np.float64]) -> list[Allocation]:
    prob, inputs = built.problem, built.problem.inputs
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
                replicas=float(units[i] * sc.n_replicas[i]),
                accelerators_per_replica=prof.accelerators_per_replica,
                nodes_per_replica=int(sc.n_nodes[i]),
                utilisation=float(util[i]),
                throughput_source=prof.source,
            )
        )
    job_ids = [j.id for j in spec.training]
    nodes_t = x[built.y.start : built.y.stop]
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
            )
        )
    return out


def flows(built: Built, x: NDArray[np.float64]) -> list[Flow]:
    cells, prob = built.serving, built.problem
    svc = prob.inputs.spec.services
    fi = built.flow_cells
    val = x[built.flow.start : built.flow.stop]
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
        if base in _INTERNAL or (base in _MECHANICS and "@" not in block.family):
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
    allocs = allocations(built, x)
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
    spent: dict[tuple[int, int], float] = {}
    idx = inputs.offering_index()
    for a in allocs:
        by_period[a.period] += a.cost_usd
        by_provider[a.provider] = by_provider.get(a.provider, 0.0) + a.cost_usd
        by_option[a.purchase_option] = by_option.get(a.purchase_option, 0.0) + a.cost_usd
        ci = int(prob.contract_of[idx[a.offering_id], a.period])
        if ci >= 0:
            key = (ci, int(prob.period_year[a.period]))
            spent[key] = spent.get(key, 0.0) + a.cost_usd
    add_purchase_spend(built, x, by_period, by_provider, by_option, spent)  # reservations
    rows: list[ContractYear] = []
    billed = 0.0
    for ci, y, committed, fixed_cy in contract_years(prob):
        c = spec.contracts[ci]
        s = spent.get((ci, y), 0.0) + fixed_cy
        short = committed - s
        short = (
            short if short > 1e-9 * max(1.0, committed) else 0.0
        )  # solver round-off is no shortfall
        rows.append(
            ContractYear(
                contract=c.id,
                provider=c.provider,
                year=y,
                committed_usd=committed,
                spent_usd=s,
                shortfall_usd=short,
                reserved_fixed_usd=fixed_cy,
            )
        )
        if c.take_or_pay and short > 0:
            billed += short
            by_provider[c.provider] = by_provider.get(c.provider, 0.0) + short
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
        allocations=allocs,
        flows=flows(built, x),
        contracts=rows,
        reservations=reservations_bought(built, x, allocs),
        serving_figures=serving_figures(built, allocs),
        stats={
            "variables": built.lp.num_cols,
            "constraints": built.lp.num_rows,
            "nonzeros": built.lp.nnz,
        },
    )
