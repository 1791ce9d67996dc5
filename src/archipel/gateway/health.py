"""The gateway's view of its deployments, fed to the policy as :class:`~archipel.route.types.Health`.

Time is passed in (seconds on the caller's monotonic clock), so every rule here is tested
without sleeping.

- **Circuit breaker** per deployment: CLOSED; after ``failures_to_open`` consecutive failed
  attempts (connect error, timeout before the first byte, 5xx, 429) or one failed active probe
  it OPENs for ``open_s``; then HALF-OPEN (at the first request or tick at or after
  ``opened + open_s``: :meth:`HealthBoard.due` is one comparison on the request path, so the
  half-open time does not drift with the tick): ``up`` again for exactly one request, the probe,
  while it is in flight; its success closes the breaker, its failure opens it again. A successful
  active probe of an open breaker past ``open_s`` makes it half-open too. A deployment without an
  endpoint is always open.
- **Load**: in-flight requests over ``replicas · slots_per_replica``.
- **Provider share**: each service's recent traffic per provider, decayed with ``share_tau_s``,
  as the policy's ``provider_share`` (compared with the ramp cap) — only for deployments the
  plan caps (``table.ramp < 1``); elsewhere 0, since the policy's test is ``share < ramp`` and a
  provider carrying all of a service's traffic would otherwise count as over a cap of 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from archipel.route.types import DeploymentTable, Health


class Breaker(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass(frozen=True)
class HealthConfig:
    failures_to_open: int = 3
    open_s: float = 2.0
    slots_per_replica: int = 16
    share_tau_s: float = 30.0


class HealthBoard:
    """Breakers, in-flight counts and provider shares for one table (module docstring)."""

    def __init__(self, table: DeploymentTable, has_endpoint: list[bool], cfg: HealthConfig) -> None:
        n = table.size
        self.table = table
        self.cfg = cfg
        self.has_endpoint = list(has_endpoint)
        self.state = [Breaker.CLOSED if ok else Breaker.OPEN for ok in has_endpoint]
        self.fails = [0] * n
        self.opened_at = [-math.inf] * n
        self.probing = [False] * n
        self.inflight = [0] * n
        self.next_half_open = math.inf  # the earliest time an open breaker may half-open
        self.capacity = [max(1, int(r) * cfg.slots_per_replica) for r in table.replicas]
        self.health = Health(
            up=np.array(has_endpoint, dtype=bool),
            load=np.zeros(n),
            provider_share=np.zeros(n),
        )
        self._providers = sorted(set(table.provider))
        self._p_index = [self._providers.index(p) for p in table.provider]
        self._counts = [[0.0] * len(self._providers) for _ in table.services]
        self._last = [0.0] * len(table.services)
        self._capped = [
            [(d, self._p_index[d]) for d in range(n) if table.service[d] == s and table.ramp[d] < 1]
            for s in range(len(table.services))
        ]

    # -- breakers ---------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Open breakers whose ``open_s`` has passed become half-open (one probe allowed)."""
        nxt = math.inf
        for d, st in enumerate(self.state):
            if st != Breaker.OPEN or not self.has_endpoint[d]:
                continue
            if now - self.opened_at[d] >= self.cfg.open_s:
                self.state[d] = Breaker.HALF_OPEN
                self.probing[d] = False
                self.health.up[d] = True
            else:
                nxt = min(nxt, self.opened_at[d] + self.cfg.open_s)
        self.next_half_open = nxt

    def due(self, now: float) -> None:
        """:meth:`tick` when a breaker may half-open by now (one comparison otherwise)."""
        if now >= self.next_half_open:
            self.tick(now)

    def _open(self, d: int, now: float) -> None:
        self.state[d] = Breaker.OPEN
        self.opened_at[d] = now
        self.probing[d] = False
        self.health.up[d] = False
        self.next_half_open = min(self.next_half_open, now + self.cfg.open_s)

    def start(self, d: int) -> None:
        """An attempt on ``d`` begins (after the policy chose it)."""
        self.inflight[d] += 1
        self.health.load[d] = self.inflight[d] / self.capacity[d]
        if self.state[d] == Breaker.HALF_OPEN:
            self.probing[d] = True
            self.health.up[d] = False  # one probe at a time

    def finish(self, d: int, ok: bool, now: float) -> bool:
        """The attempt on ``d`` ended; True when it changed the breaker's state."""
        self.inflight[d] -= 1
        self.health.load[d] = self.inflight[d] / self.capacity[d]
        before = self.state[d]
        if ok:
            self.fails[d] = 0
            if before != Breaker.CLOSED and self.has_endpoint[d] and (before == Breaker.HALF_OPEN):
                self.state[d] = Breaker.CLOSED
                self.probing[d] = False
                self.health.up[d] = True
        else:
            self.fails[d] += 1
            if before == Breaker.HALF_OPEN or (
                before == Breaker.CLOSED and self.fails[d] >= self.cfg.failures_to_open
            ):
                self._open(d, now)
        return self.state[d] != before

    def probe(self, d: int, ok: bool, now: float) -> None:
        """An active health probe of ``d`` answered (``ok``) or not."""
        if not self.has_endpoint[d]:
            return
        if not ok:
            if self.state[d] != Breaker.OPEN:
                self._open(d, now)
            return
        if self.state[d] == Breaker.OPEN and now - self.opened_at[d] >= self.cfg.open_s:
            self.state[d] = Breaker.HALF_OPEN
            self.probing[d] = False
            self.health.up[d] = True

    def carry(self, old: HealthBoard, same: list[int]) -> None:
        """Take over ``old``'s breakers after a reload: ``same[d]`` is the old index of the
        deployment ``d`` when it kept its endpoint, else -1 (a new or moved backend starts
        closed). A probe in flight on the old board finishes there; this one may probe again.
        In-flight counts start at zero (the old requests finish on the old board)."""
        for d, o in enumerate(same):
            if o < 0 or not self.has_endpoint[d]:
                continue
            self.state[d] = old.state[o]
            self.fails[d] = old.fails[o]
            self.opened_at[d] = old.opened_at[o]
            self.health.up[d] = old.state[o] != Breaker.OPEN
            if old.state[o] == Breaker.OPEN:
                self.next_half_open = min(self.next_half_open, old.opened_at[o] + self.cfg.open_s)

    # -- provider shares --------------------------------------------------------------------

    def routed(self, d: int, now: float) -> None:
        """A request of ``d``'s service went to ``d``: update its service's provider shares
        (plain lists: this runs once per request)."""
        s = int(self.table.service[d])
        capped = self._capped[s]
        if not capped:
            return
        decay = math.exp(-max(0.0, now - self._last[s]) / self.cfg.share_tau_s)
        self._last[s] = now
        row = self._counts[s]
        for i in range(len(row)):
            row[i] *= decay
        row[self._p_index[d]] += 1.0
        total = sum(row)
        share = self.health.provider_share
        for c, p in capped:
            share[c] = row[p] / total

    def view(self) -> Health:
        return self.health
