"""The simulator with the gateway's view of health (``SimConfig.health = "observed"``).

The default engine (:mod:`archipel.sim.engine`) lets the policy see outages and hangs the moment
they start (``health.up`` is false for a deployment that is down or has no replica left), so no
request is ever sent to a dead deployment. A real driver does not know that: the gateway
(:mod:`archipel.gateway.health`, :mod:`archipel.gateway.app`) learns it from its own attempts.
This engine drives the same policy with what the gateway would know:

- ``up`` is the circuit breaker alone: closed, or half-open with no probe in flight. After
  ``breaker_failures`` consecutive failed attempts the circuit opens for ``breaker_open_s``; then
  it is half-open: up for exactly one attempt (the probe, ``up`` false while it is in flight); any
  failure on the deployment while half-open opens it again, any success closes it. ``load`` is
  in flight over ``replicas · batch`` whatever the faults.
- OUTAGE (the process is gone): an attempt sent there fails at once (connection refused); at the
  start, in-flight attempts before their first token fail (another deployment is tried), and
  streams past their first token are cut: the request fails (the client already has bytes; the
  gateway sends a terminal error event, it cannot fail over).
- HUNG (the whole deployment stops answering; ``value`` must cover every replica, a partial hang
  is not modelled here): an attempt sent there, or in flight before its first token, fails when
  the gateway abandons it, ``attempt_share`` of the time left to its target (the first-token
  deadline while it is ahead, else the deadline: ``Request.attempt_target_s``) after it was
  sent; a stream past its first token is cut
  ``chunk_timeout_s`` after its last chunk (``stream_chunks`` chunks, the first at the time to
  first token, the others evenly spaced up to the end). When the hang ends, what is still held
  goes on where it stopped (a request held at its start is served from then, a stream sends its
  next chunk), everything after it later by the hang; unless its timeout comes first. A request with a first-token SLO is a
  stream (the gateway sets a first-token deadline for streams only).
- Any attempt whose first token would come later than that timeout is abandoned at it (a
  retried request past its first-token deadline gets a timeout of a millisecond, as in the
  gateway, and its failure counts against the deployment's breaker); a stream whose chunks
  come further apart than ``chunk_timeout_s`` is cut that long after its first (the request
  fails, the breaker counts it).
- CAPACITY_ERROR, LATENCY and PREEMPTION as in the default engine.

Every failure reaches the breaker at the time the gateway would see it (a hang's at its timeout).
"""

from __future__ import annotations

import math

from archipel.route.types import DeploymentTable
from archipel.sim.engine import _BREAKER, _COMPLETE, Policy, _Sim
from archipel.sim.faults import FaultKind, FaultSchedule
from archipel.sim.records import FAILED, SimConfig, Workload


