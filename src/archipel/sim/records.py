"""What the simulator takes and gives: the workload, the run's settings, per-request outcomes
and the event log (the engine is :mod:`archipel.sim.engine`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from archipel.route.types import BoolArray, FloatArray, IntArray
from archipel.sim.service import ServiceModel

SERVED, FAILED, REJECTED = 1, 2, 3
STATUS = {0: "pending", SERVED: "served", FAILED: "failed", REJECTED: "rejected"}


@dataclass(frozen=True)
class Workload:
    """Requests as arrays over ``N`` (arrival-sorted), indices into the table's names; SLO
    targets per service in seconds (``ttft_slo_s`` NaN where the service sets none)."""

    arrival_s: FloatArray
    service: IntArray
    geography: IntArray
    request_class: IntArray
    data_class: IntArray  # -1: none
    input_tokens: IntArray
    output_tokens: IntArray
    e2e_slo_s: FloatArray  # [S]
    ttft_slo_s: FloatArray  # [S]
    class_tokens: tuple[tuple[tuple[int, int], ...], ...]  # per service, per class (in, out)

    @property
    def size(self) -> int:
        return int(self.arrival_s.size)


@dataclass(frozen=True)
class SimConfig:
    seed: int = 0
    service: ServiceModel = field(default_factory=ServiceModel)
    breaker_failures: int = 5
    breaker_open_s: float = 30.0
    max_decisions: int = 32
    record_log: bool = True
    hung_timeout_s: float = 10.0  # a request on a replica that hangs fails this much later
    share_window_s: float = 60.0  # provider_share: sends over the previous window of this length
    rtt_scale: float = 1.0  # the network round trip requests take, as a share of table.rtt_ms
    # "oracle": health.up knows outages and hangs at once; "observed": only what a gateway
    # learns from its attempts (archipel.sim.observed); the fields below are for "observed"
    health: str = "oracle"
    attempt_share: float = 0.5  # an attempt is abandoned after this share of the time left
    chunk_timeout_s: float = 30.0  # a stream silent this long after its first token is cut
    stream_chunks: int = 4  # chunks of a streamed response, evenly spaced after the first

    def __post_init__(self) -> None:
        if self.health not in ("oracle", "observed"):
            raise ValueError(f"health is 'oracle' or 'observed', not {self.health!r}")
        if not 0.0 < self.attempt_share <= 1.0:
            raise ValueError("attempt_share must be in (0, 1]")
        if not self.rtt_scale >= 0.0:
            raise ValueError("rtt_scale must be non-negative")
        if self.stream_chunks < 1 or not self.chunk_timeout_s > 0.0:
            raise ValueError("stream_chunks must be at least 1 and chunk_timeout_s positive")


@dataclass
class Outcomes:
    """Per request: final status, counts, times (NaN unless served), the serving deployment
    (-1 none) and ``outside_allowed``: some attempt went to a deployment outside its allowed set."""

    status: NDArray[np.int8]
    attempts: IntArray
    failovers: IntArray
    spills: IntArray
    retries: IntArray
    ttft_s: FloatArray
    e2e_s: FloatArray
    deployment: IntArray
    outside_allowed: BoolArray


@dataclass
class SimResult:
    outcomes: Outcomes
    log: list[tuple[float, str, int, int]]
    replica_seconds: FloatArray  # [D] replica time billed (outages and hangs in, preemptions out)
    horizon_s: float

    def log_bytes(self) -> bytes:
        return "".join(f"{t:.6f} {k} {a} {b}\n" for t, k, a, b in self.log).encode()

    def log_sha256(self) -> str:
        return hashlib.sha256(self.log_bytes()).hexdigest()
