"""Traffic ramps with an SLO gate per step and automatic rollback, around ``table.ramp``.

Where the plan caps a provider's share of a service (``table.ramp[d] < 1``, a traffic-ramp rule
in force), the gateway does not open the whole cap at once: the provider's cap is
``table.ramp[d] · steps[i]``, starting at step 0. Every ``window_s`` the gate looks at that
provider's attempts for the service in the window just ended:

- at least ``min_requests`` attempts and a bad share (failed attempts, or served later than
  ``slo_s``) of at most ``max_bad_share``: advance one step (up to the plan's cap);
- a bad share above ``max_bad_share`` (with at least ``min_requests``): roll back one step;
  below step 0 the provider's cap is 0 (it takes no traffic the policy can send elsewhere);
- a bad attempt while one of the provider's breakers is open (it failed hard enough to be taken
  out of rotation, so few attempts will come): roll back one step whatever the count;
- fewer attempts: hold.

The effective caps become a new table (``dataclasses.replace(table, ramp=…)``) given to the
policy, which honours it as it honours the plan's (docs/semantics.md, "Routing policy", rule 5:
a cap gives way only when nothing else is usable). Pure: time and outcomes are passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archipel.route.types import DeploymentTable


@dataclass(frozen=True)
class RampConfig:
    steps: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
    window_s: float = 30.0
    min_requests: int = 20
    max_bad_share: float = 0.05
    slo_s: float = 30.0


@dataclass
class _Gate:
    service: int
    provider: str
    cols: np.ndarray
    step: int = 0
    n: int = 0
    bad: int = 0
    advances: int = 0
    rollbacks: int = 0


class RampGate:
    """One gate per (service, provider) with a ramp cap under 1 (module docstring)."""

    def __init__(self, table: DeploymentTable, cfg: RampConfig, now: float) -> None:
        self.base = table
        self.cfg = cfg
        self.gates: list[_Gate] = []
        self._of: dict[int, _Gate] = {}
        seen: set[tuple[int, str]] = set()
        for d in range(table.size):
            key = (int(table.service[d]), table.provider[d])
            if table.ramp[d] < 1.0 and key not in seen:
                seen.add(key)
                cols = np.flatnonzero(
                    (table.service == key[0]) & (np.array(table.provider) == key[1])
                )
                g = _Gate(key[0], key[1], cols)
                self.gates.append(g)
                for c in cols:
                    self._of[int(c)] = g
        self.window_start = now
        self.table = self._apply()

    def carry(self, old: RampGate, same: Sequence[int]) -> None:
        """Take over ``old``'s steps after a reload (``same[d]``: the old index of deployment
        ``d`` when it kept its key and endpoint, else -1). A gate keeps its step and its window
        when every deployment of it kept its endpoint and the plan kept its cap; otherwise it
        starts again at its first step. A gate that rolled back to nothing (step -1) also
        starts again: the reload is the operator's signal, and the SLO gate stops it again if
        the fault persists."""
        for g in self.gates:
            cols = [same[int(c)] if int(c) < len(same) else -1 for c in g.cols]
            o = old._of.get(cols[0]) if cols and min(cols) >= 0 else None
            if (
                o is None
                or o.step < 0
                or sorted(int(c) for c in o.cols) != sorted(cols)
                or float(old.base.ramp[o.cols[0]]) != float(self.base.ramp[g.cols[0]])
            ):
                continue
            g.step, g.advances, g.rollbacks = o.step, o.advances, o.rollbacks
            g.n, g.bad = o.n, o.bad
        self.window_start = old.window_start
        self.table = self._apply()

    def _apply(self) -> DeploymentTable:
        if not self.gates:
            return self.base
        ramp = self.base.ramp.copy()
        for g in self.gates:
            share = self.cfg.steps[g.step] if g.step >= 0 else 0.0
            ramp[g.cols] = self.base.ramp[g.cols] * share
        return dataclasses.replace(self.base, ramp=ramp)

    def cap(self, g: _Gate) -> float:
        share = self.cfg.steps[g.step] if g.step >= 0 else 0.0
        return float(self.base.ramp[g.cols[0]]) * share

    def record(self, d: int, ok: bool, latency_s: float) -> None:
        g = self._of.get(d)
        if g is None:
            return
        g.n += 1
        if not ok or latency_s > self.cfg.slo_s:
            g.bad += 1

    def tick(self, now: float, down: Sequence[bool] = ()) -> bool:
        """Judge the window when it has ended (``down[d]``: ``d``'s breaker is open); True when
        a cap changed (``self.table`` is new)."""
        if not self.gates or now - self.window_start < self.cfg.window_s:
            return False
        self.window_start = now
        changed = False
        for g in self.gates:
            tripped = g.bad > 0 and any(down[c] for c in g.cols if c < len(down))
            if tripped and g.step >= 0:
                g.step -= 1
                g.rollbacks += 1
                changed = True
            elif g.n >= self.cfg.min_requests:
                if g.bad / g.n <= self.cfg.max_bad_share:
                    if g.step < len(self.cfg.steps) - 1:
                        g.step += 1
                        g.advances += 1
                        changed = True
                elif g.step >= 0:
                    g.step -= 1
                    g.rollbacks += 1
                    changed = True
            g.n = g.bad = 0
        if changed:
            self.table = self._apply()
        return changed
