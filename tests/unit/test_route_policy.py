"""Each action of the routing policy on hand-made tables (docs/semantics.md, "Routing policy").

The table: service chat, four deployments. From eu the plan sends 3/4 to d0 and 1/4 to d1 (both
tier 0, EU); d2 is EU spill capacity (tier 1); d3 is a US deployment (tier 0, planned for us
only) that the data class ``personal`` may not use. RTT from eu: d0 5, d1 10, d2 20, d3 90 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.route.policy import BACKOFF_BASE_S, QUEUE_S, backoff_s, decide
from archipel.route.types import Action, Request
from route_factories import health, table

T = table(
    service=[0, 0, 0, 0],
    weight=[[0.75, 0.25, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
    rtt=[[5, 10, 20, 90], [80, 85, 95, 6]],
    allowed=[[True, True, True, False], [True, True, True, True]],
    tier=[0, 0, 1, 0],
    provider=["ovh", "gcp", "aws", "aws"],
    ramp=[1.0, 0.1, 1.0, 1.0],
)
ALL_UP = health([True] * 4)


def req(**kw: object) -> Request:
    base: dict[str, object] = {
        "service": "chat",
        "geography": "eu",
        "request_class": "default",
        "arrival_s": 0.0,
        "deadline_s": 10.0,
        "data_class": "personal",
    }
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def test_planned_route_samples_by_weight() -> None:
    assert decide(req(), T, ALL_UP, 0.0, 0.0).deployment == 0
    assert decide(req(), T, ALL_UP, 0.0, 0.74).deployment == 0
    d = decide(req(), T, ALL_UP, 0.0, 0.75)
    assert (d.action, d.deployment) == (Action.ROUTE, 1)
    assert decide(req(), T, ALL_UP, 0.0, 0.999999).deployment == 1
    us = decide(req(geography="us", data_class=None), T, ALL_UP, 0.0, 0.5)
    assert (us.action, us.deployment) == (Action.ROUTE, 3)


def test_down_planned_one_leaves_the_other_planned() -> None:
    d = decide(req(), T, health([False, True, True, True]), 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.ROUTE, 1)


def test_failover_when_planned_down_goes_to_nearest_allowed() -> None:
    d = decide(req(), T, health([False, False, True, True]), 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.FAILOVER, 2)  # d3 (US) is not allowed for personal
    # without a data class d3 is allowed, but tier 0 comes before the spill tier
    d = decide(req(data_class=None), T, health([False, False, True, True]), 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.FAILOVER, 3)


def test_spill_when_planned_saturated() -> None:
    d = decide(req(), T, health([True] * 4, load=[1.0, 1.2, 0.1, 0.0]), 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.SPILL, 2)
    # spill tier down too: fail over to what is left (tier 0, unplanned for eu)
    d = decide(req(data_class=None), T, health([True, True, False, True], [1, 1, 0, 0]), 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.FAILOVER, 3)


def test_queue_when_everything_allowed_is_busy() -> None:
    d = decide(req(), T, health([True] * 4, load=[1.0, 1.0, 1.5, 0.0]), 1.0, 0.5)
    assert d.action == Action.QUEUE
    assert d.at_s == pytest.approx(1.0 + min(QUEUE_S * 1.5, (10.0 - 1.0) / 2))
    # close to the deadline the hold is half the time left: the request never waits past it
    d = decide(req(deadline_s=1.2), T, health([True] * 4, [1, 1, 1, 0]), 1.0, 0.5)
    assert d.action == Action.QUEUE and d.at_s == pytest.approx(1.1)
    # and a hold too short to matter is a rejection
    d = decide(req(deadline_s=1.01), T, health([True] * 4, [1, 1, 1, 0]), 1.0, 0.5)
    assert d.action == Action.REJECT and "busy" in d.reason


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"deadline_s": 1.0}, "deadline passed"),
        ({"service": "search"}, "unknown service"),
        ({"geography": "mars"}, "unknown geography"),
        ({"data_class": "secret"}, "unknown data class"),
    ],
)
def test_reject_with_reason(kw: dict[str, object], reason: str) -> None:
    d = decide(req(**kw), T, ALL_UP, 1.0, 0.5)
    assert d.action == Action.REJECT and reason in d.reason and d.deployment == -1


def test_reject_when_nothing_allowed() -> None:
    t = table(
        service=[0, 0],
        weight=[[1, 0], [0, 1]],
        rtt=[[1, 2], [2, 1]],
        allowed=[[False, False], [True, True]],
        tier=[0, 0],
    )
    d = decide(req(), t, health([True, True]), 0.0, 0.5)
    assert d.action == Action.REJECT and "allowed" in d.reason


def test_retry_elsewhere_after_a_failed_attempt() -> None:
    d = decide(req(attempt=1, tried=(0,)), T, ALL_UP, 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.ROUTE, 1)
    d = decide(req(attempt=2, tried=(0, 1)), T, ALL_UP, 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.FAILOVER, 2)


def test_retry_at_backoff_within_deadline() -> None:
    d = decide(req(attempt=3, tried=(0, 1, 2)), T, ALL_UP, 2.0, 0.5)
    assert d.action == Action.RETRY and d.at_s == pytest.approx(2.0 + backoff_s(3, 0.5))
    assert backoff_s(3, 0.5) == pytest.approx(BACKOFF_BASE_S * 8 * 0.75)
    assert d.at_s is not None and d.at_s < 10.0
    # the backoff would end at or after the deadline: reject instead
    d = decide(req(attempt=3, tried=(0, 1, 2), deadline_s=2.2), T, ALL_UP, 2.0, 0.5)
    assert d.action == Action.REJECT and "deadline" in d.reason


def test_ramp_cap_skips_provider_at_cap_unless_nothing_else() -> None:
    share = [0.5, 0.1, 0.0, 0.0]  # gcp (d1) is at its 0.1 cap
    d = decide(req(), T, health([True] * 4, share=share), 0.0, 0.9)
    assert (d.action, d.deployment) == (Action.ROUTE, 0)
    # only gcp is usable: over the ramp rather than refused
    d = decide(req(), T, health([False, True, False, True], share=share), 0.0, 0.9)
    assert (d.action, d.deployment) == (Action.ROUTE, 1) and "ramp" in d.reason


def test_eu_class_never_leaves_allowed_even_all_down() -> None:
    down = health([False, False, False, True])  # only the US deployment is up
    for attempt, draw in ((0, 0.0), (1, 0.5), (5, 0.99)):
        d = decide(req(attempt=attempt), T, down, 0.0, draw)
        assert d.action in (Action.RETRY, Action.REJECT) and d.deployment == -1
        assert "down" in d.reason
    d = decide(req(data_class=None), T, down, 0.0, 0.1)
    assert (d.action, d.deployment) == (Action.FAILOVER, 3)


def test_failover_prefers_a_deployment_that_can_still_make_the_first_token() -> None:
    """Planned d0 down. Tier 0 d1 is 300 ms away, spill-tier d2 10 ms: with the first token due
    in 200 ms the spill tier goes first; with no first-token deadline, tier 0 does."""
    t = table(
        service=[0, 0, 0],
        weight=[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        rtt=[[5.0, 300.0, 10.0], [5.0, 300.0, 10.0]],
        allowed=[[True] * 3, [True] * 3],
        tier=[0, 0, 1],
    )
    h = health([False, True, True])
    urgent = req(data_class=None, ttft_deadline_s=0.2)
    d = decide(urgent, t, h, 0.0, 0.5)
    assert (d.action, d.deployment) == (Action.FAILOVER, 2)
    d = decide(req(data_class=None), t, h, 0.0, 0.5)
    assert (d.action, d.deployment) == (Action.FAILOVER, 1)


def test_a_deployment_further_than_the_deadline_is_not_used() -> None:
    """40 ms left: the planned deployment 300 ms away cannot answer in time, the 10 ms one can."""
    t = table(
        service=[0, 0],
        weight=[[1.0, 0.0], [0.0, 0.0]],
        rtt=[[300.0, 10.0], [300.0, 10.0]],
        allowed=[[True, True], [True, True]],
        tier=[0, 0],
    )
    d = decide(req(data_class=None, deadline_s=0.04), t, health([True, True]), 0.0, 0.5)
    assert (d.action, d.deployment) == (Action.FAILOVER, 1)


def test_an_attempt_races_the_first_token_deadline_then_the_deadline() -> None:
    """Once the first-token deadline has passed, an attempt still gets the time left to the
    end-to-end deadline (it used to get none: it failed at once and re-opened a half-open
    breaker, keeping a recovered deployment out)."""
    req = Request("chat", "eu", "default", 0.0, 30.0, ttft_deadline_s=2.0)
    assert req.attempt_target_s(1.0) == 2.0
    assert req.attempt_target_s(2.5) == 30.0
    assert Request("chat", "eu", "default", 0.0, 30.0).attempt_target_s(1.0) == 30.0
