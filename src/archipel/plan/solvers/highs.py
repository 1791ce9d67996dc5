"""The HiGHS adapter: the only module that imports a solver. One bulk hand-off, typed outcomes.

The model goes to HiGHS as arrays in one ``passModel`` call (CSR matrix, bounds, integrality).
HiGHS prints a banner on the process's standard output the first time a solver object is made;
it is dropped, so that ``--json`` output stays pure and standard error carries only what the
user needs (``archipel --version`` names the solver's version; ``--log`` shows HiGHS's own
log). Ctrl-C cancels a
running solve at once and raises ``KeyboardInterrupt`` (the CLI exits 130).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import highspy
import numpy as np
from numpy.typing import NDArray

from archipel.errors import SolverError
from archipel.plan.lp.program import LinearProgram

_ROWWISE = 2  # HighsMatrixFormat::kRowwise
_MINIMIZE = 1  # ObjSense::kMinimize


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
    bound: float | None  # a proven lower bound (the optimum for an LP, the dual bound for a MIP)
    gap: float | None
    is_mip: bool
    message: str
    seconds: float


@contextlib.contextmanager
def _stdout_dropped() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null for a moment (C code writes there directly)."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


@functools.cache
def _banner_shown() -> bool:
    """Make the process's first HiGHS object, whose banner is then dropped."""
    with _stdout_dropped():
        highspy.Highs()
    return True


def _new_highs(log: bool) -> highspy.Highs:
    _banner_shown()
    h = highspy.Highs()
    h.setOptionValue("output_flag", log)
    if log:
        h.setOptionValue("log_to_console", True)
    return h


def _pass(h: highspy.Highs, lp: LinearProgram, integer: bool) -> None:
    a = lp.matrix
    kinds = lp.integer.astype(np.int32) if integer else np.zeros(lp.num_cols, np.int32)
    status = h.passModel(
        lp.num_cols,
        lp.num_rows,
        int(a.nnz),
        _ROWWISE,
        _MINIMIZE,
        float(lp.offset),
        np.ascontiguousarray(lp.cost, dtype=np.float64),
        np.ascontiguousarray(lp.col_lower, dtype=np.float64),
        np.ascontiguousarray(lp.col_upper, dtype=np.float64),
        np.ascontiguousarray(lp.row_lower, dtype=np.float64),
        np.ascontiguousarray(lp.row_upper, dtype=np.float64),
        a.indptr.astype(np.int32, copy=False),
        a.indices.astype(np.int32, copy=False),
        np.ascontiguousarray(a.data, dtype=np.float64),
        kinds,
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel failed); this is a bug in Archipel")


def _empty(lp: LinearProgram, started: float) -> Solution:
    """A model without columns: feasible when every row admits 0."""
    ok = bool(np.all(lp.row_lower <= 1e-9) and np.all(lp.row_upper >= -1e-9))
    seconds = time.perf_counter() - started
    if not ok:
        return Solution(
            Outcome.INFEASIBLE, None, None, None, None, None, False, "Infeasible", seconds
        )
    return Solution(
        Outcome.OPTIMAL,
        np.zeros(0),
        np.zeros(lp.num_rows),
        lp.offset,
        lp.offset,
        0.0,
        False,
        "Optimal (no variables)",
        seconds,
    )


def solve(
    lp: LinearProgram,
    *,
    integer: bool = True,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 1e-3,
    threads: int | None = None,
    log: bool = False,
    start: NDArray[np.float64] | None = None,
) -> Solution:
    """Solve ``lp``; integer columns are honoured when ``integer`` (else the LP relaxation).

    ``start`` is a feasible point handed to the MIP solver as its first incumbent.
    """
    started = time.perf_counter()
    if lp.num_cols == 0:
        return _empty(lp, started)
    h = _new_highs(log)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if threads is not None:
        h.setOptionValue("threads", threads)
    is_mip = bool(integer and lp.integer.any())
    _pass(h, lp, integer)
    if is_mip and start is not None:
        h.setSolution(lp.num_cols, np.arange(lp.num_cols, dtype=np.int32), start)
    _run(h)
    seconds = time.perf_counter() - started
    return _read(h, is_mip, seconds)


def _run(h: highspy.Highs) -> None:
    """Solve in HiGHS's own thread, so that Ctrl-C reaches Python at once: the solve is then
    cancelled (HiGHS stops at its next check, within a fraction of a second) and
    ``KeyboardInterrupt`` goes on to the caller — no plan is made from an interrupted solve."""
    h.HandleUserInterrupt = True
    h.startSolve()
    try:
        while not h.wait(0.1)[0]:
            pass
    except KeyboardInterrupt:
        h.cancelSolve()
        while not h.wait(0.1)[0]:
            pass
        raise


def _read(h: highspy.Highs, is_mip: bool, seconds: float) -> Solution:
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
    elif ms == S.kInfeasible:
        outcome = Outcome.INFEASIBLE
    elif ms in (S.kUnbounded, S.kUnboundedOrInfeasible):
        outcome = Outcome.INFEASIBLE if ms == S.kUnboundedOrInfeasible else Outcome.UNBOUNDED
    elif ms in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
        outcome = Outcome.FEASIBLE if has_sol else Outcome.NO_SOLUTION
    else:
        raise SolverError(
            f"HiGHS ended with status {text!r}; this is a bug in Archipel or HiGHS "
            "(save the model with `archipel plan SPEC --write-model model.mps` and report it)"
        )
    objective = float(info.objective_function_value) if has_sol else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        gap = float(info.mip_gap) if has_sol and np.isfinite(info.mip_gap) else None
    else:
        bound = objective if outcome == Outcome.OPTIMAL else None
        gap = 0.0 if outcome == Outcome.OPTIMAL else None
    return Solution(outcome, x, duals, objective, bound, gap, is_mip, text, seconds)


class LPSession:
    """A model kept loaded in HiGHS as a linear program (integrality ignored): column bounds
    change and each solve starts from the previous basis, so a dive's re-solves cost a small
    fraction of the first solve."""

    def __init__(self, lp: LinearProgram, log: bool = False) -> None:
        self._h = _new_highs(log)
        self._cols = lp.num_cols
        if lp.num_cols:
            _pass(self._h, lp, integer=False)
        self._lp = lp

    def fix(
        self, cols: NDArray[np.int64], lower: NDArray[np.float64], upper: NDArray[np.float64]
    ) -> None:
        """Set the bounds of ``cols`` (for every later solve)."""
        if cols.size:
            self._h.changeColsBounds(
                int(cols.size),
                cols.astype(np.int32),
                np.ascontiguousarray(lower, dtype=np.float64),
                np.ascontiguousarray(upper, dtype=np.float64),
            )

    def solve(self, time_limit_s: float | None = None) -> Solution:
        started = time.perf_counter()
        if self._cols == 0:
            return _empty(self._lp, started)
        # HiGHS's time limit bounds the object's run time summed over every run, not this
        # run's: a session re-solved a hundred times in a dive would hit it early
        limit = np.inf if time_limit_s is None else max(time_limit_s, 0.01)
        self._h.setOptionValue("time_limit", float(self._h.getRunTime() + limit))
        _run(self._h)
        return _read(self._h, False, time.perf_counter() - started)


def write_model(lp: LinearProgram, path: str, integer: bool = True) -> None:
    """Write the model in a format HiGHS infers from the suffix (.mps, .lp)."""
    h = _new_highs(False)
    _pass(h, lp, integer)
    h.writeModel(path)
