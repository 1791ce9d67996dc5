"""The discrete-event simulator on small tables, against outcomes derived by hand.

Service model with ``prefill_weight=0`` and ``batch=1``: a replica of rate r is a FIFO server
giving each request 1/r s; TTFT = RTT + queueing; end-to-end = TTFT + 1/r.
"""

from __future__ import annotations

import numpy as np
import pytest
from simkit import router, table, workload

from archipel.route.types import Action, Decision, DeploymentTable, Health, Request
from archipel.sim.engine import FAILED, REJECTED, SERVED, SimConfig, simulate
from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.metrics import capacity_use, window_metrics
from archipel.sim.service import ServiceModel

PLAIN = SimConfig(service=ServiceModel(batch=1, prefill_weight=0.0))


def test_queue_drains_in_arrival_order() -> None:
    tb = table(replicas=(1,), rate=(1.0,), weight=(1.0,))

    def always_d0(req: Request, t: DeploymentTable, h: Health, now: float, draw: float) -> Decision:
        return Decision(Action.ROUTE, 0)

    res = simulate(tb, workload([0.0, 0.1, 0.2]), always_d0, config=PLAIN)
    o = res.outcomes
    assert o.status.tolist() == [SERVED] * 3
    np.testing.assert_allclose(o.e2e_s, [1.0, 1.9, 2.8])
    np.testing.assert_allclose(o.ttft_s, [0.0, 0.9, 1.8])
    done = [(t, i) for t, k, i, _ in res.log if k == "C"]
    assert done == [(1.0, 0), (2.0, 1), (3.0, 2)]


def test_outage_loses_exactly_what_remaining_capacity_cannot_serve() -> None:
    # two deployments of 1 req/s each, arrivals 2 req/s for 10 s: all served without faults
    tb = table()
    arrivals = np.arange(20) * 0.5
    clean = simulate(tb, workload(arrivals), router, config=PLAIN)
    assert (clean.outcomes.status == SERVED).all()
    # r1 down over [4.25, 8.25): its request in flight (sent at 3.5) fails and finds r0 busy;
    # of the 8 arrivals in the window r0 serves those at 5, 6, 7, 8 and the other 4 are rejected
    fs = schedule([Fault(FaultKind.OUTAGE, 4.25, 8.25, "region:r1")])
    res = simulate(tb, workload(arrivals), router, fs, PLAIN)
    st = res.outcomes.status
    assert np.flatnonzero(st == FAILED).tolist() == [7]
    assert np.flatnonzero(st == REJECTED).tolist() == [9, 11, 13, 15]
    assert int((st == SERVED).sum()) == 15
    assert res.outcomes.attempts[7] == 1 and res.outcomes.deployment[16] == 0
    rows = window_metrics(tb, workload(arrivals), res, window_s=5.0)
    assert [(r.requests, r.served, r.failed, r.rejected) for r in rows] == [
        (10, 8, 1, 1),
        (10, 7, 0, 3),
    ]
    # an outage does not stop the bill: both replicas count over the 10.5 s horizon
    np.testing.assert_allclose(capacity_use(res).replica_hours * 3600, [10.5, 10.5])
    assert capacity_use(res).cost is None


def test_429_fails_over_to_the_other_deployment() -> None:
    tb = table(weight=(0.7, 0.3), rtt_ms=10.0)
    fs = schedule([Fault(FaultKind.CAPACITY_ERROR, 0.0, 5.0, "deployment:chat/r0/o0", 1.0)])
    res = simulate(tb, workload([1.0]), router, fs, PLAIN)
    o = res.outcomes
    assert o.status[0] == SERVED and o.deployment[0] == 1
    assert o.attempts[0] == 2 and o.failovers[0] == 1
    np.testing.assert_allclose(o.e2e_s[0], 0.01 + 0.01 + 1.0)  # 429 after one RTT, then served
    assert [k for _, k, _, _ in res.log if k in "SEC"] == ["S", "E", "S", "C"]


def test_429_then_policy_retry_later() -> None:
    tb = table(replicas=(1,), rate=(1.0,), weight=(1.0,), rtt_ms=10.0)
    fs = schedule([Fault(FaultKind.CAPACITY_ERROR, 0.0, 0.5, "deployment:chat/r0/o0", 1.0)])

    def retry_once(
        req: Request, t: DeploymentTable, h: Health, now: float, draw: float
    ) -> Decision:
        if req.attempt > 0 and now < req.arrival_s + 1.0:
            return Decision(Action.RETRY, at_s=req.arrival_s + 1.0)
        return Decision(Action.ROUTE, 0)

    res = simulate(tb, workload([0.0]), retry_once, fs, PLAIN)
    o = res.outcomes
    assert o.status[0] == SERVED and o.attempts[0] == 2 and o.retries[0] == 1
    np.testing.assert_allclose([o.ttft_s[0], o.e2e_s[0]], [1.01, 2.01])


def test_residency_violations_are_counted() -> None:
    tb = table(allowed_eu=(False, True))
    w = workload(np.arange(6) * 0.5, data_class=0)
    good = simulate(tb, w, router, config=PLAIN)
    assert int(good.outcomes.outside_allowed.sum()) == 0
    assert set(good.outcomes.deployment[good.outcomes.status == SERVED].tolist()) == {1}

    def careless(req: Request, t: DeploymentTable, h: Health, now: float, draw: float) -> Decision:
        return Decision(Action.ROUTE, 0)

    bad = simulate(tb, w, careless, config=PLAIN)
    assert int(bad.outcomes.outside_allowed.sum()) == 6
    assert sum(r.residency_violations for r in window_metrics(tb, w, bad, 60.0)) == 6