class ObservedSim(_Sim):
    def __init__(
        self, table: DeploymentTable, w: Workload, policy: Policy, fs: FaultSchedule, cfg: SimConfig
    ) -> None:
        D = table.size
        # set before the base class refreshes every deployment with them
        self.half_open = [False] * D
        self.probing = [False] * D
        self.capacity = [max(1, int(r) * cfg.service.batch) for r in table.replicas]
        super().__init__(table, w, policy, fs, cfg)
        for f in fs.faults:
            if f.kind is FaultKind.HUNG:
                for d in f.mask(table).nonzero()[0]:
                    if f.value < self.replicas[d]:
                        raise ValueError(
                            f"observed health models whole-deployment hangs only: {f} hangs "
                            f"{f.value:g} of {self.replicas[d]} replicas of {table.key[d]}"
                        )
        self.hung = [0] * D
        self.sent_t: dict[int, float] = {}  # attempt -> when it was sent
        # attempt -> ("H" abandoned or "U" cut, when): its completion event fails it then
        self.doom: dict[int, tuple[str, float]] = {}
        self.hung_since = [0.0] * D

    def _refresh(self, d: int, now: float = 0.0) -> None:
        self.up[d] = self.broken_until[d] <= now and not self.probing[d]
        self.load[d] = len(self.inflight[d]) / self.capacity[d]

    def _breaker_event(self, d: int, now: float) -> None:
        if self.broken_until[d] <= now and not self.half_open[d]:  # not stale: half-open now
            self.half_open[d] = True
            self.probing[d] = False
            self._refresh(d, now)
            if self.rec:
                self.log.append((now, "B", d, 2))

    def _timeout_at(self, i: int, t: float) -> float:
        req = self.reqs[i]
        assert req is not None
        return t + max(0.001, (req.attempt_target_s(t) - t) * self.cfg.attempt_share)

    def _send(self, i: int, d: int, t: float) -> None:
        if not 0 <= d < self.table.size:
            raise ValueError(f"policy chose deployment {d}, not in the table")
        if self.half_open[d] and not self.probing[d]:  # this attempt is the probe
            self.probing[d] = True
            self.up[d] = False
        if self.hung[d] and not self.down[d]:  # accepted, never answered
            self.n_att[i] += 1
            self.sent[d] += 1
            if self.rec:
                self.log.append((t, "S", i, d))
            k = self.w_k[i]
            if not self.allowed[self.no_class if k < 0 else k][d]:
                self.outside[i] = True
            a = self.next_att
            self.next_att += 1
            self.att[a] = (i, d, -1, math.nan, math.nan)
            self.inflight[d][a] = -1
            self.load[d] = len(self.inflight[d]) / self.capacity[d]
            self._doom(a, self._timeout_at(i, t), "H")
            return
        a = self.next_att
        super()._send(i, d, t)
        if self.next_att > a:
            self.sent_t[a] = t
            if self.rec:  # when its first token is due (logged ahead, for who compares)
                self.log.append((self.w_t[i] + self.att[a][3], "T", i, d))
            # the gateway abandons an attempt whose first bytes come after its timeout, and
            # cuts a stream whose chunks come further apart than its chunk timeout
            at = self._timeout_at(i, t)
            _, _, _, ttft, e2e = self.att[a]
            first = self.w_t[i] + ttft
            chunks = self.cfg.stream_chunks
            gap = (e2e - ttft) / (chunks - 1) if chunks > 1 else 0.0
            if first > at:
                self._rekey(a, d, at, "H")
            elif self._streaming(i) and gap > self.cfg.chunk_timeout_s:
                self._rekey(a, d, first + self.cfg.chunk_timeout_s, "U")

    def _rekey(self, a: int, d: int, at: float, code: str) -> None:
        """Attempt ``a`` fails at ``at`` instead (its pending completion event goes stale)."""
        b = self.next_att
        self.next_att += 1
        self.att[b] = self.att.pop(a)
        self.inflight[d][b] = self.inflight[d].pop(a)
        self.sent_t[b] = self.sent_t.pop(a)
        self._doom(b, at, code)

    def _doom(self, a: int, t: float, code: str) -> None:
        self.doom[a] = (code, t)
        self._push(t, _COMPLETE, a)

    def _complete(self, a: int, t: float) -> None:
        doomed = self.doom.get(a)
        if doomed is None:
            rec = self.att.get(a)
            if rec is None:  # failed or doomed since
                return
            self.sent_t.pop(a, None)
            d = rec[1]
            if self.half_open[d]:  # a success closes a half-open circuit
                self.half_open[d] = self.probing[d] = False
                self._refresh(d, t)
                if self.rec:
                    self.log.append((t, "B", d, 1))
            super()._complete(a, t)
            return
        code = self.doom.pop(a)[0]
        i, d = self.att.pop(a)[:2]
        self.sent_t.pop(a, None)
        del self.inflight[d][a]
        self.load[d] = len(self.inflight[d]) / self.capacity[d]
        if code == "H":
            self._fail(i, d, t, "H")
        else:
            self._cut(i, d, t)

    def _breaker_fail(self, d: int, t: float) -> None:
        """A failed attempt on ``d`` seen at ``t``."""
        self.fails_in_row[d] += 1
        if self.half_open[d] or (
            self.fails_in_row[d] >= self.cfg.breaker_failures and self.broken_until[d] <= t
        ):
            self.half_open[d] = self.probing[d] = False
            self.broken_until[d] = t + self.cfg.breaker_open_s
            self.up[d] = False
            self._push(self.broken_until[d], _BREAKER, d)
            if self.rec:
                self.log.append((t, "B", d, 0))

    def _fail(self, i: int, d: int, t: float, code: str) -> None:
        self.had_failure[i] = True
        self._breaker_fail(d, t)
        req = self.reqs[i]
        assert req is not None
        self.reqs[i] = req.after_failure(d)
        if self.rec:
            self.log.append((t, code, i, d))
        self._schedule(t, i)

    def _cut(self, i: int, d: int, t: float) -> None:
        """A stream past its first token broke: the request fails (no failover)."""
        self.had_failure[i] = True
        self._breaker_fail(d, t)
        if self.rec:
            self.log.append((t, "U", i, d))
        self._end(i, t, FAILED, "cut")

    def _streaming(self, i: int) -> bool:
        req = self.reqs[i]
        return req is not None and req.ttft_deadline_s is not None

    def _fault(self, k: int, t: float, sign: int) -> None:
        f = self.fs.faults[k]
        if f.kind is not FaultKind.OUTAGE and f.kind is not FaultKind.HUNG:
            super()._fault(k, t, sign)
            return
        if self.rec:
            self.log.append((t, "+" if sign > 0 else "-", k, int(f.kind)))
        for d in self.masks[k]:
            count = self.down if f.kind is FaultKind.OUTAGE else self.hung
            count[d] += sign
            if sign > 0 and count[d] == 1:
                self._struck(d, t, f.kind)
            elif sign < 0 and count[d] == 0:  # queues were lost: every slot free now
                self._reset_slots(d, t, 0, (self.replicas[d] - self.lost[d]) * self.batch)
                if f.kind is FaultKind.HUNG and not self.down[d]:
                    self._resume(d, t)
            self._refresh(d, t)

    def _struck(self, d: int, t: float, kind: FaultKind) -> None:
        """What an outage or a hang starting at ``t`` does to ``d``'s attempts in flight."""
        chunks = self.cfg.stream_chunks
        if kind is FaultKind.HUNG:
            self.hung_since[d] = t
        for a, slot in sorted(self.inflight[d].items()):
            if a in self.doom and kind is FaultKind.HUNG:  # already failing
                continue
            i, _, _, ttft, e2e = self.att[a]
            arrival = self.w_t[i]
            first = arrival + ttft
            past_first = self._streaming(i) and first <= t
            if kind is FaultKind.OUTAGE:
                self.doom.pop(a, None)
                del self.att[a]
                del self.inflight[d][a]
                self.sent_t.pop(a, None)
                if past_first:
                    self._cut(i, d, t)
                else:
                    self._fail(i, d, t, "K")
                continue
            # hung: the attempt stays in flight until the gateway gives up on it
            if past_first:
                gap = (e2e - ttft) / (chunks - 1) if chunks > 1 else 0.0
                last = first + (math.floor((t - first) / gap) * gap if gap > 0 else 0.0)
                at, code = last + self.cfg.chunk_timeout_s, "U"
            else:
                at, code = self._timeout_at_sent(i, a), "H"
            b = self.next_att  # a new attempt id: the pending completion event goes stale
            self.next_att += 1
            self.att[b] = self.att.pop(a)
            del self.inflight[d][a]
            self.inflight[d][b] = slot
            self.sent_t[b] = self.sent_t.pop(a, t)
            self._doom(b, max(at, t), code)
        for s in range(len(self.version[d])):  # nothing is served until the hang ends
            self.version[d][s] += 1
        self.load[d] = len(self.inflight[d]) / self.capacity[d]

    def _timeout_at_sent(self, i: int, a: int) -> float:
        sent = self.sent_t.get(a)
        assert sent is not None
        return self._timeout_at(i, sent)

    def _resume(self, d: int, t: float) -> None:
        """The hang on ``d`` ended at ``t``: what it held goes on where it stopped (a stream
        at its next chunk, a request held at its start from the start), unless the gateway
        gave up on it first (its timeout or chunk timeout comes before its next bytes)."""
        hs = self.hung_since[d]
        chunks = self.cfg.stream_chunks
        for a in sorted(self.inflight[d]):
            doomed = self.doom.get(a)
            if doomed is None:
                continue
            code, at = doomed
            i, _, slot, ttft, e2e = self.att[a]
            arrival = self.w_t[i]
            if ttft != ttft:  # held from its start: served from now
                pre, dec = self._times(i, d)
                due, shift, end0 = t, 0.0, t + pre + dec
                first = t + pre
            else:
                first, end0 = arrival + ttft, arrival + e2e
                gap = (e2e - ttft) / (chunks - 1) if chunks > 1 else 0.0
                due = first
                if code == "U" and gap > 0:  # the chunk after the last one before the hang
                    due = first + (math.floor((hs - first) / gap) + 1) * gap
                shift = max(0.0, t - due)
                if code == "H":
                    first += shift
            if (first if code == "H" else due + shift) >= at:
                continue  # abandoned before it would have answered
            del self.doom[a]
            b = self.next_att
            self.next_att += 1
            self.att[b] = (i, d, slot, first - arrival, end0 + shift - arrival)
            del self.att[a]
            self.inflight[d][b] = self.inflight[d].pop(a)
            self.sent_t[b] = self.sent_t.pop(a, t)
            self._push(end0 + shift, _COMPLETE, b)

    def _times(self, i: int, d: int) -> tuple[float, float]:
        """(prefill, decode) seconds of request ``i`` on ``d`` (:meth:`ServiceModel.times`)."""
        c = self.w_c[i]
        return self.sm.times(
            self.slot_s[d][c], self.typical[self.w_s[i]][c], self.w_in[i], self.w_out[i]
        )
