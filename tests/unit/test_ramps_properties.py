"""Properties of schedules over time.

- The three readings of a capacity schedule — the LP's (``lp.windows``), the greedy's and the
  verifier's, written apart on purpose — agree on every period: inside the window or not, and
  the limit allowed throughout it.
- For random traffic-ramp steps (and a migration limit), a plan either keeps every share within
  the step in force at each period's start and passes the verifier, or is infeasible with a
  blocker and an infeasible relaxation.
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
from archipel.plan.lp.windows import limit_schedule, ramp_bounds
from archipel.plan.planner import PlanOptions, make_plan, plan_lp
from archipel.plan.result import Status
from archipel.plan.verify_facts import derive_facts
from archipel.plan.verify_ramps import provider_limits
from archipel.spec.models import (
    CapacityLimit,
    CapacityStep,
    CatalogSelection,
    MigrationLimitRule,
    ProviderSettings,
    RampStep,
    Rule,
    TrafficRampRule,
)
from factories import OD, service, small_catalog, spec_with

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


shares = st.sampled_from([0.0, 0.05, 0.1, 0.23, 0.25, 0.5, 0.75, 1.0])


@st.composite
def ramp_steps(draw: st.DrawFn) -> list[RampStep]:
    dates = sorted(set(draw(st.lists(days, min_size=1, max_size=3))))
    out = []
    for d in dates:
        lo, hi = sorted((draw(shares), draw(shares)))
        out.append(RampStep(start=d, min_share=lo, max_share=hi))
    return out


@settings(max_examples=25, deadline=None)
@given(ramp_steps(), st.none() | st.sampled_from([0.1, 0.25, 0.5]), st.integers(200, 600))
def test_a_plan_keeps_every_share_within_its_ramp(
    steps: list[RampStep], max_shift: float | None, demand: int
) -> None:
    """aws (80/h) and gcp (88/h) serve ``demand`` requests/s from eu for four quarters of 2026;
    the ramp holds aws's share."""
    rules: list[Rule] = [TrafficRampRule(service="chat", provider="aws", steps=steps)]
    if max_shift is not None:
        rules.append(MigrationLimitRule(max_shift=max_shift))
    spec = spec_with(
        services=[service(demand={"eu": [float(demand)] * 4})], rules=rules, start=START, periods=4
    )
    sel = CatalogSelection(source="tests", providers=["aws", "gcp"], purchase_options=[OD])
    spec = spec.model_copy(update={"catalog": sel})
    plan = make_plan(spec, small_catalog(), options=PlanOptions(rule_costs=False))
    if plan.status == Status.INFEASIBLE:
        assert plan.infeasibility, "an infeasible plan names its blocker"
        relaxed = plan_lp(prepare(spec, small_catalog()), PlanOptions(whole_nodes=False))
        assert relaxed.status == Status.INFEASIBLE
        assert max_shift is not None, "a ramp alone can always be met here"
        return
    assert plan.status == Status.OPTIMAL and plan.verified, plan.verification_problems
    lo, hi = ramp_bounds(prepare(spec, small_catalog()).periods, steps)
    aws = np.zeros(4)
    for f in plan.flows:
        if f.region.startswith("aws:"):
            aws[f.period] += f.requests_per_s
    share = aws / demand
    assert np.all(share >= lo - 1e-6) and np.all(share <= hi + 1e-6)
