"""Breakers, load, provider shares and the ramp gate, with time passed in (no sleeping)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.gateway.health import Breaker, HealthBoard, HealthConfig
from archipel.gateway.ramp import RampConfig, RampGate
from archipel.route.policy import decide
from archipel.route.types import Action, Request
from route_factories import table


def _table(ramp: list[float] | None = None):  # type: ignore[no-untyped-def]
    return table(
        service=[0, 0, 0],
        weight=[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]],
        rtt=[[5, 10, 80], [80, 80, 5]],
        allowed=[[True, True, False], [True, True, True]],
        tier=[0, 0, 0],
        provider=["a", "b", "c"],
        ramp=ramp,
    )


def test_breaker_opens_after_consecutive_failures_then_half_opens_for_one_probe() -> None:
    b = HealthBoard(_table(), [True, True, True], HealthConfig(failures_to_open=2, open_s=1.0))
    for now in (0.0, 0.1):
        b.start(0)
        b.finish(0, False, now)
    assert b.state[0] == Breaker.OPEN and not b.health.up[0]
    b.tick(0.5)
    assert b.state[0] == Breaker.OPEN
    b.tick(1.2)
    assert b.state[0] == Breaker.HALF_OPEN and b.health.up[0]
    b.start(0)  # the probe: nobody else may go there meanwhile
    assert not b.health.up[0]
    b.finish(0, True, 1.3)
    assert b.state[0] == Breaker.CLOSED and b.health.up[0]


def test_a_failed_probe_reopens_and_a_failed_active_check_opens_at_once() -> None:
    b = HealthBoard(_table(), [True, True, False], HealthConfig(failures_to_open=3, open_s=1.0))
    assert b.state[2] == Breaker.OPEN  # no endpoint: down for good
    b.tick(100.0)
    assert b.state[2] == Breaker.OPEN
    b.probe(1, False, 0.0)
    assert b.state[1] == Breaker.OPEN
    b.probe(1, True, 0.5)
    assert b.state[1] == Breaker.OPEN  # still inside open_s
    b.probe(1, True, 1.5)
    assert b.state[1] == Breaker.HALF_OPEN
    b.start(1)
    b.finish(1, False, 1.6)
    assert b.state[1] == Breaker.OPEN and b.opened_at[1] == 1.6


def test_load_and_provider_shares_feed_the_policy() -> None:
    t = _table(ramp=[1.0, 0.6, 1.0])
    b = HealthBoard(t, [True, True, True], HealthConfig(slots_per_replica=2))
    b.start(0)
    b.start(0)
    assert b.health.load[0] == 1.0
    req = Request("chat", "eu", "default", 0.0, 10.0, data_class="personal")
    d = decide(req, t, b.view(), 0.0, 0.1)
    assert d.action is Action.ROUTE and d.deployment == 1  # 0 is saturated
    for _ in range(9):
        b.routed(0, 0.0)
    b.routed(1, 0.0)
    # shares only where the plan caps the provider (a cap of 1 is no cap: ``share < 1`` would
    # otherwise put a provider carrying all the traffic over it)
    assert np.allclose(b.health.provider_share, [0.0, 0.1, 0.0])


def test_ramp_gate_advances_holds_and_rolls_back() -> None:
    t = _table(ramp=[1.0, 0.6, 1.0])
    gate = RampGate(
        t, RampConfig(steps=(0.5, 1.0), window_s=1.0, min_requests=4, max_bad_share=0.25), 0.0
    )
    assert gate.table.ramp.tolist() == [1.0, 0.3, 1.0]
    for _ in range(4):
        gate.record(1, True, 0.1)
    assert not gate.tick(0.5)  # the window has not ended
    assert gate.tick(1.0) and gate.table.ramp[1] == 0.6
    gate.record(1, False, 0.1)
    assert not gate.tick(2.0)  # one attempt: too few to judge, and no breaker open
    for ok in (False, False, True, True):
        gate.record(1, ok, 0.1)
    assert gate.tick(3.0) and gate.table.ramp[1] == 0.3
    gate.record(1, False, 0.1)
    assert gate.tick(4.0, down=[False, True, False]) and gate.table.ramp[1] == 0.0
    assert gate.gates[0].rollbacks == 2 and gate.gates[0].advances == 1
    req = Request("chat", "eu", "default", 0.0, 10.0, data_class="personal")
    b = HealthBoard(gate.table, [True, True, True], HealthConfig())
    b.routed(0, 0.0)  # a carries all the traffic; its cap of 1 is no cap
    assert decide(req, gate.table, b.view(), 0.0, 0.99).deployment == 0  # b's cap is 0


@settings(max_examples=60, deadline=None)
@given(
    cap=st.floats(0.01, 1.0, exclude_max=True),
    windows=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.booleans()), max_size=30),
)
def test_ramp_caps_stay_between_zero_and_the_plans_cap(
    cap: float, windows: list[tuple[int, int, bool]]
) -> None:
    t = _table(ramp=[1.0, cap, 1.0])
    gate = RampGate(t, RampConfig(window_s=1.0, min_requests=5), 0.0)
    for i, (good, bad, open_) in enumerate(windows):
        for _ in range(good):
            gate.record(1, True, 0.0)
        for _ in range(bad):
            gate.record(1, False, 0.0)
        gate.tick(float(i + 1), down=[False, open_, False])
        assert 0.0 <= gate.table.ramp[1] <= cap + 1e-12
        assert gate.table.ramp[0] == 1.0 and gate.table.ramp[2] == 1.0


def test_a_reload_keeps_breakers_of_unchanged_backends_and_ramp_steps() -> None:
    """carry: an open breaker stays open (its open time kept) where the deployment kept its
    endpoint; a moved one (-1) starts closed; a ramp part-way keeps its step unless the new
    plan changed its cap."""
    cfg = HealthConfig(failures_to_open=1, open_s=10.0)
    old = HealthBoard(_table(), [True, True, True], cfg)
    for d in (0, 1):
        old.start(d)
        old.finish(d, False, 5.0)
    new = HealthBoard(_table(), [True, True, True], cfg)
    new.carry(old, [0, -1, 2])
    assert new.state == [Breaker.OPEN, Breaker.CLOSED, Breaker.CLOSED]
    assert new.opened_at[0] == 5.0 and new.health.up.tolist() == [False, True, True]
    new.tick(15.0)
    assert new.state[0] == Breaker.HALF_OPEN  # the old open time still counts

    rc = RampConfig(steps=(0.25, 0.5, 1.0), window_s=1.0, min_requests=1)
    gate = RampGate(_table(ramp=[1.0, 0.6, 1.0]), rc, 0.0)
    gate.record(1, True, 0.1)
    assert gate.tick(1.0) and gate.table.ramp[1] == 0.3
    kept = RampGate(_table(ramp=[1.0, 0.6, 1.0]), rc, 2.0)
    kept.carry(gate, [0, 1, 2])
    assert kept.table.ramp[1] == 0.3 and kept.gates[0].advances == 1
    assert kept.window_start == gate.window_start
    recapped = RampGate(_table(ramp=[1.0, 0.8, 1.0]), rc, 2.0)  # the plan's cap changed
    recapped.carry(gate, [0, 1, 2])
    assert recapped.table.ramp[1] == 0.2  # step 0 of the new cap
    moved = RampGate(_table(ramp=[1.0, 0.6, 1.0]), rc, 2.0)
    moved.carry(gate, [0, -1, 2])  # a new endpoint behind the ramped deployment
    assert moved.table.ramp[1] == 0.15
    for _ in range(3):  # roll back to nothing
        gate.record(1, False, 0.1)
        gate.tick(gate.window_start + 1.0, down=[False, True, False])
    assert gate.gates[0].step == -1 and gate.table.ramp[1] == 0.0
    again = RampGate(_table(ramp=[1.0, 0.6, 1.0]), rc, 9.0)
    again.carry(gate, [0, 1, 2])
    assert again.table.ramp[1] == 0.15  # a stopped ramp starts again at its first step


def test_a_breaker_half_opens_on_time_at_the_first_request_not_the_next_tick() -> None:
    """due(now) is the request path's check: nothing until open_s has passed, then the tick."""
    b = HealthBoard(_table(), [True, True, True], HealthConfig(failures_to_open=1, open_s=1.0))
    b.start(0)
    b.finish(0, False, 10.0)
    assert b.next_half_open == 11.0
    b.due(10.999)
    assert b.state[0] == Breaker.OPEN
    b.due(11.0)
    assert b.state[0] == Breaker.HALF_OPEN and b.next_half_open == math.inf
    carried = HealthBoard(_table(), [True, True, True], HealthConfig(open_s=1.0))
    b.start(0)
    b.finish(0, False, 12.0)  # the probe failed: open again
    carried.carry(b, [0, 1, 2])
    assert carried.next_half_open == 13.0
