"""Loading what the gateway serves, and reloading it without dropping requests.

:class:`Sources` names the files (spec, plan, endpoints, keys); :func:`load_state` reads them
into one immutable-by-convention :class:`State` (fleet, keys, health board, ramp gate). A reload
builds a new State and swaps it in: requests in flight finish on the State they started with;
open breakers and ramp steps carry over (:func:`carry_over`).
The spec and plan are re-read only when their files changed (they take seconds); endpoints and
keys files are cheap.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archipel.gateway.config import Keys, load_endpoints, load_keys, read_endpoints_period
from archipel.gateway.fleet import Fleet, build_fleet, default_period
from archipel.gateway.health import HealthBoard, HealthConfig
from archipel.gateway.ramp import RampConfig, RampGate


@dataclass(frozen=True)
class Sources:
    spec: Path
    plan: Path
    endpoints: Path
    keys: Path
    period: int | None = None  # overrides the endpoints file's

    def stamps(self) -> tuple[float, ...]:
        out = []
        for p in (self.spec, self.plan, self.endpoints, self.keys):
            try:
                out.append(os.stat(p).st_mtime)
            except OSError:
                out.append(-1.0)
        return tuple(out)


@dataclass
class State:
    fleet: Fleet
    keys: Keys
    board: HealthBoard
    gate: RampGate
    missing: tuple[str, ...]
    service_index: dict[str, int] = field(default_factory=dict)
    class_index: list[dict[str, int]] = field(default_factory=list)
    geo_index: dict[str, int] = field(default_factory=dict)
    dc_index: dict[str | None, int] = field(default_factory=dict)


def carry_over(new: State, old: State) -> None:
    """Keep what the running gateway learned across a reload: breakers of deployments that kept
    their key and endpoint URL, and ramp steps of gates whose deployments all kept theirs and
    whose planned cap is unchanged (run on the event loop, after the new State is built)."""
    was: dict[tuple[str, str | None], int] = {
        (k, u): o
        for o, (k, u) in enumerate(zip(old.fleet.table.key, old.fleet.url, strict=True))
        if u is not None
    }
    t = new.fleet.table
    same = [was.get((t.key[d], new.fleet.url[d]), -1) for d in range(t.size)]
    new.board.carry(old.board, same)
    new.gate.carry(old.gate, same)


@dataclass
class Loaded:
    """The spec and plan last read, kept across reloads of the cheap files."""

    stamps: tuple[float, float] = (-2.0, -2.0)
    plan: Any = None
    inputs: Any = None


def _read_plan(src: Sources, cache: Loaded) -> tuple[Any, Any]:
    stamps = src.stamps()[:2]
    if cache.plan is not None and stamps == cache.stamps:
        return cache.plan, cache.inputs
    from archipel.cli.plan_cmd import _load
    from archipel.plan.inputs import prepare
    from archipel.report.planfile import load_plan

    spec, catalog = _load(src.spec, None)
    inputs = prepare(spec, catalog)  # type: ignore[arg-type]
    plan = load_plan(src.plan)
    cache.stamps, cache.plan, cache.inputs = (stamps[0], stamps[1]), plan, inputs
    return plan, inputs


def load_state(
    src: Sources,
    cache: Loaded,
    health: HealthConfig,
    ramp: RampConfig,
    now: float,
    today: dt.date | None = None,
) -> State:
    """Read every file into a new :class:`State` (UserError with file:line when one is wrong)."""
    from archipel.errors import UserError
    from archipel.route.table import deployment_table

    plan, inputs = _read_plan(src, cache)
    period = src.period
    if period is None:
        period = read_endpoints_period(src.endpoints)
    if period is None:
        period = default_period(inputs, today or dt.datetime.now(dt.UTC).date())
    try:
        table = deployment_table(plan, inputs, period)
    except ValueError as exc:
        raise UserError(f"{src.plan}: {exc}") from None
    endpoints = load_endpoints(src.endpoints, table.key)
    keys = load_keys(src.keys, table.services, table.data_classes, table.geographies)
    fleet = build_fleet(plan, inputs, period, endpoints, table=table)
    board = HealthBoard(fleet.table, [u is not None for u in fleet.url], health)
    gate = RampGate(fleet.table, ramp, now)
    t = fleet.table
    dc: dict[str | None, int] = {c: k for k, c in enumerate(t.data_classes)}
    dc[None] = len(t.data_classes)
    return State(
        fleet=fleet,
        keys=keys,
        board=board,
        gate=gate,
        missing=endpoints.missing,
        service_index={s: i for i, s in enumerate(t.services)},
        class_index=[{c: i for i, c in enumerate(cs)} for cs in t.request_classes],
        geo_index={g: i for i, g in enumerate(t.geographies)},
        dc_index=dc,
    )
