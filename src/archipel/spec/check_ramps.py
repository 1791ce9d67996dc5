"""Semantic checks of traffic ramps: that they apply inside the horizon and can all hold.

A period takes the step in force at its start (docs/semantics.md, "Traffic ramps"). Per service
and period, the ramps' min shares on different providers must leave room for one another (their
sum at most 1), and two ramps on the same provider must not contradict each other (one's
min_share above the other's max_share). A ramp's service is checked here, its provider with the
other provider names in :mod:`archipel.spec.check_names`, a migration limit's services with
the other rules' in :mod:`archipel.spec.check`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from archipel.errors import Issue
from archipel.spec.check_names import Ctx, clip, unknown
from archipel.spec.models import RampStep, TrafficRampRule
from archipel.spec.periods import periods

TOL = 1e-9


def _in_force(steps: list[RampStep], start: dt.datetime) -> tuple[int, RampStep] | None:
    found = None
    for k, step in enumerate(steps):
        if dt.datetime.combine(step.start, dt.time()) <= start:
            found = (k, step)
    return found


def services(ctx: Ctx) -> Iterator[Issue]:
    """A ramp names a service of the spec."""
    known = ctx.ids("services")
    for i, rule in enumerate(ctx.spec.rules):
        if isinstance(rule, TrafficRampRule) and rule.service not in known:
            yield unknown(
                ctx,
                ("rules", i, "service"),
                "service",
                rule.service,
                known,
                "name a service declared under 'services:'",
            )


def ramps(ctx: Ctx) -> Iterator[Issue]:
    """Ramps that constrain nothing inside the horizon, and ramps that cannot all hold."""
    pers = periods(ctx.spec.horizon)
    end = pers[-1].end
    ramps_ = [(i, r) for i, r in enumerate(ctx.spec.rules) if isinstance(r, TrafficRampRule)]
    for i, rule in ramps_:
        first = rule.steps[0].start
        if dt.datetime.combine(first, dt.time()) >= end:
            yield ctx.src.issue(
                ("rules", i, "steps", 0, "start"),
                f"the ramp starts on {first}, when the horizon has ended ({end.date()}): it "
                "constrains nothing",
                "fix its dates, extend the horizon, or remove the rule",
            )
    seen: set[tuple[object, ...]] = set()
    for p in pers:
        # per service and provider: the tightest bounds in force, and where they come from
        low: dict[str, dict[str, tuple[float, int, int]]] = defaultdict(dict)
        high: dict[tuple[str, str], tuple[float, int, int]] = {}
        for i, rule in ramps_:
            step = _in_force(rule.steps, p.start)
            if step is None:
                continue
            k, s = step
            mine = low[rule.service].get(rule.provider)
            if mine is None or s.min_share > mine[0]:
                low[rule.service][rule.provider] = (s.min_share, i, k)
            top = high.get((rule.service, rule.provider))
            if top is None or s.max_share < top[0]:
                high[rule.service, rule.provider] = (s.max_share, i, k)
        for service, by_provider in low.items():
            for key, issue in _conflicts(ctx, p.label, service, by_provider, high):
                if key not in seen:  # once per conflict, at its first period
                    seen.add(key)
                    yield issue


def _conflicts(
    ctx: Ctx,
    label: str,
    service: str,
    low: dict[str, tuple[float, int, int]],
    high: dict[tuple[str, str], tuple[float, int, int]],
) -> Iterator[tuple[tuple[object, ...], Issue]]:
    """(what conflicts, the issue) for one service in one period."""
    for provider, (lo, i, k) in low.items():
        hi, j, m = high[service, provider]
        if lo > hi + TOL:
            yield (
                ("contradiction", i, k, j, m),
                ctx.src.issue(
                    ("rules", i, "steps", k, "min_share"),
                    f"in {label}, service '{clip(service)}' needs at least {lo:g} of its demand on "
                    f"'{clip(provider)}' here, but rules[{j}].steps[{m}] allows at most {hi:g}",
                    "make the two ramps of this service and provider agree",
                ),
            )
    total = sum(lo for lo, _, _ in low.values())
    if total > 1.0 + TOL:
        parts = ", ".join(
            f"'{clip(p)}' {lo:g} (rules[{i}].steps[{k}])"
            for p, (lo, i, k) in sorted(low.items())
            if lo > 0
        )
        i, k = max((i, k) for _, i, k in low.values())
        key = ("sum", service, tuple(sorted((i, k) for _, i, k in low.values())))
        yield (
            key,
            ctx.src.issue(
                ("rules", i, "steps", k, "min_share"),
                f"in {label}, the traffic ramps of service '{clip(service)}' need min shares "
                f"summing to {total:g} ({parts}); at most 1 of the demand can be split",
                "lower the min_share of some ramp for this period",
            ),
        )
