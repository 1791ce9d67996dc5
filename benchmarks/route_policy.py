"""Routing-policy micro-benchmark: ``decide`` calls per CPU-second on a 50-deployment table.

A generated table (seeded): 50 deployments of 3 services over 4 geographies, two data classes
(one allowed on about half the deployments), a fifth of them spill tier. Three health views:
``healthy`` (all up, load 0.5: planned routes), ``degraded`` (a third down, a third saturated:
failover and spill) and ``retry`` (second attempts with three deployments tried). One JSON line
per view: calls, calls per CPU-second (``time.process_time``), per wall-second, microseconds per
call, the mix of actions and the load average. Run: ``python benchmarks/run.py route [--calls N]``.
No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from archipel.route.policy import decide
from archipel.route.types import DeploymentTable, Health, Request
from measure import emit, loadavg

D = 50
SERVICES = ("chat", "code", "embed")
GEOS = ("eu", "us", "ap", "sa")
CLASSES = ("personal", "sovereign")


def make_table(rng: np.random.Generator) -> DeploymentTable:
    service = rng.integers(0, len(SERVICES), D)
    tier = (rng.random(D) < 0.2).astype(np.int64)
    weight = rng.random((len(GEOS), D)) * (rng.random((len(GEOS), D)) < 0.4) * (tier == 0)
    for s in range(len(SERVICES)):
        cols = service == s
        tot = weight[:, cols].sum(axis=1, keepdims=True)
        weight[:, cols] = np.divide(
            weight[:, cols], tot, out=np.zeros_like(weight[:, cols]), where=tot > 0
        )
    allowed = np.vstack([rng.random(D) < 0.5, rng.random(D) < 0.7, np.ones(D, dtype=bool)])
    provider = tuple(str(p) for p in rng.choice(["aws", "gcp", "ovh", "azure"], D))
    return DeploymentTable(
        period=0,
        period_label="bench",
        services=SERVICES,
        geographies=GEOS,
        data_classes=CLASSES,
        request_classes=tuple(("default",) for _ in SERVICES),
        key=tuple(f"d{d}" for d in range(D)),
        service=service.astype(np.int64),
        provider=provider,
        region=tuple(f"{p}:r{d}" for d, p in enumerate(provider)),
        offering_id=tuple(f"o{d}" for d in range(D)),
        spot=np.zeros(D, dtype=bool),
        replicas=rng.integers(1, 40, D).astype(np.int64),
        rate=np.full((D, 1), 5.0),
        rtt_ms=rng.uniform(2.0, 250.0, (len(GEOS), D)),
        weight=weight,
        allowed=allowed,
        tier=tier,
        ramp=np.where(rng.random(D) < 0.1, 0.2, 1.0),
    )


def views(rng: np.random.Generator) -> dict[str, tuple[Health, bool]]:
    share = rng.random(D) * 0.3
    r = rng.random(D)
    return {
        "healthy": (Health(np.ones(D, dtype=bool), np.full(D, 0.5), share), False),
        "degraded": (Health(r >= 1 / 3, np.where(r > 2 / 3, 1.2, 0.5), share), False),
        "retry": (Health(np.ones(D, dtype=bool), np.full(D, 0.5), share), True),
    }


def requests(rng: np.random.Generator, n: int, retry: bool) -> list[Request]:
    out = []
    for i in range(n):
        dc = rng.integers(0, 3)
        out.append(
            Request(
                service=SERVICES[i % len(SERVICES)],
                geography=GEOS[int(rng.integers(0, len(GEOS)))],
                request_class="default",
                arrival_s=0.0,
                deadline_s=30.0,
                data_class=None if dc == 2 else CLASSES[int(dc)],
                attempt=1 if retry else 0,
                tried=tuple(int(x) for x in rng.integers(0, D, 3)) if retry else (),
            )
        )
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="run.py route", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    table = make_table(rng)
    rows = []
    for name, (health, retry) in views(rng).items():
        reqs = requests(rng, args.calls, retry)
        draws = rng.random(args.calls).tolist()
        for r, u in zip(reqs[:1000], draws, strict=False):  # warm up
            decide(r, table, health, 1.0, u)
        actions: Counter[str] = Counter()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for r, u in zip(reqs, draws, strict=True):
            actions[decide(r, table, health, 1.0, u).action] += 1
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        row = {
            "benchmark": "route",
            "view": name,
            "deployments": D,
            "calls": args.calls,
            "calls_per_cpu_s": round(args.calls / cpu),
            "calls_per_wall_s": round(args.calls / wall),
            "us_per_call_cpu": round(1e6 * cpu / args.calls, 2),
            "actions": dict(sorted(actions.items())),
            "loadavg": loadavg(),
        }
        emit(row)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
