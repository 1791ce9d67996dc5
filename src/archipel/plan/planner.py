"""Plan a fleet: prepare → build → solve → extract → verify. The one entry point for the CLI.

Solving (docs/semantics.md, "Solving"): the model splits into independent blocks
(:mod:`archipel.plan.lp.blocks`), each solved on its own. Per block, the LP relaxation gives the
lower bound and row duals; when integer columns come out fractional, a dive
(:mod:`archipel.plan.dive`) rounds and re-solves until they are whole; when that is not within
``mip_rel_gap`` of the bound, a MIP on the relaxation's support (or the full MIP for small
blocks) may do better. The plan reports the LP relaxation as its lower bound and the gap to it,
and is optimal when it is within the gap of the bounds proven for its blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import Catalog
from archipel.errors import SolverError
from archipel.plan.diagnose import explain
from archipel.plan.dive import decide_first, dive
from archipel.plan.extract import binding_rules, to_plan
from archipel.plan.inputs import PlanInputs, prepare, spec_sha256
from archipel.plan.lp.blocks import Block, independent_blocks, restrict
from archipel.plan.lp.build import SPEND_TIE_BREAK, Built, build_lp
from archipel.plan.lp.program import LinearProgram
from archipel.plan.result import Plan, Status
from archipel.plan.rule_costs import rule_costs
from archipel.plan.solvers.highs import LPSession, Outcome, Solution, solve
from archipel.spec.models import Spec

Progress = Callable[[str], None]
# A block with at most this many integer columns goes to the full MIP (fast at this size);
# larger ones get the dive and the support MIP, and the full MIP only when both fail (whole
# yearly blocks of frontier-lab, 2,000-2,800 integer columns, are slow as full MIPs).
SMALL_MIP_INTEGERS = 1000
Float = NDArray[np.float64]


@dataclass(frozen=True)
class PlanOptions:
    whole_nodes: bool = True  # False: the fractional view (LP optimum, nodes may be fractional)
    time_limit_s: float | None = None  # the whole solve; the best plan so far is kept
    mip_rel_gap: float = 1e-3  # relative to the bound of each block's MIP
    # MIP seconds per block after the dive when no overall time limit is given: a search that
    # has not closed its gap by then keeps its best plan, reported as feasible with its true gap
    block_mip_time_s: float = 30.0
    rule_costs: bool = True  # re-solve the relaxation without each rule to price it
    rule_cost_max_columns: int = 50_000


@dataclass
class _Solved:
    """The whole model's solution, assembled from its blocks."""

    x: Float
    duals: Float
    objective: float
    lp_bound: float
    outcome: Outcome
    blocks: int
    mip_blocks: int = 0
    messages: list[str] = field(default_factory=list)
    relaxation_feasible: bool = True  # False: some block's LP relaxation is infeasible


def _status(outcome: Outcome) -> Status:
    return {
        Outcome.OPTIMAL: Status.OPTIMAL,
        Outcome.FEASIBLE: Status.FEASIBLE,
        Outcome.INFEASIBLE: Status.INFEASIBLE,
        Outcome.UNBOUNDED: Status.ERROR,
        Outcome.NO_SOLUTION: Status.TIME_LIMIT,
    }[outcome]


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.5, deadline - time.perf_counter())


def _within(objective: float, bound: float, rel: float) -> bool:
    return objective - bound <= rel * max(abs(objective), 1e-9) + 1e-9


def _support_mip(
    sub: LinearProgram,
    x: Float,
    free: NDArray[np.bool_],
    options: PlanOptions,
    deadline: float | None,
) -> Solution | None:
    """Whole nodes on the relaxation's support: integer columns the relaxation leaves at 0 stay
    at 0 (except ``free`` ones: training nodes, gang choices and reservation purchases), the
    rest are chosen by the MIP solver — a small MIP, a restriction of the block, so its plans
    are feasible for it."""
    hi = sub.col_upper.copy()
    hi[sub.integer & (x <= 1e-9) & ~free] = 0.0
    sol = solve(
        replace(sub, col_upper=hi),
        integer=True,
        time_limit_s=_left(deadline),
        mip_rel_gap=options.mip_rel_gap,
    )
    return sol if sol.x is not None else None


