"""Prometheus metrics of the gateway (its own registry: nothing at module level).

With ``--workers N`` the processes share one port, so a scrape reaches one of them at a time:
``serve`` then runs prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, a
fresh directory per run, set before the workers start). Counters and histograms are summed
over the workers; gauges of a worker's own view (breaker state, ramp cap) keep one series per
worker (``pid`` label) while it lives; budget spend shows the most recent value written (with
``--redis`` every worker sees the same budget).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        p = "archipel_gateway_"
        self.requests = Counter(
            p + "requests",
            "Requests answered, by service and outcome",
            ["service", "outcome"],
            registry=r,
        )
        self.attempts = Counter(
            p + "attempts",
            "Upstream attempts by deployment and result",
            ["deployment", "result"],
            registry=r,
        )
        self.failovers = Counter(
            p + "failovers",
            "Requests sent to another deployment after a failed attempt",
            ["service"],
            registry=r,
        )
        self.latency = Histogram(
            p + "latency_seconds",
            "End-to-end latency of served requests",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            p + "overhead_seconds",
            "Time spent in the gateway (latency minus upstream time)",
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self.spend = Counter(
            p + "spend_usd",
            "Spend priced from the plan, by provider and contract ('' none)",
            ["provider", "contract"],
            registry=r,
        )
        self.budget_spent = Gauge(
            p + "budget_spent_usd",
            "Spend counted against a budget, by quota ('tenant' or 'tenant/key'), as of this "
            "process's last settlement (shared across processes with Redis)",
            ["quota"],
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.commitment = Gauge(
            p + "commitment_usd",
            "Commitment of each contract year running in the served period (the plan's)",
            ["provider", "contract", "year"],
            registry=r,
            multiprocess_mode="max",
        )
        self.planned_serving = Gauge(
            p + "planned_serving_usd",
            "What the period's planned serving deployments spend toward each contract year over "
            "the period, priced as spend_usd is (compare with spend_usd's increase)",
            ["provider", "contract", "year"],
            registry=r,
            multiprocess_mode="max",
        )
        self.refused = Counter(
            p + "refused",
            "Requests refused by limits, by quota ('tenant' or 'tenant/key') and kind",
            ["quota", "kind"],
            registry=r,
        )
        self.residency_blocks = Counter(
            p + "residency_blocks",
            "Decisions that named a deployment outside the allowed set (refused; should stay 0)",
            registry=r,
        )
        self.breaker = Gauge(
            p + "breaker_state",
            "Circuit breaker: 0 closed, 1 open, 2 half-open",
            ["deployment"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.ramp_cap = Gauge(
            p + "ramp_cap",
            "Effective traffic-ramp cap of a provider for a service",
            ["service", "provider"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.ramp_rollbacks = Counter(
            p + "ramp_rollbacks",
            "Ramp steps rolled back by the SLO gate",
            ["service", "provider"],
            registry=r,
        )
        self.reloads = Counter(p + "reloads", "Configuration reloads", ["result"], registry=r)

    def render(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):  # every worker's values, from the shared directory
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)

    @staticmethod
    def process_exited(pid: int) -> None:
        """Drop a worker's live gauges when it stops (multiprocess mode only)."""
        if os.environ.get(MULTIPROC_ENV):
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
