"""The values the routing policy works with: requests, the deployment table, the health view and
decisions (docs/semantics.md, "Run time: one policy, two clocks" in ../shared/DESIGN.md).

The policy is pure: it reads these values and returns a :class:`Decision`; it has no clock,
socket or random source of its own (time and random draws are passed in). The gateway drives it
with wall-clock time and HTTP, the simulator with virtual time and simulated outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the policy sees it. Times are seconds on the driver's clock."""

    service: str
    geography: str
    request_class: str
    arrival_s: float
    deadline_s: float  # the response must be complete by then (end-to-end SLO)
    ttft_deadline_s: float | None = None  # the first token by then, when the service says so
    data_class: str | None = None
    attempt: int = 0  # 0 for the first try
    tried: tuple[int, ...] = ()  # deployments already tried for this request (table indices)

    def after_failure(self, d: int) -> Request:
        """The request as the policy sees it after a failed attempt on ``d`` (positional: this
        runs once per failure on the simulator's hot path, where ``replace`` costs more)."""
        return Request(
            self.service,
            self.geography,
            self.request_class,
            self.arrival_s,
            self.deadline_s,
            self.ttft_deadline_s,
            self.data_class,
            self.attempt + 1,
            (*self.tried, d),
        )

    def attempt_target_s(self, now_s: float) -> float:
        """What an attempt made at ``now_s`` races: the first-token deadline while it is ahead,
        else the end-to-end deadline. (Racing a first-token deadline already past gave attempts
        no time at all: each failed at once and re-opened a half-open breaker.)"""
        ttft = self.ttft_deadline_s
        return ttft if ttft is not None and ttft > now_s else self.deadline_s


@dataclass(frozen=True)
class DeploymentTable:
    """The deployments of one plan period, as arrays over deployments ``d`` (one per service,
    region and offering with replicas), with the routing facts the plan fixes.

    ``weight[d]`` is the planned share of the service's traffic from geography ``g`` sent to
    ``d`` (``weight`` is [G, D]; rows of one service sum to 1 over its deployments, or 0 where
    the plan sends the geography nothing). ``allowed`` is [K, D]: deployment ``d`` may serve data
    class ``k`` (residency and CLOUD Act, already applied: a hard filter); class ``k`` of index
    ``len(data_classes)`` stands for requests with no data class. ``tier[d]`` is 0 for planned
    capacity and 1 for spill capacity (spare capacity the plan holds for peaks and failures).
    ``ramp[d]`` caps the share of the service's traffic its provider may take (1 when no ramp).
    """

    period: int
    period_label: str
    services: tuple[str, ...]
    geographies: tuple[str, ...]
    data_classes: tuple[str, ...]
    request_classes: tuple[tuple[str, ...], ...]  # per service
    key: tuple[str, ...]  # [D] "service/region/offering_id"
    service: IntArray  # [D]
    provider: tuple[str, ...]  # [D]
    region: tuple[str, ...]  # [D]
    offering_id: tuple[str, ...]  # [D]
    spot: BoolArray  # [D]
    replicas: IntArray  # [D] whole replicas
    rate: FloatArray  # [D, C] requests/s per replica per request class of the service
    rtt_ms: FloatArray  # [G, D] estimated round trip from each geography
    weight: FloatArray  # [G, D] planned traffic share per geography (see above)
    allowed: BoolArray  # [K, D] data class may be served there (hard filter)
    tier: IntArray  # [D] 0 planned, 1 spill
    ramp: FloatArray  # [D] the provider's traffic-ramp cap for the service (1: none)

    @property
    def size(self) -> int:
        return int(self.service.size)


@dataclass(frozen=True)
class Health:
    """What the driver knows of each deployment now: ``up`` (circuit closed, or half-open and
    this request may be the probe) and ``load`` (in-flight requests over the capacity the
    replicas have, 0 = idle, 1 = at capacity), indexed by deployment. numpy arrays, or plain
    lists where a driver updates them one element at a time (faster to read and write in pure
    Python); the policy only indexes them."""

    up: BoolArray | list[bool]  # [D]
    load: FloatArray | list[float]  # [D]
    provider_share: FloatArray | list[float] = field(default_factory=lambda: np.zeros(0))  # [D]


class Action(StrEnum):
    ROUTE = "route"  # send to ``deployment`` (the planned placement)
    FAILOVER = "failover"  # send to ``deployment``, another than planned, the planned one down
    SPILL = "spill"  # send to spill-tier ``deployment``: planned capacity is saturated
    RETRY = "retry"  # try again at ``at_s`` (a transient error, within the deadline)
    QUEUE = "queue"  # hold until ``at_s``: every allowed deployment is busy
    REJECT = "reject"  # give up now, ``reason`` says why


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    deployment: int = -1  # index into the table for ROUTE, FAILOVER, SPILL
    at_s: float | None = None  # for RETRY and QUEUE
    reason: str = ""  # for REJECT; a short note otherwise