def _best(*candidates: Solution | None) -> Solution | None:
    kept = [c for c in candidates if c is not None and c.objective is not None]
    return min(kept, key=lambda c: c.objective or 0.0) if kept else None


@dataclass(frozen=True)
class _Block:
    relaxed: Solution
    chosen: Solution
    used_mip: bool
    proven: float  # the best lower bound proven for the block: its relaxation, or a MIP's bound


def _solve_block(
    sub: LinearProgram,
    free: NDArray[np.bool_],
    options: PlanOptions,
    deadline: float | None,
    last: NDArray[np.bool_] | None = None,
    first: NDArray[np.bool_] | None = None,
) -> _Block:
    """The relaxation, the chosen solution and the proven bound of one block.

    Integer columns (whole nodes; gang and provider choices in any view): the dive from the
    relaxation when that is within the gap; else the better of the dive and a MIP on the
    relaxation's support; the full MIP for small blocks or when both fail. Every integer
    solution is checked against the relaxation's bound (a solver bug can break it). ``last``:
    the columns the dive rounds last (reservation purchases, :func:`archipel.plan.dive.dive`);
    ``first``: binary choices (a training run's chip and region) that a second dive decides
    first when the first dive, which rounds them with the nodes, finds no plan.
    """
    session = LPSession(sub)
    relaxed = session.solve(time_limit_s=_left(deadline))
    if relaxed.x is None or relaxed.objective is None or not sub.integer.any():
        return _Block(
            relaxed, relaxed, False, relaxed.bound if relaxed.bound is not None else -np.inf
        )
    if relaxed.outcome != Outcome.OPTIMAL:
        return _Block(relaxed, relaxed, False, -np.inf)
    vals = relaxed.x[sub.integer]
    if np.all(np.abs(vals - np.round(vals)) <= 1e-6):
        return _Block(relaxed, relaxed, False, relaxed.objective)
    dived = dive(sub, relaxed, session, deadline, last=last)  # bounded by its rounds
    if dived is None and first is not None and first.any():
        # the dive is path-dependent: again from the relaxation, the binary choices first
        # (a fresh session: the first dive left its bounds fixed)
        again = LPSession(sub)
        start = again.solve(time_limit_s=_left(deadline))
        if start.outcome == Outcome.OPTIMAL and start.x is not None:
            decided = decide_first(sub, start, again, first, deadline)
            if decided is not None:
                dived = dive(sub, decided, again, deadline, last=last)
    if dived is not None and _within(
        dived.objective or 0.0, relaxed.objective, options.mip_rel_gap
    ):
        return _Block(relaxed, dived, False, relaxed.objective)
    if deadline is None:  # no overall limit: each block's MIP search gets its budget
        deadline = time.perf_counter() + options.block_mip_time_s
    small = int(sub.integer.sum()) <= SMALL_MIP_INTEGERS
    support = None if small else _support_mip(sub, relaxed.x, free, options, deadline)
    chosen = _best(dived, support)
    proven = relaxed.objective  # the best bound proven for this block
    if chosen is None or small:
        full = solve(
            sub, integer=True, time_limit_s=_left(deadline), mip_rel_gap=options.mip_rel_gap
        )
        if full.bound is not None:
            proven = max(proven, full.bound)
        chosen = _best(full, chosen) or full
    if chosen.objective is None or chosen.x is None:
        return _Block(relaxed, chosen, True, proven)
    if chosen.objective < relaxed.objective - 1e-6 * max(1.0, abs(relaxed.objective)):
        raise SolverError(
            f"the solver returned a whole-node plan costing {chosen.objective:,.2f} USD, below "
            f"its own LP relaxation bound {relaxed.objective:,.2f} USD; this is a solver bug"
        )
    if _within(chosen.objective, proven, options.mip_rel_gap):
        return _Block(relaxed, replace(chosen, outcome=Outcome.OPTIMAL), True, proven)
    gap = (chosen.objective - proven) / max(abs(chosen.objective), 1e-9)
    message = f"a block's whole-node search stopped {gap:.2%} above its proven bound"
    return _Block(relaxed, replace(chosen, outcome=Outcome.FEASIBLE, message=message), True, proven)


