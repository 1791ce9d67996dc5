"""Properties of schedules over time.

- The three readings of a capacity schedule — the LP's (``lp.windows``), the greedy's and the
  verifier's, written apart on purpose — agree on every period: inside the window or not, and
  the limit allowed throughout it.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.plan.greedy_book import limits as greedy_limits
from archipel.plan.inputs import prepare
from archipel.plan.lp.windows import limit_schedule
from archipel.plan.verify_facts import derive_facts
from archipel.plan.verify_ramps import provider_limits
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    ProviderSettings,
)
from factories import small_catalog, spec_with

START = dt.date(2026, 1, 1)
# any day, or the first of a month (a period boundary, where off-by-one readings differ)
days = st.integers(-40, 400).map(lambda d: START + dt.timedelta(days=d)) | st.builds(
    dt.date, st.sampled_from([2025, 2026, 2027]), st.integers(1, 12), st.just(1)
)
accelerators = st.sampled_from([0.0, 8.0, 16.0, 40.0, 1000.0])


@st.composite
def capacity_limits(draw: st.DrawFn) -> CapacityLimit:
    """A gcp limit with an optional window and up to four steps (some inside periods)."""
    since, until = draw(st.none() | days), draw(st.none() | days)
    if since is not None and until is not None and since >= until:
        since, until = until - dt.timedelta(days=1), since + dt.timedelta(days=1)
    dates = sorted(set(draw(st.lists(days, max_size=4))))
    if until is not None:
        dates = [d for d in dates if d < until]
    most = draw(st.none() | accelerators)
    if most is None and since is None and until is None and not dates:
        most = 8.0  # a limit says something
    return CapacityLimit(
        max_accelerators=most,
        available_from=since,
        until=until,
        steps=[CapacityStep(start=d, max_accelerators=draw(accelerators)) for d in dates],
    )


@settings(max_examples=150, deadline=None)
@given(capacity_limits(), st.sampled_from(["month", "quarter"]))
def test_the_lp_greedy_and_verifier_read_a_capacity_schedule_alike(
    limit: CapacityLimit, granularity: str
) -> None:
    spec = spec_with(
        start=START,
        periods=6,
        granularity=granularity,
        providers=[ProviderSettings(id="gcp", capacity=[limit])],
    )
    inputs = prepare(spec, small_catalog())
    inside, cap = limit_schedule(inputs.periods, limit)
    ((covers, left),) = list(greedy_limits(inputs))
    (checked,) = provider_limits(derive_facts(inputs))
    assert list(checked.covers) == list(covers)
    assert checked.inside == inside.tolist()
    # the greedy leaves nothing outside the window, the limit inside
    assert left.tolist() == np.where(inside, cap, 0.0).tolist()
    assert all(
        a == b or (math.isinf(a) and math.isinf(b))
        for a, b, ok in zip(checked.allowed, cap.tolist(), inside.tolist(), strict=True)
        if ok
    )
