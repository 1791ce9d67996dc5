"""Semantic checks of contracts: dates against the horizon, spend to date, reserved blocks and
the workloads a scope names (regions and accelerators of a scope are checked with the other
names in :mod:`archipel.spec.check_names`; terms that do not add up, by the model itself)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from archipel.errors import Issue
from archipel.spec.check_names import Ctx, unknown
from archipel.spec.periods import periods


def contracts(ctx: Ctx) -> Iterator[Issue]:
    spec = ctx.spec
    ps = periods(spec.horizon)
    h0, h1 = ps[0].start, ps[-1].end
    span = f"the horizon ({h0.date()} to {h1.date()})"
    workloads = ctx.ids("services") | {j.id for j in spec.training}
    for i, c in enumerate(spec.contracts):
        if _dt(c.end) <= h0 or _dt(c.start) >= h1:
            yield ctx.src.issue(
                ("contracts", i, "start"),
                f"the contract ({c.start} to {c.end}) lies outside {span}",
                "fix its dates, extend the horizon, or remove the contract",
            )
        if c.spent_to_date_usd is not None and c.start >= h0.date():
            yield ctx.src.issue(
                ("contracts", i, "spent_to_date_usd"),
                f"the contract starts on {c.start}, not before the horizon ({h0.date()}): it "
                "has no spend to date",
                "leave spent_to_date_usd out, or give the date the contract really started",
            )
        for k, b in enumerate(c.reserved_blocks):
            if b.start >= b.end:
                yield ctx.src.issue(
                    ("contracts", i, "reserved_blocks", k, "end"),
                    f"end {b.end} is not after start {b.start}",
                    "a block's end must come after its start",
                )
        for k, w in enumerate(c.scope.workloads or []):
            if w not in workloads:
                yield unknown(
                    ctx,
                    ("contracts", i, "scope", "workloads", k),
                    "workload",
                    w,
                    workloads,
                    "name a service or training job declared in the spec",
                )


def _dt(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())
