"""The dive: whole numbers from a relaxed solution, repairing the limits rounding up breaks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from archipel.plan.dive import decide_first, dive
from archipel.plan.lp.program import LinearProgram
from archipel.plan.solvers.highs import LPSession


def _lp(
    cost: list[float], rows: list[list[float]], lo: list[float], hi: list[float]
) -> LinearProgram:
    n = len(cost)
    return LinearProgram(
        cost=np.array(cost),
        col_lower=np.zeros(n),
        col_upper=np.full(n, np.inf),
        integer=np.ones(n, bool),
        matrix=sp.csr_matrix(np.array(rows, dtype=float)),
        row_lower=np.array(lo),
        row_upper=np.array(hi),
        offset=0.0,
        var_blocks={},
        row_blocks=(),
    )


def _dive(lp: LinearProgram) -> np.ndarray:
    session = LPSession(lp)
    relaxed = session.solve()
    out = dive(lp, relaxed, session, deadline=None)
    assert out is not None and out.x is not None
    return out.x


def test_rounding_up_that_breaks_a_capacity_is_repaired() -> None:
    """min x1 + 2 x2 with 20 x1 + 20 x2 ≥ 30 (30 requests/s at 20 per node) and x1 ≤ 1.5 (a
    capacity of one and a half nodes): the relaxation takes x1 = 1.5; rounding it up breaks the
    capacity, so it is rounded down to 1 and the re-solve puts the rest on x2, which becomes 1:
    cost 3, the whole-number optimum."""
    lp = _lp([1.0, 2.0], [[20, 20], [1, 0]], [30, -np.inf], [np.inf, 1.5])
    assert _dive(lp) == pytest.approx([1.0, 1.0])


def test_a_fractional_choice_of_one_becomes_one_choice() -> None:
    """z1 + z2 = 1 with y1 ≤ 4 z1, y2 ≤ 4 z2, y1 + y2 ≥ 3 and y2 cheaper per unit but z2 dearer:
    whatever the relaxation mixes, the dive ends with exactly one z at 1 and y on its side."""
    # columns: z1, z2, y1, y2
    rows = [[1, 1, 0, 0], [-4, 0, 1, 0], [0, -4, 0, 1], [0, 0, 1, 1]]
    lp = _lp([10.0, 11.5, 1.0, 0.5], rows, [1, -np.inf, -np.inf, 3], [1, 0, 0, np.inf])
    x = _dive(lp)
    assert sorted(x[:2]) == pytest.approx([0.0, 1.0])
    chosen = int(np.argmax(x[:2]))
    assert x[2 + chosen] == pytest.approx(3.0) and x[3 - chosen] == pytest.approx(0.0)


def test_choices_first_fix_the_most_chosen_option_or_rule_it_out() -> None:
    """A run of 4 nodes in one of three regions (z1 + z2 + z3 = 1, y_r ≥ 4 z_r), with room for
    2, 2 and 4 nodes and the third region dearest: the relaxation splits the run over the two
    cheap regions (z = 0.5, 0.5, 0). Decided first, z1 = 1 leaves no plan, so z1 = 0; then
    z2 = 1 neither, so z2 = 0; the run goes whole to the third region."""
    # columns: z1, z2, z3, y1, y2, y3
    rows = [
        [1, 1, 1, 0, 0, 0],
        [-4, 0, 0, 1, 0, 0],
        [0, -4, 0, 0, 1, 0],
        [0, 0, -4, 0, 0, 1],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
    ]
    lo = [1, 0, 0, 0, -np.inf, -np.inf, -np.inf]
    hi = [1, np.inf, np.inf, np.inf, 2, 2, 4]
    lp = _lp([0.0, 0.0, 0.0, 1.0, 1.0, 3.0], rows, lo, hi)
    lp.col_upper[:3] = 1.0
    session = LPSession(lp)
    relaxed = session.solve()
    assert relaxed.x is not None and relaxed.x[:3] == pytest.approx([0.5, 0.5, 0.0])
    first = np.array([True, True, True, False, False, False])
    decided = decide_first(lp, relaxed, session, first, deadline=None)
    assert decided is not None
    out = dive(lp, decided, session, deadline=None)
    assert out is not None and out.x is not None
    assert out.x == pytest.approx([0.0, 0.0, 1.0, 0.0, 0.0, 4.0])
