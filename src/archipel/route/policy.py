"""The routing policy: one request, the deployment table, the health view and the time in; one
:class:`~archipel.route.types.Decision` out (docs/semantics.md, "Routing policy").

Pure and deterministic: no clock, socket or random source; ``now_s`` and ``draw`` (uniform in
[0, 1)) are passed in, and the same inputs give the same decision. The candidates of each request kind
(service, geography, data class) are computed once per table and kept.

Rules, in order (``cand``: deployments of the request's service that its data class may use):

1. Hard filter first. ``cand`` comes from ``table.allowed`` (residency and CLOUD Act); nothing
   below ever looks outside it, including failover, spill and retry. REJECT when the deadline has
   passed (``now_s >= deadline_s``), the service, geography or data class is unknown to the table,
   or no deployment is allowed.
2. Usable: up (``health.up``), not in ``req.tried``, nearer than the deadline (its round trip
   ``rtt_ms / 1000 < deadline_s − now_s``: a response cannot come back in time from further),
   not saturated (``health.load < 1``) and under its ramp cap (``health.provider_share <
   table.ramp``; a cap of 1 or more, or no share given: under it).
3. ROUTE: among usable tier-0 deployments with planned weight for the request's geography,
   sample one by ``weight[g]`` with ``draw``.
4. Otherwise the planned placement is down, tried, saturated or at its ramp cap:
   SPILL when some planned deployment is up, untried and saturated: the usable tier-1
   deployment with the lowest RTT; failing that, or when the planned one is down: FAILOVER to
   the usable deployment with the lowest (tier, RTT), tier 0 first. When the request has a
   first-token deadline, candidates whose round trip alone would miss it come after all others
   in both choices (a spill or failover that can still make the first token beats one that
   cannot). (A geography the plan sends nothing has no planned placement: its requests fail
   over to the nearest.)
5. Ramp caps give way last: when no deployment passes 2 but some would without the ramp cap,
   steps 3–4 run again ignoring it (better over the ramp than refused); ``reason`` says so.
6. Nothing usable. Some allowed deployment is up and untried but saturated: QUEUE until
   ``now_s + min(QUEUE_S · (1 + draw), (deadline − now_s) / 2)`` — the driver wakes a queued
   request earlier when a deployment of its service frees capacity (a completion), so the
   hold is a fallback, and never reaches the deadline; a hold under ``QUEUE_MIN_S`` is a
   REJECT (no endless halving toward the deadline). None up and untried (all down, or all tried after a failed
   attempt): RETRY at ``now_s + backoff(attempt, draw)``, a new round: the driver calls again
   at ``at_s`` with ``attempt + 1`` and ``tried=()``. Either time must fall strictly before the
   deadline, else REJECT.

A deployment known down is never targeted (whether or not another is up). After a failed attempt
(``attempt > 0``) the tried deployments are skipped, so the retry goes to a different deployment
right away when one is usable, else waits out the backoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archipel.route.types import Action, Decision, DeploymentTable, Health, Request

QUEUE_S = 5.0  # longest hold when every allowed deployment is busy (s), jittered up to 2x;
# the driver wakes the request sooner when capacity frees
QUEUE_MIN_S = 0.025  # a hold shorter than this (the deadline too close) is a rejection
BACKOFF_BASE_S = 0.05  # first retry backoff (s); doubles per attempt, jittered in [1/2, 1]
BACKOFF_CAP_S = 2.0

Flags = Sequence[bool] | np.ndarray  # health.up: a numpy array, or a list on a driver's hot path
Levels = Sequence[float] | np.ndarray


def backoff_s(attempt: int, draw: float) -> float:
    """Exponential backoff with jitter: base · 2^attempt capped, times (1 + draw) / 2."""
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** max(0, min(attempt, 30))) * (1 + draw) / 2


def _reject(reason: str) -> Decision:
    return Decision(Action.REJECT, reason=reason)


@dataclass(frozen=True, slots=True)
class _Cands:
    """A request kind's allowed deployments of its service (indices in table order), with the
    facts the policy reads, as plain lists: the per-call work is over a handful of them."""

    index: tuple[int, ...]
    weight: tuple[float, ...]  # planned weight from the request's geography
    planned: tuple[bool, ...]  # weight > 0 and tier 0
    tier: tuple[int, ...]
    rtt: tuple[float, ...]
    ramp: tuple[float, ...]  # the ramp cap; 1 or more is no cap
    # the fast path (no deployment tried yet): the planned candidates as (deployment, weight,
    # cap or None, RTT in seconds, the ROUTE decision), and whether any candidate has a ramp
    # cap below 1
    plan_route: tuple[tuple[int, float, float | None, float, Decision], ...]
    capped: bool


_cache: list[object] = [None, {}]  # the last table seen and its candidate sets


def _cands(table: DeploymentTable, req: Request) -> _Cands | Decision:
    if _cache[0] is not table:
        _cache[0], _cache[1] = table, {}
    memo = _cache[1]
    assert isinstance(memo, dict)
    key = (req.service, req.geography, req.data_class)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _build(table, req)
    assert isinstance(found, _Cands | Decision)
    return found


def _build(table: DeploymentTable, req: Request) -> _Cands | Decision:
    s = _index(table.services, req.service)
    if s < 0:
        return _reject(f"unknown service {req.service!r}")
    g = _index(table.geographies, req.geography)
    if g < 0:
        return _reject(f"unknown geography {req.geography!r}")
    if req.data_class is None:
        k = len(table.data_classes)
    else:
        k = _index(table.data_classes, req.data_class)
        if k < 0:
            return _reject(f"unknown data class {req.data_class!r}: no deployment known allowed")
    idx = np.flatnonzero((table.service == s) & table.allowed[k])
    if idx.size == 0:
        return _reject("no deployment allowed for the data class")
    index = tuple(int(d) for d in idx)
    weight = tuple(float(x) for x in table.weight[g, idx])
    tier = tuple(int(x) for x in table.tier[idx])
    planned = tuple(w > 0 and t == 0 for w, t in zip(weight, tier, strict=True))
    ramp = tuple(float(x) for x in table.ramp[idx])
    rtt = tuple(float(x) for x in table.rtt_ms[g, idx])
    plan_route = tuple(
        (
            d,
            w,
            r if r < 1.0 else None,
            ms / 1000.0,
            Decision(Action.ROUTE, deployment=d, reason="planned"),
        )
        for d, w, r, ms, p in zip(index, weight, ramp, rtt, planned, strict=True)
        if p
    )
    return _Cands(index, weight, planned, tier, rtt, ramp, plan_route, any(r < 1.0 for r in ramp))


def _index(names: tuple[str, ...], name: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        return -1


def _route_fresh(
    c: _Cands,
    up: Flags,
    load: Levels,
    share: Levels | None,
    draw: float,
    left_s: float,
) -> Decision | None:
    """Step 3 for a request with nothing tried: the weighted draw over the planned candidates
    that are up, below full load, under their ramp cap and nearer than the time left
    (``left_s``); None when there is none (the general path decides). The same pool and draw
    as :func:`_pick`, so the same decision."""
    pool: list[tuple[int, float, float | None, float, Decision]] = []
    total = 0.0
    for entry in c.plan_route:
        d, w, cap, rtt_s, _ = entry
        if (
            up[d]
            and load[d] < 1.0
            and rtt_s < left_s
            and (cap is None or share is None or share[d] < cap)
        ):
            pool.append(entry)
            total += w
    if not pool:
        return None
    if len(pool) == 1:
        return pool[0][4]
    target, cum = draw * total, 0.0
    for entry in pool:
        cum += entry[1]
        if cum > target:
            return entry[4]
    return pool[-1][4]


def _pick(
    c: _Cands, usable: list[int], saturated_plan: bool, draw: float, ttft_left_s: float
) -> Decision | None:
    """Steps 3–4 over the usable candidates (positions in ``c``, ascending); None when there
    is none. Off the planned placement, a candidate whose round trip alone would miss the first
    token's deadline (``ttft_left_s`` away) comes after every one that would not."""
    if not usable:
        return None
    pool = [i for i in usable if c.planned[i]]
    if pool:
        total = sum(c.weight[i] for i in pool)
        target, cum = draw * total, 0.0
        for i in pool:
            cum += c.weight[i]
            if cum > target:
                return Decision(Action.ROUTE, deployment=c.index[i], reason="planned")
        return Decision(Action.ROUTE, deployment=c.index[pool[-1]], reason="planned")

    def late(j: int) -> bool:
        return c.rtt[j] / 1000.0 >= ttft_left_s

    if saturated_plan:
        spill = [i for i in usable if c.tier[i] == 1]
        if spill:
            i = min(spill, key=lambda j: (late(j), c.rtt[j], j))
            return Decision(
                Action.SPILL, deployment=c.index[i], reason="planned capacity saturated"
            )
    i = min(usable, key=lambda j: (late(j), c.tier[j], c.rtt[j], j))
    why = "planned capacity saturated" if saturated_plan else "planned placement unavailable"
    if not any(c.planned):
        why = "no planned flow from this geography"
    return Decision(Action.FAILOVER, deployment=c.index[i], reason=why)


