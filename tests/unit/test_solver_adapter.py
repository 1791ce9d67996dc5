"""The HiGHS adapter: interrupts, the banner dropped, bulk hand-off, empty models."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from archipel.plan.lp.program import LinearProgram
from archipel.plan.solvers import highs
from archipel.plan.solvers.highs import LPSession, Outcome, solve


class _Solver:
    """Stands in for highspy.Highs: its wait raises Ctrl-C once, then reports a finished solve."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.HandleUserInterrupt = False

    def startSolve(self) -> None:
        self.calls.append("start")

    def wait(self, timeout: float) -> tuple[bool, None]:
        self.calls.append("wait")
        if self.calls.count("wait") == 1:
            raise KeyboardInterrupt
        return True, None

    def cancelSolve(self) -> None:
        self.calls.append("cancel")


def test_ctrl_c_cancels_the_solve_and_goes_on_to_the_caller() -> None:
    fake = _Solver()
    with pytest.raises(KeyboardInterrupt):
        highs._run(fake)  # type: ignore[arg-type]
    assert fake.HandleUserInterrupt
    assert fake.calls == ["start", "wait", "cancel", "wait"]


def _lp(rows: int, lo: float) -> LinearProgram:
    return LinearProgram(
        cost=np.ones(0),
        col_lower=np.zeros(0),
        col_upper=np.zeros(0),
        integer=np.zeros(0, bool),
        matrix=sp.csr_matrix((rows, 0)),
        row_lower=np.full(rows, lo),
        row_upper=np.full(rows, np.inf),
        offset=5.0,
        var_blocks={},
        row_blocks=(),
    )


def test_a_model_without_columns_is_answered_without_the_solver() -> None:
    assert solve(_lp(2, 0.0)).outcome == Outcome.OPTIMAL
    assert solve(_lp(2, 0.0)).objective == 5.0
    assert solve(_lp(1, 3.0)).outcome == Outcome.INFEASIBLE


def test_the_solver_banner_never_reaches_stdout() -> None:
    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from archipel.plan.lp.program import LinearProgram\n"
        "from archipel.plan.solvers.highs import solve\n"
        "lp = LinearProgram(np.ones(1), np.zeros(1), np.full(1, 4.0), np.ones(1, bool),\n"
        "    sp.csr_matrix(np.ones((1, 1))), np.ones(1), np.full(1, np.inf), 0.0, {}, ())\n"
        "print(solve(lp).objective)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout == "1.0\n" and "HiGHS" not in out.stderr


def test_a_session_time_limit_counts_this_solve_not_the_sessions_past_ones() -> None:
    """HiGHS bounds an object's run time summed over all its runs; a dive re-solves one session
    a hundred times with the time left, so each solve must get the time left on top of what the
    session already ran. A limit of half the session's past solving time, several times one
    solve's, still lets the next solve finish."""
    rng = np.random.default_rng(3)
    n, m = 1500, 600
    a = (sp.random(m, n, density=0.01, random_state=rng) + sp.eye(m, n)).tocsr()
    lp = LinearProgram(
        cost=rng.random(n),
        col_lower=np.zeros(n),
        col_upper=np.full(n, 10.0),
        integer=np.zeros(n, bool),
        matrix=a,
        row_lower=np.ones(m),
        row_upper=np.full(m, np.inf),
        offset=0.0,
        var_blocks={},
        row_blocks=(),
    )
    session = LPSession(lp)
    for k in range(6):  # different costs: each solve does real work
        session._h.changeColsCost(n, np.arange(n, dtype=np.int32), rng.random(n))
        assert session.solve().outcome == Outcome.OPTIMAL, k
    past = session._h.getRunTime()
    session._h.changeColsCost(n, np.arange(n, dtype=np.int32), rng.random(n))
    assert session.solve(time_limit_s=past / 2).outcome == Outcome.OPTIMAL