def _solve(
    lp: LinearProgram,
    free: NDArray[np.bool_],
    options: PlanOptions,
    t0: float,
    say: Progress,
    last: NDArray[np.bool_] | None = None,
    first: NDArray[np.bool_] | None = None,
) -> _Solved:
    deadline = None if options.time_limit_s is None else t0 + options.time_limit_s
    blocks = independent_blocks(lp)
    x = np.where(lp.cost >= 0, lp.col_lower, lp.col_upper).astype(float)
    duals = np.zeros(lp.num_rows)
    total, bound = lp.offset, lp.offset
    proven = lp.offset
    notes: list[str] = []
    solved = _Solved(x, duals, 0.0, 0.0, Outcome.OPTIMAL, len(blocks))
    # rows that no column can satisfy are found first: a spec with an unservable demand is
    # declared infeasible without solving the rest
    big = sorted((b for b in blocks if b.rows.size), key=lambda b: b.cols.size > 0)
    lonely = [b for b in blocks if not b.rows.size]
    for b in lonely:
        total += float(lp.cost[b.cols] @ x[b.cols])
        bound += float(lp.cost[b.cols] @ x[b.cols])
        proven += float(lp.cost[b.cols] @ x[b.cols])
    for i, block in enumerate(big, 1):
        if len(big) > 1:
            say(f"solving block {i} of {len(big)}: {block.cols.size:,} variables")
        sub = restrict(lp, block)
        rounds_last = None if last is None else last[block.cols]
        rounds_first = None if first is None else first[block.cols]
        result = _solve_block(sub, free[block.cols], options, deadline, rounds_last, rounds_first)
        relaxed, chosen = result.relaxed, result.chosen
        solved.mip_blocks += result.used_mip
        if chosen.x is None:
            solved.outcome = (
                chosen.outcome if chosen.outcome != Outcome.OPTIMAL else Outcome.NO_SOLUTION
            )
            solved.relaxation_feasible = relaxed.outcome != Outcome.INFEASIBLE
            solved.messages.append(chosen.message)
            return solved
        x[block.cols] = chosen.x
        if relaxed.row_duals is not None:
            duals[block.rows] = relaxed.row_duals
        total += float(chosen.objective or 0.0)
        bound += float(relaxed.bound if relaxed.bound is not None else -np.inf)
        proven += result.proven
        if chosen.outcome == Outcome.FEASIBLE:
            notes.append(chosen.message)
    solved.x, solved.duals, solved.objective, solved.lp_bound = x, duals, total, bound
    # optimal when the whole plan is within the gap of the bounds proven for its blocks
    if not _within(total, proven, options.mip_rel_gap):
        solved.outcome = Outcome.FEASIBLE
        solved.messages.extend(sorted(set(notes)))
    return solved


