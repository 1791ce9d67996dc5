"""Hand-made deployment tables for routing-policy tests (no plan needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archipel.route.types import DeploymentTable, Health


def table(
    *,
    service: Sequence[int],
    weight: Sequence[Sequence[float]],
    rtt: Sequence[Sequence[float]],
    allowed: Sequence[Sequence[bool]],
    tier: Sequence[int],
    provider: Sequence[str] | None = None,
    ramp: Sequence[float] | None = None,
    services: tuple[str, ...] = ("chat",),
    geographies: tuple[str, ...] = ("eu", "us"),
    data_classes: tuple[str, ...] = ("personal",),
) -> DeploymentTable:
    """A table of ``len(service)`` deployments; ``allowed`` has one row per data class plus the
    last for no data class."""
    n = len(service)
    prov = tuple(provider) if provider is not None else tuple(f"p{d}" for d in range(n))
    return DeploymentTable(
        period=0,
        period_label="2027-Q1",
        services=services,
        geographies=geographies,
        data_classes=data_classes,
        request_classes=tuple(("default",) for _ in services),
        key=tuple(f"d{d}" for d in range(n)),
        service=np.array(service, dtype=np.int64),
        provider=prov,
        region=tuple(f"{p}:r{d}" for d, p in enumerate(prov)),
        offering_id=tuple(f"o{d}" for d in range(n)),
        spot=np.zeros(n, dtype=bool),
        replicas=np.ones(n, dtype=np.int64),
        rate=np.ones((n, 1)),
        rtt_ms=np.array(rtt, dtype=float).reshape(len(geographies), n),
        weight=np.array(weight, dtype=float).reshape(len(geographies), n),
        allowed=np.array(allowed, dtype=bool).reshape(len(data_classes) + 1, n),
        tier=np.array(tier, dtype=np.int64),
        ramp=np.ones(n) if ramp is None else np.array(ramp, dtype=float),
    )


def health(
    up: Sequence[bool], load: Sequence[float] | None = None, share: Sequence[float] | None = None
) -> Health:
    n = len(up)
    return Health(
        up=np.array(up, dtype=bool),
        load=np.zeros(n) if load is None else np.array(load, dtype=float),
        provider_share=np.zeros(0) if share is None else np.array(share, dtype=float),
    )
