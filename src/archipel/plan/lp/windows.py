"""Time in the spec's schedules, per period: capacity windows and steps, traffic-ramp steps.

Nodes are held for a whole period and a period's demand is its peak, which may fall at any
instant of it (docs/semantics.md). So capacity counts in a period only when it is there for the
whole period: a period is inside a capacity window only when it lies wholly inside
``[available_from, until)``, and its limit is the tightest value in force at any instant of it.
A traffic-ramp step applies from the first period that starts on or after its date, as an
exclusivity's end does: a period takes the step in force at its start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from archipel.spec.models import CapacityLimit, RampStep
from archipel.spec.periods import Period

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def limit_schedule(periods: Sequence[Period], lim: CapacityLimit) -> tuple[BoolArray, FloatArray]:
    """[T] whether each period lies wholly inside the limit's window, and [T] the accelerators
    it allows there (the smallest value in force during the period; inf: no limit)."""
    starts = np.array([p.start for p in periods], dtype="datetime64[s]")
    ends = np.array([p.end for p in periods], dtype="datetime64[s]")
    inside = np.ones(len(periods), dtype=bool)
    if lim.available_from is not None:
        inside &= starts >= np.datetime64(_at(lim.available_from), "s")
    if lim.until is not None:
        inside &= ends <= np.datetime64(_at(lim.until), "s")
    first = np.inf if lim.max_accelerators is None else lim.max_accelerators
    values = np.array([first, *(s.max_accelerators for s in lim.steps)])  # value k: after k steps
    dates = np.array([_at(s.start) for s in lim.steps], dtype="datetime64[s]")
    at_start = np.searchsorted(dates, starts, side="right")  # steps begun by the period's start
    before_end = np.searchsorted(dates, ends, side="left")  # steps begun before its end
    cap = values[at_start]
    for k in range(1, values.size):  # a step starting inside a period also holds in it
        during = (at_start < k) & (k <= before_end)
        cap = np.where(during, np.minimum(cap, values[k]), cap)
    return inside, cap


def ramp_bounds(
    periods: Sequence[Period], steps: Sequence[RampStep]
) -> tuple[FloatArray, FloatArray]:
    """[T] min_share and [T] max_share of the step in force at each period's start; periods
    before the first step get 0 and 1 (the rule says nothing there)."""
    starts = np.array([p.start for p in periods], dtype="datetime64[s]")
    dates = np.array([_at(s.start) for s in steps], dtype="datetime64[s]")
    k = np.searchsorted(dates, starts, side="right") - 1
    lo = np.array([s.min_share for s in steps], dtype=float)
    hi = np.array([s.max_share for s in steps], dtype=float)
    before = k < 0
    return np.where(before, 0.0, lo[k]), np.where(before, 1.0, hi[k])