def plan_lp(inputs: PlanInputs, options: PlanOptions, progress: Progress | None = None) -> Plan:
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    say("building the model")
    built = build_lp(inputs, integer=options.whole_nodes)
    t_build = time.perf_counter() - t0
    lp = built.lp
    say(f"solving: {lp.num_cols:,} variables, {lp.num_rows:,} constraints")
    free = np.zeros(lp.num_cols, dtype=bool)
    for name in ("nodes_training", "gang_choice", "reservation_buy"):
        if name in lp.var_blocks:
            free[lp.var_blocks[name].cols()] = True
    last = np.zeros(lp.num_cols, dtype=bool)  # reservations: rounded after the nodes they hold
    last[built.purchases.cols.cols()] = True
    first = np.zeros(lp.num_cols, dtype=bool)  # a training run's chip and region: decided first
    if "gang_choice" in lp.var_blocks:
        first[lp.var_blocks["gang_choice"].cols()] = True
    solved = _solve(lp, free, options, t0, say, last, first)
    t_solve = time.perf_counter() - t0 - t_build
    timings = {"build": t_build, "solve": t_solve}
    stats = {
        "variables": lp.num_cols,
        "constraints": lp.num_rows,
        "nonzeros": lp.nnz,
        "integer_variables": int(lp.integer.sum()),
        "blocks": solved.blocks,
        "mip_blocks": solved.mip_blocks,
    }
    status = _status(solved.outcome)
    if status in (Status.INFEASIBLE, Status.TIME_LIMIT, Status.ERROR):
        blockers = []
        msg = "; ".join(solved.messages) or status.value
        if status == Status.INFEASIBLE:
            say("no plan exists: finding the smallest relaxation")
            blockers = explain(built, options.time_limit_s)
            msg = "no plan meets the spec (" + (
                "no whole-node plan exists, though a fractional one does; the MIP proves it)"
                if solved.relaxation_feasible
                else "its LP relaxation is infeasible)"
            )
        elif status == Status.TIME_LIMIT:
            budget = (
                f"--time-limit {options.time_limit_s:g} s"
                if options.time_limit_s is not None
                else f"its {options.block_mip_time_s:g} s per block"
            )
            msg = (
                f"no whole-node plan found within {budget} ({msg}); a fractional plan exists: "
                "try a longer --time-limit, or --fractional for the LP view"
                if solved.relaxation_feasible
                else f"no plan found within {budget} ({msg})"
            )
        return Plan(
            spec_name=inputs.spec.name,
            planner="lp",
            status=status,
            message=msg,
            infeasibility=blockers,
            whole_nodes=options.whole_nodes,
            spec_sha256=spec_sha256(inputs.spec),
            periods=[p.label for p in inputs.periods],
            period_hours=inputs.period_hours.tolist(),
            timings_s=timings,
            catalog_sha256=inputs.catalog.manifest.content_sha256,
            stats=stats,
        )
    say("extracting the plan")
    t1 = time.perf_counter()
    plan = to_plan(built, solved.x, status, "; ".join(solved.messages))
    rules = binding_rules(built, solved.duals)
    timings["extract"] = time.perf_counter() - t1
    if options.rule_costs:
        say("pricing rules and contracts")
    t1 = time.perf_counter()
    costs = rule_costs(
        built,
        solved.duals,
        solved.lp_bound,
        resolve=options.rule_costs and lp.num_cols <= options.rule_cost_max_columns,
    )
    objective = plan.objective_usd or 0.0
    bound = solved.lp_bound / (1.0 + SPEND_TIE_BREAK)  # a bound on the true cost (build.py)
    gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
    timings["rule_costs"] = time.perf_counter() - t1
    return plan.model_copy(
        update={
            "binding_rules": rules,
            "rule_costs": costs,
            "whole_nodes": options.whole_nodes,
            "lower_bound_kind": "lp_relaxation" if lp.integer.any() else "lp_optimum",
            "lower_bound_usd": bound,
            "gap": gap,
            "timings_s": timings,
            "stats": stats,
            "spec_sha256": spec_sha256(inputs.spec),
        }
    )


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
    t = time.perf_counter()
    inputs = prepare(spec, catalog)
    t_prep = time.perf_counter() - t
    plan = plan_greedy(inputs) if planner == "greedy" else plan_lp(inputs, options, progress)
    plan = plan.model_copy(update={"timings_s": {"prepare": t_prep, **plan.timings_s}})
    if plan.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return plan
    if progress:
        progress("verifying the plan independently")
    t = time.perf_counter()
    report = verify(plan, inputs)
    timings = {**plan.timings_s, "verify": time.perf_counter() - t}
    return plan.model_copy(
        update={
            "verified": report.exact,
            "verification_problems": list(report.problems) + list(report.stale),
            "survivability": list(report.recomputed.survivability) if report.recomputed else [],
            "timings_s": timings,
        }
    )


__all__ = ["Block", "Built", "PlanOptions", "make_plan", "plan_lp"]
