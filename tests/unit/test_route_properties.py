"""Properties of the routing policy over random tables, health views and requests:

- a decision never targets a deployment outside the request's allowed set (its service and
  data class);
- never one known down (so never a dead one while a healthy one exists);
- any RETRY or QUEUE time lies strictly before the deadline, and after now;
- the same inputs give the same decision.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archipel.route.policy import decide
from archipel.route.types import Action, DeploymentTable, Health, Request
from route_factories import health, table

SERVICES = ("chat", "code")
GEOS = ("eu", "us")
CLASSES = ("personal", "sovereign")
TARGETED = (Action.ROUTE, Action.FAILOVER, Action.SPILL)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Request, DeploymentTable, Health, float, float]:
    n = draw(st.integers(2, 12))
    floats = st.floats(0.0, 1.0)
    service = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    raw_w = np.array(draw(st.lists(floats, min_size=2 * n, max_size=2 * n))).reshape(2, n)
    tier = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    raw_w[:, tier == 1] = 0.0
    for s in (0, 1):  # rows of one service sum to 1 (or 0)
        cols = np.array(service) == s
        tot = raw_w[:, cols].sum(axis=1, keepdims=True)
        raw_w[:, cols] = np.divide(
            raw_w[:, cols], tot, out=np.zeros_like(raw_w[:, cols]), where=tot > 0
        )
    allowed = draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n)) + [True] * n
    t = table(
        service=service,
        weight=raw_w.tolist(),
        rtt=draw(st.lists(st.floats(1.0, 300.0), min_size=2 * n, max_size=2 * n)),
        allowed=allowed,
        tier=tier.tolist(),
        provider=draw(st.lists(st.sampled_from(("aws", "gcp", "ovh")), min_size=n, max_size=n)),
        ramp=draw(st.lists(floats, min_size=n, max_size=n)),
        services=SERVICES,
        geographies=GEOS,
        data_classes=CLASSES,
    )
    h = health(
        draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        draw(st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n)),
        draw(st.one_of(st.none(), st.lists(floats, min_size=n, max_size=n))),
    )
    now = draw(st.floats(0.0, 100.0))
    attempt = draw(st.integers(0, 8))
    tried = tuple(draw(st.lists(st.integers(0, n - 1), max_size=n))) if attempt else ()
    r = Request(
        service=draw(st.sampled_from(SERVICES)),
        geography=draw(st.sampled_from(GEOS)),
        request_class="default",
        arrival_s=now,
        deadline_s=now + draw(st.floats(-1.0, 5.0)),
        data_class=draw(st.sampled_from((None, *CLASSES))),
        attempt=attempt,
        tried=tried,
    )
    return r, t, h, now, draw(st.floats(0.0, 1.0, exclude_max=True))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_policy_properties(case: tuple[Request, DeploymentTable, Health, float, float]) -> None:
    r, t, h, now, u = case
    d = decide(r, t, h, now, u)
    k = len(CLASSES) if r.data_class is None else CLASSES.index(r.data_class)
    allowed = (t.service == SERVICES.index(r.service)) & t.allowed[k]
    if d.action in TARGETED:
        assert 0 <= d.deployment < t.size
        assert allowed[d.deployment], "outside the allowed set"
        assert h.up[d.deployment], "a deployment known down"
        assert d.at_s is None
    else:
        assert d.deployment == -1
    if d.action in (Action.RETRY, Action.QUEUE):
        assert d.at_s is not None and now < d.at_s < r.deadline_s
    if d.action == Action.REJECT:
        assert d.reason
    # nothing allowed is up and usable: no target at all
    if not (allowed & h.up).any():
        assert d.action not in TARGETED
    # an allowed untried up deployment exists with room, near enough to answer by the
    # deadline: one is used, and never one further than that
    g = GEOS.index(r.geography)
    near = t.rtt_ms[g] / 1000.0 < r.deadline_s - now
    if now < r.deadline_s and (allowed & h.up & (h.load < 1) & near).any() and not r.tried:
        assert d.action in TARGETED
    if d.action in TARGETED:
        assert near[d.deployment], "a deployment too far to answer by the deadline"
    assert decide(r, t, h, now, u) == d  # deterministic


@settings(max_examples=400, deadline=None)
@given(cases())
def test_fast_path_decides_as_the_general_path(
    case: tuple[Request, DeploymentTable, Health, float, float],
) -> None:
    """A request with nothing tried takes the fast path; with a deployment "tried" that is not
    in the table it takes the general path over the same candidates: the same decision. Health
    as plain lists (the simulator's) decides as numpy arrays do."""
    r, t, h, now, u = case
    fresh = Request(**{**_fields(r), "attempt": 0, "tried": ()})
    general = Request(**{**_fields(r), "attempt": 0, "tried": (t.size + 7,)})
    assert decide(fresh, t, h, now, u) == decide(general, t, h, now, u)
    as_lists = Health(
        [bool(x) for x in h.up],
        [float(x) for x in h.load],
        [float(x) for x in h.provider_share],
    )
    assert decide(r, t, as_lists, now, u) == decide(r, t, h, now, u)


def _fields(r: Request) -> dict[str, object]:
    return {f: getattr(r, f) for f in Request.__slots__}