def decide(
    req: Request, table: DeploymentTable, health: Health, now_s: float, draw: float
) -> Decision:
    """The decision for ``req`` at ``now_s`` (module docstring); ``draw`` uniform in [0, 1)."""
    if now_s >= req.deadline_s:
        return _reject("deadline passed")
    c = _cands(table, req)
    if isinstance(c, Decision):
        return c
    up_arr, load_arr, share = health.up, health.load, health.provider_share
    ramps = c.capped and len(share) == table.size
    left_s = req.deadline_s - now_s
    ttft_left_s = left_s if req.ttft_deadline_s is None else req.ttft_deadline_s - now_s
    if not req.tried:  # the common case: step 3 over the planned candidates alone
        routed = _route_fresh(c, up_arr, load_arr, share if ramps else None, draw, left_s)
        if routed is not None:
            return routed
    scan = _scan(c, req.tried, up_arr, load_arr, share if ramps else None, left_s)
    decision = _pick(c, scan.under, scan.saturated_plan, draw, ttft_left_s)
    if decision is not None:
        return decision
    if scan.over:
        decision = _pick(c, sorted(scan.under + scan.over), scan.saturated_plan, draw, ttft_left_s)
        assert decision is not None
        return Decision(
            decision.action,
            deployment=decision.deployment,
            reason=decision.reason + "; over the ramp cap: nothing else usable",
        )
    if scan.fresh:  # up, untried and near enough, but all saturated
        at = now_s + min(QUEUE_S * (1.0 + draw), (req.deadline_s - now_s) / 2.0)
        if at - now_s >= QUEUE_MIN_S:
            return Decision(Action.QUEUE, at_s=at, reason="every allowed deployment busy")
        return _reject("every allowed deployment busy and the deadline too close to queue")
    if scan.far and not scan.tried_near:  # a new round cannot bring them nearer
        return _reject("every allowed deployment up is too far to answer by the deadline")
    at = now_s + backoff_s(req.attempt, draw)
    why = "every allowed deployment tried" if scan.up else "every allowed deployment down"
    if at < req.deadline_s:
        return Decision(Action.RETRY, at_s=at, reason=why)
    return _reject(why + " and the deadline too close to retry")


