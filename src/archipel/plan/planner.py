"""Plan a fleet: prepare → build → solve → extract → verify. The one entry point for the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from archipel.catalog.model import Catalog
from archipel.plan.diagnose import explain
from archipel.plan.extract import binding_rules, to_plan
from archipel.plan.inputs import PlanInputs, prepare
from archipel.plan.lp.build import Built, build_lp
from archipel.plan.result import BindingRule, Plan, Status
from archipel.plan.solvers.highs import Outcome, Solution, solve
from archipel.spec.models import Spec

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanOptions:
    integer: bool = False  # whole nodes; the LP bound and gap are reported
    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-3  # relative; the LP bound and the gap are always reported
    rule_costs: bool = True  # re-solve without each rule to price it (small models only)
    rule_cost_max_columns: int = 50_000


def _status(sol: Solution) -> Status:
    return {
        Outcome.OPTIMAL: Status.OPTIMAL,
        Outcome.FEASIBLE: Status.FEASIBLE,
        Outcome.INFEASIBLE: Status.INFEASIBLE,
        Outcome.UNBOUNDED: Status.ERROR,
        Outcome.NO_SOLUTION: Status.TIME_LIMIT,
    }[sol.outcome]


def _duals(built: Built, sol: Solution) -> np.ndarray | None:
    """Row duals; for a MIP, of the LP with its integer columns fixed at the solution."""
    if sol.row_duals is not None or sol.x is None:
        return sol.row_duals
    lp = built.lp
    fixed = np.where(lp.integer, np.round(sol.x), np.nan)
    lo = np.where(lp.integer, fixed, lp.col_lower)
    hi = np.where(lp.integer, fixed, lp.col_upper)
    again = solve(replace(lp, col_lower=lo, col_upper=hi), integer=False)
    return again.row_duals


def plan_lp(inputs: PlanInputs, options: PlanOptions, progress: Progress | None = None) -> Plan:
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    say("building the linear program")
    built = build_lp(inputs, integer=options.integer)
    t_build = time.perf_counter() - t0
    say(f"solving: {built.lp.num_cols:,} variables, {built.lp.num_rows:,} constraints")
    lp_bound = None
    if options.integer and built.lp.integer.any():
        relaxed = solve(built.lp, integer=False, time_limit_s=options.time_limit_s)
        lp_bound = relaxed.objective
    left = options.time_limit_s
    if left is not None:  # one budget for the relaxation and the MIP together
        left = max(1.0, left - (time.perf_counter() - t0 - t_build))
    sol = solve(built.lp, integer=True, time_limit_s=left, mip_rel_gap=options.mip_rel_gap)
    t_solve = time.perf_counter() - t0 - t_build
    timings = {"build": t_build, "solve": t_solve}
    status = _status(sol)
    if sol.x is None:
        blockers = []
        if status == Status.INFEASIBLE:
            say("no plan exists: finding the smallest relaxation")
            blockers = explain(built, options.time_limit_s)
        msg = "no plan meets the spec" if status == Status.INFEASIBLE else sol.message
        return Plan(
            spec_name=inputs.spec.name,
            planner="lp",
            status=status,
            message=msg,
            infeasibility=blockers,
            periods=[p.label for p in inputs.periods],
            period_hours=inputs.period_hours.tolist(),
            timings_s=timings,
            catalog_sha256=inputs.catalog.manifest.content_sha256,
            stats={
                "variables": built.lp.num_cols,
                "constraints": built.lp.num_rows,
                "nonzeros": built.lp.nnz,
            },
        )
    say("extracting the plan")
    t1 = time.perf_counter()
    bound = sol.bound
    if lp_bound is not None:
        bound = max(bound or -np.inf, lp_bound)
    plan = to_plan(built, sol.x, status, bound, None, sol.message)
    duals = _duals(built, sol)
    rules = binding_rules(built, duals) if duals is not None else []
    if options.rule_costs and built.lp.num_cols <= options.rule_cost_max_columns:
        rules = _rule_costs(inputs, options, plan.objective_usd or 0.0) + rules
    gap = None
    if plan.objective_usd and bound is not None:
        gap = max(0.0, (plan.objective_usd - bound) / max(abs(plan.objective_usd), 1e-9))
    timings["extract"] = time.perf_counter() - t1
    return plan.model_copy(update={"binding_rules": rules, "gap": gap, "timings_s": timings})


def _rule_costs(inputs: PlanInputs, options: PlanOptions, objective: float) -> list[BindingRule]:
    """What each rule costs: the objective with it minus the objective without it."""
    out = []
    spec = inputs.spec
    for i, rule in enumerate(spec.rules):
        rest = [r for k, r in enumerate(spec.rules) if k != i]
        other = replace(inputs, spec=spec.model_copy(update={"rules": rest}))
        built = build_lp(other, integer=options.integer)
        sol = solve(
            built.lp,
            integer=True,
            time_limit_s=options.time_limit_s,
            mip_rel_gap=options.mip_rel_gap,
        )
        if sol.objective is None:
            continue
        delta = objective - sol.objective
        if abs(delta) <= 1e-6 * max(1.0, abs(objective)):
            continue
        out.append(
            BindingRule(
                family="rule",
                entity=f"rules[{i}] {rule.kind}",
                shadow_price_usd=delta,
                description=f"the plan costs this much more with the {rule.kind} rule than without it",
            )
        )
    return out


def make_plan(
    spec: Spec,
    catalog: Catalog,
    planner: Literal["lp", "greedy"] = "lp",
    options: PlanOptions | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Plan and verify. A plan that fails verification is returned with ``verified=False``."""
    from archipel.plan.greedy import plan_greedy
    from archipel.plan.verify import verify

    options = options or PlanOptions()
    inputs = prepare(spec, catalog)
    plan = plan_greedy(inputs) if planner == "greedy" else plan_lp(inputs, options, progress)
    if plan.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return plan
    if progress:
        progress("verifying the plan independently")
    t = time.perf_counter()
    report = verify(plan, inputs)
    timings = {**plan.timings_s, "verify": time.perf_counter() - t}
    return plan.model_copy(
        update={
            "verified": report.ok,
            "verification_problems": list(report.problems),
            "survivability": list(report.recomputed.survivability) if report.recomputed else [],
            "timings_s": timings,
        }
    )
