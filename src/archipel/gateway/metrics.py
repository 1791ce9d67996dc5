"""Prometheus metrics of one gateway process (its own registry: nothing at module level).

With ``--workers N`` each process serves its own ``/metrics``; sum them in Prometheus (a
scrape of the port reaches one process at a time).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
        )
        self.ramp_cap = Gauge(
            p + "ramp_cap",
            "Effective traffic-ramp cap of a provider for a service",
            ["service", "provider"],
            registry=r,
        )
        self.ramp_rollbacks = Counter(
            p + "ramp_rollbacks",
            "Ramp steps rolled back by the SLO gate",
            ["service", "provider"],
            registry=r,
        )
        self.reloads = Counter(p + "reloads", "Configuration reloads", ["result"], registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