@dataclass(slots=True)
class _Scan:
    under: list[int]  # free (up, untried, near enough, below full load), under the ramp cap
    over: list[int]  # free but over the ramp cap
    saturated_plan: bool  # a planned candidate is up, untried, near enough and saturated
    up: bool  # some candidate is up
    fresh: bool  # some candidate is up, untried and near enough
    far: bool  # some candidate is up but further than the deadline allows
    tried_near: bool  # some candidate is up, near enough and tried


def _scan(
    c: _Cands,
    tried: tuple[int, ...],
    up: Flags,
    load: Levels,
    share: Levels | None,
    left_s: float,
) -> _Scan:
    """One pass over the candidates for the general path (steps 2 and 6)."""
    out = _Scan([], [], False, False, False, False, False)
    for i, d in enumerate(c.index):
        if not up[d]:
            continue
        out.up = True
        if c.rtt[i] / 1000.0 >= left_s:  # the round trip alone would miss the deadline
            out.far = True
            continue
        if d in tried:
            out.tried_near = True
            continue
        out.fresh = True
        if load[d] < 1.0:
            cap = c.ramp[i]
            (out.under if share is None or cap >= 1.0 or share[d] < cap else out.over).append(i)
        elif c.planned[i]:
            out.saturated_plan = True
    return out
