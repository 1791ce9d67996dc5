"""The dive with reservation purchases: capacity columns are rounded after the nodes they hold."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from archipel.plan.dive import dive
from archipel.plan.lp.program import LinearProgram
from archipel.plan.solvers.highs import LPSession


def _lp(max_bought: float = np.inf) -> LinearProgram:
    """Columns b (nodes bought, 6 each), u1, u2 (nodes used on them, free per use), o1, o2
    (on-demand nodes, 10 each); rows: u1 + o1 ≥ 1.5 and u2 + o2 ≥ 1.5 (each workload needs one
    and a half nodes), u1 + u2 − b ≤ 0 (used ≤ bought), b ≤ max_bought. The relaxation buys 3
    and uses 1.5 twice: 18. In whole nodes: buy 4, use 2 twice: 24 (buy 3 and add one on demand:
    28; all on demand: 40)."""
    rows = [[0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [-1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]
    return LinearProgram(
        cost=np.array([6.0, 0.0, 0.0, 10.0, 10.0]),
        col_lower=np.zeros(5),
        col_upper=np.full(5, np.inf),
        integer=np.ones(5, bool),
        matrix=sp.csr_matrix(np.array(rows, dtype=float)),
        row_lower=np.array([1.5, 1.5, -np.inf, -np.inf]),
        row_upper=np.array([np.inf, np.inf, 0.0, max_bought]),
        offset=0.0,
        var_blocks={},
        row_blocks=(),
    )


def _dive(lp: LinearProgram, last: bool) -> np.ndarray:
    session = LPSession(lp)
    relaxed = session.solve()
    assert relaxed.objective == pytest.approx(18.0)
    mask = np.array([True, False, False, False, False]) if last else None
    out = dive(lp, relaxed, session, deadline=None, last=mask)
    assert out is not None and out.x is not None
    assert np.allclose(out.x, np.round(out.x))
    return out.x


def test_nodes_are_rounded_up_against_capacity_that_can_still_be_bought() -> None:
    """Rounded last, the purchase follows the whole nodes: 2 + 2 used, 4 bought, cost 24.
    Without that, rounding a node up looks like it breaks the capacity of 3 and is repaired
    down, which sends the rest on demand."""
    x = _dive(_lp(), last=True)
    assert x == pytest.approx([4, 2, 2, 0, 0])
    assert float(_lp().cost @ _dive(_lp(), last=False)) > 24.0


def test_a_purchase_at_its_limit_cannot_raise_the_capacity() -> None:
    """At most 3 bought: the limit holds and the nodes it cannot hold go on demand (the whole
    optimum is 28: buy 3, use 2 + 1, one node on demand)."""
    lp = _lp(max_bought=3.0)
    x = _dive(lp, last=True)
    act = lp.matrix @ x
    assert np.all(act >= lp.row_lower - 1e-9) and np.all(act <= lp.row_upper + 1e-9)
    assert x[0] <= 3.0 and float(lp.cost @ x) >= 28.0
