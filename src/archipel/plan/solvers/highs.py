"""The HiGHS adapter: the only module that imports a solver. One bulk hand-off, typed outcomes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import highspy
import numpy as np
from numpy.typing import NDArray

from archipel.errors import SolverError
from archipel.plan.lp.program import LinearProgram


class Outcome(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # stopped early (time limit) with a solution
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # stopped early without a solution


@dataclass(frozen=True)
class Solution:
    outcome: Outcome
    x: NDArray[np.float64] | None
    row_duals: NDArray[np.float64] | None
    objective: float | None
    bound: float | None
    gap: float | None
    is_mip: bool
    message: str
    seconds: float


def _to_highs(lp: LinearProgram, integer: bool) -> highspy.HighsLp:
    m = highspy.HighsLp()
    m.num_col_ = lp.num_cols
    m.num_row_ = lp.num_rows
    m.col_cost_ = lp.cost
    m.col_lower_ = lp.col_lower
    m.col_upper_ = lp.col_upper
    m.row_lower_ = lp.row_lower
    m.row_upper_ = lp.row_upper
    m.offset_ = lp.offset
    a = lp.matrix
    m.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    m.a_matrix_.num_col_ = lp.num_cols
    m.a_matrix_.num_row_ = lp.num_rows
    m.a_matrix_.start_ = a.indptr.astype(np.int32)
    m.a_matrix_.index_ = a.indices.astype(np.int32)
    m.a_matrix_.value_ = a.data
    if integer and lp.integer.any():
        kinds = np.where(
            lp.integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous)
        )
        m.integrality_ = [highspy.HighsVarType(int(k)) for k in kinds]
    return m


def solve(
    lp: LinearProgram,
    *,
    integer: bool = True,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 1e-4,
    threads: int | None = None,
    log: bool = False,
) -> Solution:
    """Solve ``lp``; integer columns are honoured when ``integer`` (else the LP relaxation)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", log)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if threads is not None:
        h.setOptionValue("threads", threads)
    is_mip = bool(integer and lp.integer.any())
    started = time.perf_counter()
    status = h.passModel(_to_highs(lp, integer))
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel failed); this is a bug in Archipel")
    h.run()
    seconds = time.perf_counter() - started
    ms = h.getModelStatus()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float) if has_sol else None
    duals = None
    if has_sol and not is_mip and sol.dual_valid:
        duals = np.asarray(sol.row_dual, dtype=float)
    text = h.modelStatusToString(ms)
    if ms == S.kOptimal:
        outcome = Outcome.OPTIMAL
    elif ms in (S.kInfeasible,):
        outcome = Outcome.INFEASIBLE
    elif ms in (S.kUnbounded, S.kUnboundedOrInfeasible):
        outcome = Outcome.INFEASIBLE if ms == S.kUnboundedOrInfeasible else Outcome.UNBOUNDED
    elif ms in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
        outcome = Outcome.FEASIBLE if has_sol else Outcome.NO_SOLUTION
    else:
        raise SolverError(f"HiGHS ended with status {text!r}; try again with --log to see why")
    objective = float(info.objective_function_value) if has_sol else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        gap = float(info.mip_gap) if has_sol and np.isfinite(info.mip_gap) else None
    else:
        bound = objective if outcome == Outcome.OPTIMAL else None
        gap = 0.0 if outcome == Outcome.OPTIMAL else None
    return Solution(outcome, x, duals, objective, bound, gap, is_mip, text, seconds)


def write_model(lp: LinearProgram, path: str, integer: bool = True) -> None:
    """Write the model in a format HiGHS infers from the suffix (.mps, .lp)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(_to_highs(lp, integer))
    h.writeModel(path)
