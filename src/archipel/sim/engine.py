"""The per-request discrete-event simulator: real traffic through a plan's deployments, with
faults injected, the routing policy in the loop, measuring what users see.

Events sit in a heap keyed ``(time, priority, sequence)``; arrivals come from the sorted workload
and are taken before heap events of the same time only when their priority is lower (arrivals have
the highest priority value, so they go last at equal times). Priorities at equal times: breaker
close, fault end, fault start, completion, attempt, arrival. Same seed and inputs give the same
event sequence, and the same log bytes.

Every attempt calls the injected ``policy(request, table, health, now_s, draw)``: ``health.up`` is
"not in an outage, some replica left (not preempted or hung), circuit not open"; ``health.load``
is in-flight over slots (see :mod:`archipel.sim.service`). ``draw`` is the next value of a
``Generator(PCG64(seed))`` stream. Actions: ROUTE, FAILOVER and SPILL send the request to the
deployment; RETRY holds it until ``at_s``; QUEUE until ``at_s`` or, sooner, until a
deployment of its service completes a request (the longest-queued request of the service is
woken: the policy's QUEUE contract, :mod:`archipel.route.policy`); REJECT ends it (``rejected`` when no attempt
failed before, else ``failed``). A sent attempt fails when the deployment is down (after one RTT),
on a 429 (drawn from the same stream, after one RTT), or when an outage, preemption or hang takes
its replica while in flight; the request then comes back to the policy with ``attempt + 1`` and the
deployment added to ``tried``. ``breaker_failures`` consecutive failures open a deployment's
circuit for ``breaker_open_s``. A request that needs more than ``max_decisions`` decisions fails.

``SimConfig.health = "observed"`` runs :class:`archipel.sim.observed.ObservedSim` instead: the
driver knows only what a gateway learns from its attempts (breakers with a half-open probe,
attempt timeouts for hangs, streams cut after their first token), for comparing with the real
gateway (:mod:`archipel.gateway.replay`). ``SimConfig.rtt_scale`` scales the network round trip
the requests take (not the policy's estimate in the table): 0 on loopback.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from archipel.route.types import (
    Action,
    Decision,
    DeploymentTable,
    Health,
    Request,
)
from archipel.sim.faults import FaultKind, FaultSchedule
from archipel.sim.records import (
    FAILED,
    REJECTED,
    SERVED,
    STATUS,
    Outcomes,
    SimConfig,
    SimResult,
    Workload,
)

Policy = Callable[[Request, DeploymentTable, Health, float, float], Decision]

_BREAKER, _FAULT_END, _FAULT_START, _COMPLETE, _ATTEMPT, _ARRIVAL = range(6)
__all__ = [
    "FAILED",
    "REJECTED",
    "SERVED",
    "STATUS",
    "Outcomes",
    "Policy",
    "SimConfig",
    "SimResult",
    "Workload",
    "simulate",
]


def simulate(
    table: DeploymentTable,
    workload: Workload,
    policy: Policy,
    faults: FaultSchedule | None = None,
    config: SimConfig | None = None,
) -> SimResult:
    cfg = config or SimConfig()
    if cfg.health == "observed":
        from archipel.sim.observed import ObservedSim

        return ObservedSim(table, workload, policy, faults or FaultSchedule(()), cfg).run()
    return _Sim(table, workload, policy, faults or FaultSchedule(()), cfg).run()


class _Sim:
    def __init__(
        self, table: DeploymentTable, w: Workload, policy: Policy, fs: FaultSchedule, cfg: SimConfig
    ) -> None:
        self.table, self.w, self.policy, self.fs, self.cfg = table, w, policy, fs, cfg
        D, N = table.size, w.size
        self.sm = cfg.service
        self.batch = cfg.service.batch
        self.pw = cfg.service.prefill_weight
        self.slot_s = cfg.service.slot_seconds(table).tolist()
        self.rtt = (table.rtt_ms * (cfg.rtt_scale / 1000.0)).tolist()
        self.allowed = table.allowed.tolist()
        self.no_class = len(table.data_classes)
        self.replicas = [int(r) for r in table.replicas]
        self.lost = [0] * D  # replicas preempted or hung
        self.preempted = [0] * D  # not billed while preempted
        self.down = [0] * D
        self.err = [0.0] * D
        self.spike = [0.0] * D
        self.fails_in_row = [0] * D
        self.broken_until = [-np.inf] * D
        self.inflight: list[dict[int, int]] = [{} for _ in range(D)]
        # plain lists: the engine writes and the policy reads them one element at a time
        self.up = [True] * D
        self.load = [0.0] * D
        self.share = [0.0] * D
        self.health = Health(self.up, self.load, self.share)
        # provider_share[d]: share of the service's sends that went to d's provider during the
        # previous window (same service and provider over same service), for ramp caps
        same_svc = table.service[:, None] == table.service[None, :]
        prov = np.array(table.provider, dtype=object)
        self.same_prov = (same_svc & (prov[:, None] == prov[None, :])).astype(np.float64)
        self.same_svc = same_svc.astype(np.float64)
        self.sent = [0] * D
        self.win_end = cfg.share_window_s
        # slots: a heap of (free_at, slot, version) per deployment; stale versions are skipped
        self.version = [[0] * (r * self.batch) for r in self.replicas]
        self.slots = [[(0.0, s, 0) for s in range(r * self.batch)] for r in self.replicas]
        self.rep_s = [0.0] * D
        self.rep_t = [0.0] * D
        for d in range(D):
            self._refresh(d)
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed))
        self.draws: list[float] = []
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.log: list[tuple[float, str, int, int]] = []
        self.rec = cfg.record_log
        self.reqs: list[Request | None] = [None] * N
        # queued requests per service, woken when a deployment of the service frees a slot;
        # ``timer[i]`` is the sequence number of i's live attempt event (older ones are stale)
        K = len(table.data_classes) + 1  # the last: requests with no data class
        self.queued: dict[tuple[int, int], deque[tuple[int, int]]] = {}  # (service, class)
        # the data classes each deployment may serve (a woken request must be able to use it)
        self.classes_at = [np.flatnonzero(table.allowed[:, d]).tolist() for d in range(D)]
        self.n_classes = K
        self.timer = [0] * N
        self.is_queued = [False] * N
        self.decisions = [0] * N
        self.had_failure = [False] * N
        self.att: dict[
            int, tuple[int, int, int, float, float]
        ] = {}  # id -> (i, d, slot, ttft, e2e)
        self.next_att = 0
        nan = float("nan")
        self.st, self.n_att, self.n_fo, self.n_sp, self.n_rt = ([0] * N for _ in range(5))
        self.ttft, self.e2e = [nan] * N, [nan] * N
        self.dep, self.outside = [-1] * N, [False] * N
        # plain lists: indexing numpy arrays one element at a time is slow on the hot path
        self.w_s = w.service.tolist()
        self.w_g = w.geography.tolist()
        self.w_c = w.request_class.tolist()
        self.w_k = w.data_class.tolist()
        self.w_in = w.input_tokens.astype(np.float64).tolist()
        self.w_out = w.output_tokens.astype(np.float64).tolist()
        self.w_t = w.arrival_s.tolist()
        self.e2e_slo = w.e2e_slo_s.tolist()
        self.ttft_slo = w.ttft_slo_s.tolist()
        self.typical = [
            [self.sm.cost(i, o) for i, o in per_service] for per_service in w.class_tokens
        ]
        for k, f in enumerate(fs.faults):
            self._push(f.start_s, _FAULT_START, k)
            self._push(f.end_s, _FAULT_END, k)
        self.masks = [np.flatnonzero(f.mask(table)).tolist() for f in fs.faults]

    # -- plumbing ---------------------------------------------------------------------------
    def _push(self, t: float, prio: int, a: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, prio, self.seq, a))

    def _schedule(self, t: float, i: int) -> None:
        """Request ``i`` decides again at ``t``; any attempt event scheduled before is stale."""
        self._push(t, _ATTEMPT, i)
        self.timer[i] = self.seq

    def _draw(self) -> float:
        if not self.draws:
            self.draws = self.rng.random(4096).tolist()[::-1]
        return self.draws.pop()

    def _refresh(self, d: int, now: float = 0.0) -> None:
        active = (self.replicas[d] - self.lost[d]) * self.batch
        self.up[d] = self.down[d] == 0 and active > 0 and self.broken_until[d] <= now
        self.load[d] = len(self.inflight[d]) / active if active > 0 else 1.0

    def _account(self, d: int, t: float) -> None:
        self.rep_s[d] += max(0, self.replicas[d] - self.preempted[d]) * (t - self.rep_t[d])
        self.rep_t[d] = t

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> SimResult:
        arr = self.w.arrival_s.tolist()
        n, i, heap, now = len(arr), 0, self.heap, 0.0
        while i < n or heap:
            # arrivals have the last priority: one goes first only when strictly earlier
            if i < n and (not heap or arr[i] < heap[0][0]):
                now = arr[i]
                self._arrive(i, now)
                i += 1
                continue
            now, prio, seq, a = heapq.heappop(heap)
            if prio == _COMPLETE:
                self._complete(a, now)
            elif prio == _ATTEMPT:
                if seq == self.timer[a]:  # not replaced by an earlier wake-up
                    self.is_queued[a] = False
                    self._decide(a, now)
            elif prio == _FAULT_START:
                self._fault(a, now, +1)
            elif prio == _FAULT_END:
                self._fault(a, now, -1)
            else:
                self._breaker_event(a, now)
        for d in range(self.table.size):
            self._account(d, now)
        o = Outcomes(
            np.array(self.st, np.int8),
            np.array(self.n_att, np.int64),
            np.array(self.n_fo, np.int64),
            np.array(self.n_sp, np.int64),
            np.array(self.n_rt, np.int64),
            np.array(self.ttft, np.float64),
            np.array(self.e2e, np.float64),
            np.array(self.dep, np.int64),
            np.array(self.outside, bool),
        )
        return SimResult(o, self.log, np.array(self.rep_s), now)

    def _breaker_event(self, d: int, now: float) -> None:
        """``d``'s circuit was opened until now."""
        self._refresh(d, now)
        if self.rec:
            self.log.append((now, "B", d, int(self.up[d])))

    def _arrive(self, i: int, t: float) -> None:
        tb = self.table
        s = self.w_s[i]
        k = self.w_k[i]
        ttft = self.ttft_slo[s]
        self.reqs[i] = Request(
            tb.services[s],
            tb.geographies[self.w_g[i]],
            tb.request_classes[s][self.w_c[i]],
            t,
            t + self.e2e_slo[s],
            None if ttft != ttft else t + ttft,
            None if k < 0 else tb.data_classes[k],
        )
        if self.rec:
            self.log.append((t, "A", i, s))
        self._decide(i, t)

    def _roll(self, t: float) -> None:
        sent = np.array(self.sent, dtype=np.float64)
        total = self.same_svc @ sent
        ws = self.cfg.share_window_s
        if t >= self.win_end + ws:  # a whole window passed with no decision: no recent sends
            sent[:] = 0.0
        share = np.zeros_like(total)
        np.divide(self.same_prov @ sent, total, out=share, where=total > 0)
        self.share[:] = share.tolist()
        self.sent = [0] * len(self.sent)
        self.win_end += ws * (1 + (t - self.win_end) // ws)

    def _decide(self, i: int, t: float) -> None:
        if t >= self.win_end:
            self._roll(t)
        req = self.reqs[i]
        assert req is not None
        self.decisions[i] += 1
        if self.decisions[i] > self.cfg.max_decisions:
            self._end(i, t, FAILED, "decisions")
            return
        dec = self.policy(req, self.table, self.health, t, self._draw())
        act = dec.action
        if act is Action.ROUTE or act is Action.FAILOVER or act is Action.SPILL:
            if act is Action.FAILOVER:
                self.n_fo[i] += 1
            elif act is Action.SPILL:
                self.n_sp[i] += 1
            self._send(i, dec.deployment, t)
        elif act is Action.RETRY or act is Action.QUEUE:
            if dec.at_s is None:
                raise ValueError(f"policy returned {act} without at_s")
            self.n_rt[i] += act is Action.RETRY
            if act is Action.RETRY:  # a new round (archipel.route.policy): every deployment again
                self.reqs[i] = replace(req, attempt=req.attempt + 1, tried=())
            if self.rec:
                self.log.append((t, "Q" if act is Action.QUEUE else "R", i, 0))
            self._schedule(max(dec.at_s, t), i)
            if act is Action.QUEUE:
                self.is_queued[i] = True
                k = self.w_k[i] if self.w_k[i] >= 0 else self.n_classes - 1
                self.queued.setdefault((self.w_s[i], k), deque()).append((self.seq, i))
        else:
            self._end(i, t, FAILED if self.had_failure[i] else REJECTED, "reject")

    def _end(self, i: int, t: float, status: int, why: str) -> None:
        self.st[i] = status
        if self.rec:
            self.log.append((t, "F" if status == FAILED else "J", i, 0))

    def _send(self, i: int, d: int, t: float) -> None:
        if not 0 <= d < self.table.size:
            raise ValueError(f"policy chose deployment {d}, not in the table")
        self.n_att[i] += 1
        self.sent[d] += 1
        if self.rec:
            self.log.append((t, "S", i, d))
        k = self.w_k[i]
        if not self.allowed[self.no_class if k < 0 else k][d]:
            self.outside[i] = True
        rtt = self.rtt[self.w_g[i]][d]
        if self.down[d] or self.lost[d] >= self.replicas[d]:
            self._fail(i, d, t + rtt, "X")
            return
        if self.err[d] > 0.0 and self._draw() < self.err[d]:
            self._fail(i, d, t + rtt, "E")
            return
        s, c = self.w_s[i], self.w_c[i]
        # ServiceModel.times, inlined: slot time scaled by cost, split by the prefill share
        x_in, x_out, pw = self.w_in[i], self.w_out[i], self.pw
        cost = pw * x_in + x_out
        typical = self.typical[s][c]
        busy = self.slot_s[d][c] * (cost / typical if typical > 0 else 1.0)
        # the prompt's share of one request's work (not of the slot's batch-stretched time)
        prefill = busy * pw * x_in / cost / self.batch if cost > 0 else 0.0
        decode = busy - prefill
        heap, ver = self.slots[d], self.version[d]
        active = (self.replicas[d] - self.lost[d]) * self.batch
        while True:
            free, slot, v = heapq.heappop(heap)
            if v == ver[slot] and slot < active:
                break
        start = free if free > t else t
        heapq.heappush(heap, (start + prefill + decode, slot, v))
        spike = self.spike[d] / 1000.0
        arrival = self.w_t[i]
        ttft = start + prefill + rtt + spike - arrival
        e2e = ttft + decode
        a = self.next_att
        self.next_att += 1
        self.att[a] = (i, d, slot, ttft, e2e)
        self.inflight[d][a] = slot
        self.load[d] = len(self.inflight[d]) / active
        self._push(arrival + e2e, _COMPLETE, a)

    def _fail(self, i: int, d: int, t: float, code: str) -> None:
        self.had_failure[i] = True
        self.fails_in_row[d] += 1
        if self.fails_in_row[d] >= self.cfg.breaker_failures and self.broken_until[d] <= t:
            self.broken_until[d] = t + self.cfg.breaker_open_s
            self.up[d] = False
            self._push(self.broken_until[d], _BREAKER, d)
            if self.rec:
                self.log.append((t, "B", d, 0))
        req = self.reqs[i]
        assert req is not None
        self.reqs[i] = req.after_failure(d)
        if self.rec:
            self.log.append((t, code, i, d))
        self._schedule(t, i)

    def _complete(self, a: int, t: float) -> None:
        rec = self.att.pop(a, None)
        if rec is None:  # failed while in flight
            return
        i, d, _, ttft, e2e = rec
        del self.inflight[d][a]
        self.fails_in_row[d] = 0
        active = (self.replicas[d] - self.lost[d]) * self.batch
        self.load[d] = len(self.inflight[d]) / active if active > 0 else 1.0
        self.st[i] = SERVED
        self.ttft[i] = ttft
        self.e2e[i] = e2e
        self.dep[i] = d
        if self.rec:
            self.log.append((t, "C", i, d))
        if self.load[d] < 1.0 and self.up[d]:  # a slot to take: wake one queued request
            self._wake(d, t)

    def _wake(self, d: int, t: float) -> None:
        """A slot of ``d`` freed: the longest-queued request of its service that ``d`` may serve
        (its data class) decides again now (its later timer becomes stale)."""
        s = int(self.table.service[d])
        best: deque[tuple[int, int]] | None = None
        for k in self.classes_at[d]:
            q = self.queued.get((s, k))
            while q and not self.is_queued[q[0][1]]:
                q.popleft()  # woken or decided since
            if q and (best is None or q[0][0] < best[0][0]):
                best = q
        if best is not None:
            _, j = best.popleft()
            self._schedule(t, j)

    def _kill(self, d: int, t: float, slots_from: int, code: str = "K") -> None:
        """In-flight attempts on slots >= ``slots_from`` of ``d`` fail: now, or for a hang
        (``code`` "H") when the client's timeout ``hung_timeout_s`` expires."""
        late = self.cfg.hung_timeout_s if code == "H" else 0.0
        for a, slot in sorted(self.inflight[d].items()):
            if slot >= slots_from:
                i = self.att.pop(a)[0]
                del self.inflight[d][a]
                self._fail(i, d, t + late, code)

    def _reset_slots(self, d: int, t: float, lo: int, hi: int) -> None:
        ver = self.version[d]
        for s in range(lo, hi):
            ver[s] += 1
            heapq.heappush(self.slots[d], (t, s, ver[s]))

    def _fault(self, k: int, t: float, sign: int) -> None:
        f = self.fs.faults[k]
        if self.rec:
            self.log.append((t, "+" if sign > 0 else "-", k, int(f.kind)))
        for d in self.masks[k]:
            kind = f.kind
            if kind is FaultKind.OUTAGE:
                self.down[d] += sign
                if sign > 0 and self.down[d] == 1:
                    self._kill(d, t, 0)
                elif sign < 0 and self.down[d] == 0:  # queues were lost: every slot free now
                    self._reset_slots(d, t, 0, (self.replicas[d] - self.lost[d]) * self.batch)
            elif kind is FaultKind.LATENCY:
                self.spike[d] += sign * f.value
            elif kind is FaultKind.CAPACITY_ERROR:
                self.err[d] = max(0.0, self.err[d] + sign * f.value)
            else:  # HUNG, PREEMPTION: replicas lost for the window
                self._account(d, t)
                before = max(0, self.replicas[d] - self.lost[d]) * self.batch
                self.lost[d] += sign * int(f.value)
                if kind is FaultKind.PREEMPTION:
                    self.preempted[d] += sign * int(f.value)
                after = max(0, self.replicas[d] - self.lost[d]) * self.batch
                if after < before:
                    for s in range(after, before):
                        self.version[d][s] += 1
                    self._kill(d, t, after, "H" if kind is FaultKind.HUNG else "K")
                elif after > before and not self.down[d]:
                    self._reset_slots(d, t, before, after)
            self._refresh(d, t)
