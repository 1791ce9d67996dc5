"""Whole nodes from a relaxed plan by diving: round, repair what rounding breaks, re-solve.

Each round takes the integer columns the relaxation leaves fractional that are nearest to a
whole number and fixes them there — rounded down, or up, except where rounding up would break
an upper limit (an offering's capacity, a provider limit, a gang's size, a choice of exactly
one region or chip): there the columns with the smallest fractional parts are rounded down
until the limit holds. The rest of the model (flows, loads, the other columns) is re-solved as
a linear program, warm-started from the previous basis, so load moves from nodes rounded down
to the spare capacity of nodes rounded up, and the next round fixes what is still fractional.
Every round fixes at least one column, so the dive ends: with a whole-node plan, or with None
when no plan is left (the caller then searches with the MIP solver).
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from archipel.plan.lp.program import LinearProgram
from archipel.plan.solvers.highs import LPSession, Outcome, Solution

Float = NDArray[np.float64]
TOL = 1e-6


def dive(
    lp: LinearProgram,
    relaxed: Solution,
    session: LPSession,
    deadline: float | None,
    share: float = 0.25,
    nearest_rounds: int = 40,
    max_rounds: int = 200,
    max_failures: int = 60,
    last: NDArray[np.bool_] | None = None,
) -> Solution | None:
    """A whole-node solution of ``lp`` (its integer columns integral), or None.

    ``session`` holds ``lp`` and has just solved it (``relaxed``); the dive changes its bounds.
    Each round fixes the ``share`` of fractional columns nearest to a whole number, to that
    number (rounding up repaired where it breaks an upper limit): the re-solve then moves the
    load of the columns rounded down onto the spare capacity of those rounded up. When a
    round leaves no plan, its columns are fixed rounded up instead; when that fails too, the
    round is retried with the nearer half of its columns, down to one column, which is then
    deferred until other columns have moved (a training gang's nodes may fit only once the
    services around it are whole). After ``max_failures`` failed re-solves the dive gives up.
    After ``nearest_rounds`` rounds every fractional column is fixed rounded up (repaired) each
    round, which ends the dive in a few more.

    ``last`` (a mask over the columns) names integer columns that give capacity to others —
    reservation purchases: they are rounded only once no other column is fractional. Until
    then each re-solve buys what the nodes fixed so far need, so a limit they can raise (a
    row where they have a negative coefficient) is no reason to round nodes down; and with
    whole nodes the purchases that cover them are mostly whole already (each covers
    consecutive periods).
    """
    if relaxed.x is None:
        return None
    ints = np.nonzero(lp.integer)[0]
    by_col = lp.matrix[:, ints].tocsc()
    has_upper = np.isfinite(lp.row_upper)
    late_mask = None if last is None else last[ints]
    last_cols = np.zeros(0, np.int64) if last is None else np.nonzero(last)[0]
    sol = relaxed
    deferred = np.zeros(ints.size, dtype=bool)  # columns no rounding could fix, for now
    failures = 0
    batch = ints.size  # the largest batch that worked lately: grows on success, halves on failure
    for n in range(max_rounds):
        x = sol.x
        assert x is not None
        v = x[ints]
        frac = np.abs(v - np.round(v)) > TOL
        if not frac.any():
            return sol
        limits = has_upper
        if late_mask is not None and (frac & ~late_mask).any():
            frac &= ~late_mask
            limits = has_upper & ~_raisable(lp, x, last_cols, has_upper)
        if not (frac & ~deferred).any():
            deferred[:] = False  # everything left was deferred: try them all again, in bulk
            n = max(n, nearest_rounds)
        idx = np.nonzero(frac & ~deferred)[0]
        near = np.abs(v[idx] - np.round(v[idx]))
        late = n >= nearest_rounds
        count = idx.size if late else max(1, int(np.ceil(share * idx.size)))
        count = min(count, batch)
        order = idx[np.argsort(near, kind="stable")]
        again = None
        while again is None:
            pick = np.zeros(ints.size, dtype=bool)
            pick[order[:count]] = True
            nearest = _round(lp, x, ints, by_col, limits, pick, up_only=late)
            again = _fix_and_solve(session, ints, pick, nearest, deadline)
            if again is None:  # rounding down left no plan: round these up instead
                upward = _round(lp, x, ints, by_col, limits, pick, up_only=True)
                again = _fix_and_solve(session, ints, pick, upward, deadline)
            if again is not None:
                batch = 2 * count
                break
            failures += 1
            undo = ints[order[:count]]
            session.fix(undo, lp.col_lower[undo], lp.col_upper[undo])
            if failures > max_failures:
                return None
            if count > 1:
                count = (count + 1) // 2  # a smaller batch: fewer interactions to break
                batch = count
                continue
            deferred[order[0]] = True  # this one waits until others have moved
            order = order[1:]
            if order.size == 0:
                break
        if again is None:
            if deferred.all() or not (frac & ~deferred).any():
                return None
            again = session.solve(time_limit_s=None)  # bounds restored: same point, go on
            if again.outcome != Outcome.OPTIMAL or again.x is None:
                return None
        sol = again
    return None


def decide_first(
    lp: LinearProgram,
    sol: Solution,
    session: LPSession,
    first: NDArray[np.bool_],
    deadline: float | None,
) -> Solution | None:
    """Binary choices that shape the rest (``first``, a mask over the columns: a training run's
    chip and region) decided before a dive rounds any node, one at a time: the most chosen
    fixed to 1 (its alternatives follow to 0 in the re-solve), or to 0 when 1 leaves no plan;
    then all of them fixed where they ended. None when neither value of one leaves a plan.

    Rounded to the nearest with the nodes instead, a run spread over three options at about
    0.3 each can be pushed to none while services take the capacity it needs, leaving no
    whole-node plan (``session`` holds ``lp`` and has just solved it: ``sol``)."""
    ints = np.nonzero(lp.integer)[0]
    first = first[ints]
    while True:
        assert sol.x is not None
        v = sol.x[ints]
        pending = first & (np.abs(v - np.round(v)) > TOL)
        if not pending.any():
            done = np.flatnonzero(first)
            session.fix(ints[done], np.round(v[done]), np.round(v[done]))
            return sol
        j = int(np.flatnonzero(pending)[np.argmax(v[pending])])
        pick = np.zeros(ints.size, dtype=bool)
        pick[j] = True
        for value in (1.0, 0.0):
            again = _fix_and_solve(session, ints, pick, np.full(ints.size, value), deadline)
            if again is not None and again.x is not None:
                sol = again
                break
        else:
            return None


def _raisable(
    lp: LinearProgram, x: Float, cols: NDArray[np.int64], has_upper: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """[rows] upper limits that one of ``cols`` can raise by a whole unit: the column has a
    negative coefficient there and room for one more unit in every upper limit it counts in."""
    if cols.size == 0:
        return np.zeros(lp.num_rows, dtype=bool)
    import scipy.sparse as sp

    act = lp.matrix @ x
    room = np.where(has_upper, lp.row_upper - act, np.inf)
    sub = sp.csc_matrix(lp.matrix[:, cols])
    col_of = np.repeat(np.arange(cols.size), np.diff(sub.indptr))
    full = (sub.data > 0) & (room[sub.indices] < sub.data - TOL)  # no room for one more unit
    ok = x[cols] + 1 <= lp.col_upper[cols]
    ok[col_of[full]] = False
    neg = sp.csc_matrix(sub.multiply(sub < 0))[:, np.nonzero(ok)[0]]
    return np.asarray((neg != 0).sum(axis=1) > 0).ravel()


def _fix_and_solve(
    session: LPSession,
    ints: NDArray[np.int64],
    pick: NDArray[np.bool_],
    target: Float,
    deadline: float | None,
) -> Solution | None:
    chosen = np.nonzero(pick)[0]
    session.fix(ints[chosen], target[chosen], target[chosen])
    left = None if deadline is None else max(0.5, deadline - time.perf_counter())
    sol = session.solve(time_limit_s=left)
    return sol if sol.outcome == Outcome.OPTIMAL and sol.x is not None else None


def _round(
    lp: LinearProgram,
    x: Float,
    ints: NDArray[np.int64],
    by_col: object,
    has_upper: NDArray[np.bool_],
    pick: NDArray[np.bool_],
    up_only: bool,
) -> Float:
    """Whole values for the picked integer columns: the nearest whole number (or the next one
    up when ``up_only``), rounded down instead where rounding up would break an upper limit."""
    import scipy.sparse as sp

    assert isinstance(by_col, sp.csc_matrix)
    v = x[ints]
    up = np.ceil(v - TOL)
    down = np.floor(v + TOL)
    target = np.where(pick, up if up_only else np.round(v), v)
    cand = x.copy()
    cand[ints] = target
    act = lp.matrix @ cand
    excess = np.where(has_upper, act - lp.row_upper, -np.inf)
    slack = TOL * (1.0 + np.abs(np.where(has_upper, lp.row_upper, 0.0)))
    over = np.nonzero(excess > slack)[0]
    for r in over[np.argsort(-excess[over])]:
        if excess[r] <= slack[r]:
            continue  # repaired by an earlier row's rounding down
        row = lp.matrix.getrow(r)
        cols = np.searchsorted(ints, row.indices)
        is_int = (cols < ints.size) & (ints[np.minimum(cols, ints.size - 1)] == row.indices)
        j = cols[is_int]
        coef = row.data[is_int]
        movable = pick[j] & (coef > 0) & (target[j] > down[j])
        order = np.argsort(v[j[movable]] - down[j[movable]], kind="stable")
        for k in j[movable][order]:
            if excess[r] <= slack[r]:
                break
            column = by_col.getcol(k)
            excess[column.indices] -= column.data * (target[k] - down[k])
            target[k] = down[k]
    return target
