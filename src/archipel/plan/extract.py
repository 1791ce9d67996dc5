"""Read a solution back into a :class:`Plan`: the *extract* step of build → solve → extract."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.build import Built
from archipel.plan.lp.shared import contract_years
from archipel.plan.result import Allocation, BindingRule, ContractYear, Flow, Plan, Status

TOL = 1e-9
# Families whose duals are mechanics of the model rather than rules a person chose.
# Scenario demand rows are kept: their duals price survivability.
_MECHANICS = ("service-demand-equal", "job-work-lower")
_INTERNAL = ("region-class-balance", "offering-load-upper", "job-region-link-upper")


def allocations(built: Built, x: NDArray[np.float64]) -> list[Allocation]:
    prob, inputs = built.problem, built.problem.inputs
    spec = inputs.spec
    labels = [p.label for p in inputs.periods]
    out: list[Allocation] = []
    parts = (
        (
            "service",
            built.n,
            built.serving.n_s,
            built.serving.n_o,
            built.serving.n_t,
            prob.hours[built.serving.n_t],
            built.serving.n_cost,
            [s.id for s in spec.services],
        ),
        (
            "training",
            built.y,
            built.training.y_j,
            built.training.y_o,
            built.training.y_t,
            built.training.y_hours,
            built.training.y_cost,
            [j.id for j in spec.training],
        ),
    )
    for kind, block, w, o, t, hours, cost, ids in parts:
        val = x[block.start : block.stop]
        for i in np.nonzero(val > TOL)[0]:
            off = inputs.offerings[o[i]]
            nodes = float(val[i])
            out.append(
                Allocation(
                    workload=ids[w[i]],
                    workload_kind=kind,
                    provider=off.provider,
                    region=off.region_id,
                    instance_type=off.instance_type,
                    accelerator=off.accelerator,
                    purchase_option=str(off.purchase_option),
                    offering_id=inputs.keys[o[i]],
                    period=int(t[i]),
                    period_label=labels[t[i]],
                    nodes=nodes,
                    accelerators=nodes * off.accelerators_per_node,
                    hours=float(hours[i]),
                    cost_usd=nodes * float(cost[i]),
                )
            )
    return out


def flows(built: Built, x: NDArray[np.float64]) -> list[Flow]:
    cells, prob = built.serving, built.problem
    svc_ids = [s.id for s in prob.inputs.spec.services]
    val = x[built.flow.start : built.flow.stop]
    return [
        Flow(
            service=svc_ids[cells.f_s[i]],
            geography=cells.geographies[cells.f_g[i]],
            region=prob.regions[cells.f_r[i]],
            period=int(cells.f_t[i]),
            requests_per_s=float(val[i]),
        )
        for i in np.nonzero(val > TOL)[0]
    ]


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


def to_plan(
    built: Built,
    x: NDArray[np.float64],
    status: Status,
    lower_bound: float | None,
    gap: float | None,
    message: str = "",
) -> Plan:
    prob, inputs = built.problem, built.problem.inputs
    spec = inputs.spec
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
        lower_bound_usd=lower_bound,
        gap=gap,
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
        stats={
            "variables": built.lp.num_cols,
            "constraints": built.lp.num_rows,
            "nonzeros": built.lp.nnz,
        },
    )