def test_preemption_takes_a_replica_and_its_request() -> None:
    tb = table(replicas=(2,), rate=(1.0,), weight=(1.0,))
    fs = schedule([Fault(FaultKind.PREEMPTION, 0.5, 10.0, "deployment:chat/r0/o0", 1.0)])
    res = simulate(tb, workload([0.0, 0.1]), router, fs, PLAIN)
    # the request on the second replica (slot 1) fails at 0.5; slot 0 is busy until 1.0: rejected
    assert res.outcomes.status.tolist() == [SERVED, FAILED]
    # a preempted spot replica is not billed: 2 replicas for 0.5 s, then 1 until the last event
    # (the preemption's end at 10 s), then 2 again
    np.testing.assert_allclose(res.replica_seconds, [2 * 0.5 + 9.5])
    assert res.horizon_s == 10.0


def test_prefill_decode_split_and_batch() -> None:
    sm = ServiceModel(batch=4, prefill_weight=0.1)
    prefill, decode = sm.times(4.0, sm.cost(100, 100), 100.0, 100.0)
    # the prompt's share (10 of 110) of one request's work (4 s over a batch of 4), not of the
    # slot's stretched time: a server runs the prefill in one iteration
    assert prefill == pytest.approx(1.0 * 10 / 110) and prefill + decode == pytest.approx(4.0)
    tb = table(replicas=(1,), rate=(2.0,), weight=(1.0,))
    # 4 slots of 2 s each (rate 2/s kept): 4 requests at once all end at 2 s, the fifth at 4 s
    res = simulate(
        tb,
        workload([0.0] * 5),
        lambda *a: Decision(Action.ROUTE, 0),
        config=SimConfig(service=ServiceModel(batch=4, prefill_weight=0.0)),
    )
    np.testing.assert_allclose(res.outcomes.e2e_s, [2.0, 2.0, 2.0, 2.0, 4.0])
    # the engine times a request as the model does: one request alone on a replica of rate 2/s
    # in 4 slots, 100 ms away: first token after RTT + prefill, the end after the decode too
    tb = table(replicas=(1,), rate=(2.0,), weight=(1.0,), rtt_ms=100.0)
    res = simulate(
        tb, workload([0.0]), lambda *a: Decision(Action.ROUTE, 0), config=SimConfig(service=sm)
    )
    prefill, decode = sm.times(2.0, sm.cost(100, 100), 100.0, 100.0)
    assert res.outcomes.ttft_s[0] == pytest.approx(0.1 + prefill)
    assert res.outcomes.e2e_s[0] == pytest.approx(0.1 + prefill + decode)


def test_breaker_opens_after_consecutive_failures() -> None:
    tb = table(weight=(0.7, 0.3))
    fs = schedule([Fault(FaultKind.CAPACITY_ERROR, 0.0, 100.0, "deployment:chat/r0/o0", 1.0)])
    cfg = SimConfig(service=ServiceModel(prefill_weight=0.0), breaker_failures=5)
    res = simulate(tb, workload(np.arange(10.0)), router, fs, cfg)
    o = res.outcomes
    # requests 0-4 hit the 429s on r0 and fail over to r1; the fifth failure (t=4) opens r0's
    # circuit for 30 s, so requests 5-9 go straight to r1
    assert o.attempts.tolist() == [2] * 5 + [1] * 5
    assert o.deployment.tolist() == [1] * 10 and (o.status == SERVED).all()
    assert (4.0, "B", 0, 0) in res.log and (34.0, "B", 0, 1) in res.log


def test_provider_share_over_the_previous_window() -> None:
    tb = table(replicas=(5, 5), rate=(10.0, 10.0), weight=(0.75, 0.25))
    seen: list[tuple[float, list[float]]] = []

    def three_to_one(
        req: Request, t: DeploymentTable, h: Health, now: float, draw: float
    ) -> Decision:
        seen.append((now, list(h.provider_share)))
        return Decision(Action.ROUTE, 0 if int(now * 4) % 4 else 1)

    # 4 requests per second for 2 windows of 10 s: 3 of every 4 to r0 (provider p0)
    simulate(
        tb, workload(np.arange(80) * 0.25), three_to_one, config=SimConfig(share_window_s=10.0)
    )
    assert all(share == [0.0, 0.0] for now, share in seen if now < 10.0)
    assert all(share == [0.75, 0.25] for now, share in seen if now >= 10.0)


def test_hung_replica_fails_its_request_at_the_client_timeout() -> None:
    tb = table(replicas=(2, 1), rate=(0.1, 1.0), weight=(0.7, 0.3))
    fs = schedule([Fault(FaultKind.HUNG, 1.0, 50.0, "deployment:chat/r0/o0", 1.0)])
    cfg = SimConfig(service=ServiceModel(prefill_weight=0.0), hung_timeout_s=5.0)
    res = simulate(tb, workload([0.0, 0.5]), router, fs, cfg)
    o = res.outcomes
    # r0 (10 s per request) takes both; the request on its second replica hangs at 1.0, times
    # out at 6.0 and is failed over to r1, done at 7.0; the first is served by r0 at 10.0
    assert o.deployment.tolist() == [0, 1] and (o.status == SERVED).all()
    np.testing.assert_allclose(o.e2e_s, [10.0, 6.5])
    assert (6.0, "H", 1, 0) in res.log
    # still billed while hung: 2 replicas of r0 until the last event (the hang's end at 50 s)
    np.testing.assert_allclose(res.replica_seconds[0], 100.0)
