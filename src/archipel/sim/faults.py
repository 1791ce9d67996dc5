"""Fault schedules as data: what goes wrong, where and when, built deterministically from a seed.

A :class:`Fault` has a kind, a window ``[start_s, end_s)``, a target and a value:

- ``OUTAGE``: every deployment of the target is down (in-flight requests fail at the start);
- ``LATENCY``: ``value`` extra milliseconds on responses from the target's deployments;
- ``HUNG``: ``value`` replicas of each targeted deployment stop answering: their in-flight
  requests fail when the client times out (``SimConfig.hung_timeout_s`` after the start), and
  capacity is reduced until the end (still billed);
- ``CAPACITY_ERROR``: each attempt on the target fails with a 429 with probability ``value``;
- ``PREEMPTION``: ``value`` spot replicas of the targeted deployment are preempted: their
  in-flight requests fail at once and they are not billed while out (drawn from the spot
  traces, :func:`spot_preemptions`).

Targets are ``"provider:<name>"``, ``"region:<name>"`` or ``"deployment:<key>"`` (table ``key``).

Spot-trace mapping (:func:`spot_preemptions`). A trace is ``{"metadata": {"gap_seconds": g},
"data": [n_0, n_1, ...]}``: the nodes up at each tick of ``g`` seconds out of ``N`` launched
(``N`` = 1, 4 or 16, from the ``<N>-node`` folder). Replica ``j`` of a spot deployment follows node
slot ``j mod N`` of the trace (slot ``k`` is up at tick ``i`` iff ``n_i > k``), read from its own
start tick drawn from the seed, one tick = ``g`` simulated seconds, wrapping at the end of the
trace. Each maximal run of ticks with the slot down becomes one ``PREEMPTION`` of one replica.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

from archipel.route.types import BoolArray, DeploymentTable


class FaultKind(IntEnum):
    OUTAGE = 0
    LATENCY = 1
    HUNG = 2
    CAPACITY_ERROR = 3
    PREEMPTION = 4


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    start_s: float
    end_s: float
    target: str
    value: float = 0.0

    def __post_init__(self) -> None:
        if not self.end_s > self.start_s:
            raise ValueError(f"fault window must end after it starts: {self}")
        scope, _, name = self.target.partition(":")
        if scope not in ("provider", "region", "deployment") or not name:
            raise ValueError(
                f"fault target must be provider:, region: or deployment:, not {self.target!r}"
            )

    def mask(self, table: DeploymentTable) -> BoolArray:
        scope, _, name = self.target.partition(":")
        field = {"provider": table.provider, "region": table.region, "deployment": table.key}[scope]
        return np.array([v == name for v in field], dtype=bool)


@dataclass(frozen=True)
class FaultSchedule:
    faults: tuple[Fault, ...]
    seed: int | None = None
    note: str = ""

    def __add__(self, other: FaultSchedule) -> FaultSchedule:
        return FaultSchedule(
            tuple(sorted((*self.faults, *other.faults), key=_order)),
            self.seed,
            "; ".join(n for n in (self.note, other.note) if n),
        )


def _order(f: Fault) -> tuple[float, float, int, str, float]:
    return (f.start_s, f.end_s, int(f.kind), f.target, f.value)


def schedule(faults: Sequence[Fault], note: str = "") -> FaultSchedule:
    return FaultSchedule(tuple(sorted(faults, key=_order)), None, note)


def random_schedule(
    table: DeploymentTable,
    horizon_s: float,
    seed: int,
    *,
    outages: int = 1,
    outage_s: float = 300.0,
    spikes: int = 0,
    spike_ms: float = 200.0,
    capacity_errors: int = 0,
    error_rate: float = 0.2,
    window_s: float = 120.0,
) -> FaultSchedule:
    """Region outages, latency spikes and 429 windows on targets drawn uniformly from the table's
    regions (outages) and deployments (the others), at uniform times in the horizon; outage lengths
    are exponential with mean ``outage_s``. Same seed and table, same schedule."""
    rng = np.random.Generator(np.random.PCG64(seed))
    regions = sorted(set(table.region))
    keys = list(table.key)
    out: list[Fault] = []
    for _ in range(outages):
        start = float(rng.uniform(0, horizon_s))
        length = float(rng.exponential(outage_s)) + 1.0
        out.append(
            Fault(
                FaultKind.OUTAGE,
                start,
                start + length,
                f"region:{regions[rng.integers(len(regions))]}",
            )
        )
    for kind, n, value in (
        (FaultKind.LATENCY, spikes, spike_ms),
        (FaultKind.CAPACITY_ERROR, capacity_errors, error_rate),
    ):
        for _ in range(n):
            start = float(rng.uniform(0, horizon_s))
            target = f"deployment:{keys[rng.integers(len(keys))]}"
            out.append(Fault(kind, start, start + window_s, target, value))
    note = f"random: {outages} outages, {spikes} spikes, {capacity_errors} 429 windows, seed {seed}"
    return FaultSchedule(tuple(sorted(out, key=_order)), seed, note)


@dataclass(frozen=True)
class SpotTrace:
    path: Path
    gap_s: float
    nodes: int
    up: np.ndarray  # [T] nodes up per tick


def read_spot_trace(path: Path) -> SpotTrace:
    doc = json.loads(path.read_text())
    data = np.asarray(doc["data"], dtype=np.int64)
    folder = next((p for p in path.parts if p.endswith("-node")), "1-node")
    return SpotTrace(path, float(doc["metadata"]["gap_seconds"]), int(folder.split("-")[0]), data)


def spot_trace_paths(spot_root: Path) -> list[Path]:
    return sorted((spot_root / "preemption").rglob("*.json"))


def spot_preemptions(
    table: DeploymentTable,
    spot_root: Path,
    horizon_s: float,
    seed: int,
    trace: Path | None = None,
) -> FaultSchedule:
    """Preemptions of every spot deployment's replicas over ``[0, horizon_s)`` from one
    preemption trace (``trace``, else one drawn from the seed); mapping in the module docstring."""
    rng = np.random.Generator(np.random.PCG64(seed))
    paths = spot_trace_paths(spot_root)
    if trace is None:
        if not paths:
            raise FileNotFoundError(f"no preemption traces under {spot_root}")
        trace = paths[int(rng.integers(len(paths)))]
    st = read_spot_trace(trace)
    ticks = int(np.ceil(horizon_s / st.gap_s)) + 1
    out: list[Fault] = []
    for d in np.flatnonzero(table.spot):
        for j in range(int(table.replicas[d])):
            offset = int(rng.integers(st.up.size))
            slot_up = np.take(st.up, (offset + np.arange(ticks)) % st.up.size) > (j % st.nodes)
            down = np.flatnonzero(
                np.diff(np.concatenate(([False], ~slot_up, [False])).astype(np.int8))
            )
            for a, b in zip(down[::2], down[1::2], strict=True):
                start, end = a * st.gap_s, min(b * st.gap_s, horizon_s)
                if start < horizon_s and end > start:
                    out.append(
                        Fault(FaultKind.PREEMPTION, start, end, f"deployment:{table.key[d]}", 1.0)
                    )
    note = f"spot preemptions from {trace.name} (gap {st.gap_s:g}s, {st.nodes}-node), seed {seed}"
    return FaultSchedule(tuple(sorted(out, key=_order)), seed, note)
