"""The simulator's observed-health mode (:mod:`archipel.sim.observed`): faults are learnt from
failed attempts through the gateway's breaker, and the replay's fake backends are given the
service model's times."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simkit import table, workload

from archipel.gateway.replay import Tenant, fake_behaviour, make_replay
from archipel.route.policy import decide
from archipel.sim.engine import FAILED, REJECTED, SERVED, SimConfig, simulate
from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.service import ServiceModel
from archipel.sim.traces import Trace

# r0 planned, r1 the fallback; service of 0.01 s: nothing in flight when a fault starts
TABLE = table(replicas=(1, 1), rate=(100.0, 100.0), weight=(1.0, 0.0))
ARRIVALS = 0.05 + 0.1 * np.arange(40)  # 0.05, 0.15, ... 3.95: never on a fault's edge
CFG = SimConfig(
    service=ServiceModel(prefill_weight=0.0),
    breaker_failures=3,
    breaker_open_s=0.5,
    rtt_scale=0.0,
    health="observed",
)


def _sends_to(log: list[tuple[float, str, int, int]], d: int) -> list[int]:
    return [i for _, code, i, dd in log if code == "S" and dd == d]


def _failures(log: list[tuple[float, str, int, int]]) -> list[tuple[float, str, int]]:
    return [(t, code, i) for t, code, i, _ in log if code in ("X", "E", "H", "K")]


def test_an_outage_is_learnt_from_failures_and_half_open_probes() -> None:
    faults = schedule([Fault(FaultKind.OUTAGE, 1.0, 3.0, "deployment:chat/r0/o0")])
    res = simulate(TABLE, workload(ARRIVALS), decide, faults, CFG)
    fails = _failures(res.log)
    # three sends open the circuit (1.05, 1.15, 1.25), then one probe per 0.5 s: 1.75, 2.25,
    # 2.75; the probe at 3.25 finds it back
    assert [i for _, _, i in fails] == [10, 11, 12, 17, 22, 27]
    assert all(code == "X" for _, code, _ in fails)
    assert 32 in _sends_to(res.log, 0) and 33 in _sends_to(res.log, 0)
    assert (res.outcomes.status == SERVED).all()
    oracle = simulate(TABLE, workload(ARRIVALS), decide, faults, replace(CFG, health="oracle"))
    assert _failures(oracle.log) == []  # the oracle never sends to a dead deployment


def test_a_hang_fails_attempts_at_the_gateways_timeout_and_its_end_resumes_them() -> None:
    faults = schedule([Fault(FaultKind.HUNG, 1.0, 3.0, "deployment:chat/r0/o0", 1.0)])
    w = workload(ARRIVALS, e2e_s=2.0)  # non-streaming: the timeout is half the time left
    res = simulate(TABLE, w, decide, faults, CFG)
    fails = [(round(t, 6), i) for t, code, i in _failures(res.log) if code == "H"]
    # sent at 1.05 with 2 s left, abandoned 1 s later (r0's one slot busy meanwhile: the others
    # go to r1); request 20, sent at 2.05, would be abandoned at 3.05 but the hang ends at 3.0:
    # it is served then
    assert fails == [(2.05, 10)]
    o = res.outcomes
    assert o.deployment[10] == 1
    assert o.deployment[20] == 0 and o.e2e_s[20] == pytest.approx(3.01 - ARRIVALS[20])
    assert (o.status == SERVED).all()


def test_429_at_probability_one_fails_every_attempt_there() -> None:
    faults = schedule([Fault(FaultKind.CAPACITY_ERROR, 1.0, 3.0, "deployment:chat/r0/o0", 1.0)])
    res = simulate(TABLE, workload(ARRIVALS), decide, faults, CFG)
    assert [i for _, _, i in _failures(res.log)] == [10, 11, 12, 17, 22, 27]


def test_a_partial_hang_is_refused() -> None:
    tb = table(replicas=(2, 1), rate=(100.0, 100.0), weight=(1.0, 0.0))
    faults = schedule([Fault(FaultKind.HUNG, 1.0, 3.0, "deployment:chat/r0/o0", 1.0)])
    with pytest.raises(ValueError, match="whole-deployment"):
        simulate(tb, workload(ARRIVALS), decide, faults, CFG)


def test_bad_health_mode() -> None:
    with pytest.raises(ValueError, match="oracle"):
        SimConfig(health="psychic")


kinds = st.sampled_from([FaultKind.OUTAGE, FaultKind.HUNG, FaultKind.CAPACITY_ERROR])
faults_st = st.lists(
    st.tuples(kinds, st.floats(0.0, 3.0), st.floats(0.2, 2.0), st.integers(0, 1)),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(faults_st, st.integers(0, 2**31))
def test_every_request_ends_and_counts_add_up(spec: list[tuple], seed: int) -> None:
    faults = schedule(
        [Fault(k, a, a + length, f"deployment:chat/r{d}/o{d}", 1.0) for k, a, length, d in spec]
    )
    rng = np.random.Generator(np.random.PCG64(seed))
    t = np.sort(rng.uniform(0.0, 4.0, 60))
    w = workload(t, e2e_s=3.0)
    res = simulate(TABLE, w, decide, faults, replace(CFG, seed=seed))
    o = res.outcomes
    assert np.isin(o.status, [SERVED, FAILED, REJECTED]).all()
    served = o.status == SERVED
    assert (o.attempts[served] >= 1).all()
    assert (o.deployment[served] >= 0).all() and (o.deployment[~served] == -1).all()
    assert (o.e2e_s[served] >= o.ttft_s[served]).all()
    sends = np.bincount([i for _, c, i, _ in res.log if c == "S"], minlength=t.size)
    assert (sends == o.attempts).all()


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20_000), st.integers(1, 4_000), st.integers(1, 64), st.floats(1.0, 16.0))
def test_the_fake_gets_the_service_models_times(p: int, c: int, batch: int, speedup: float) -> None:
    from archipel.gateway.replay import Settings

    tb = table(replicas=(2, 1), rate=(1.5, 3.0), weight=(1.0, 0.0))
    trace = Trace("one", np.zeros(1), np.array([p]), np.array([c]))
    s = Settings(slots_per_replica=batch, speedup=speedup)
    rep = make_replay(tb, trace, (Tenant("t", "k", None, "eu"),), schedule([]), ((800, 200),), s)
    sm = ServiceModel(batch=batch, prefill_weight=s.prefill_weight)
    for d in range(tb.size):
        fb = fake_behaviour(rep, d)
        slot_s = batch / (float(tb.rate[d, 0]) * speedup)
        prefill, decode = sm.times(slot_s, sm.cost(800, 200), p, c)
        first = fb["ttft_s_per_prompt_token"] * p
        rest = fb["s_per_prompt_token"] * p + fb["s_per_completion_token"] * c
        assert first == pytest.approx(prefill, rel=1e-9)
        assert rest == pytest.approx(decode, rel=1e-9, abs=1e-12)
