"""Same seed and inputs give a byte-identical event log; another seed gives another log."""

from __future__ import annotations

import hashlib

import numpy as np
from simkit import table, workload

from archipel.route.types import Action, Decision, DeploymentTable, Health, Request
from archipel.sim.engine import SimConfig, SimResult, simulate
from archipel.sim.faults import random_schedule


def weighted_draw(
    req: Request, tb: DeploymentTable, h: Health, now: float, draw: float
) -> Decision:
    """Picks among up deployments by weight with the draw, so the seed steers the routing."""
    w = tb.weight[0] * np.asarray(h.up) * (np.asarray(h.load) < 1.0)
    if w.sum() <= 0:
        return Decision(Action.REJECT, reason="none up")
    d = int(np.searchsorted(np.cumsum(w) / w.sum(), draw, side="right"))
    return Decision(Action.ROUTE, min(d, tb.size - 1))


def run(seed: int) -> SimResult:
    tb = table(replicas=(2, 3, 1), rate=(2.0, 1.5, 4.0), weight=(0.5, 0.3, 0.2), rtt_ms=20.0)
    rng = np.random.Generator(np.random.PCG64(7))
    arrivals = np.sort(rng.uniform(0, 600, 3000))
    faults = random_schedule(tb, 600.0, 11, outages=2, outage_s=60.0, spikes=2, capacity_errors=3)
    return simulate(tb, workload(arrivals), weighted_draw, faults, SimConfig(seed=seed))


def test_same_seed_same_log_bytes() -> None:
    a, b = run(1), run(1)
    ha = hashlib.sha256(a.log_bytes()).hexdigest()
    assert ha == hashlib.sha256(b.log_bytes()).hexdigest() == a.log_sha256()
    assert len(a.log) > 3000 * 2
    kinds = {k for _, k, _, _ in a.log}
    assert {"A", "S", "C", "+", "-", "E"} <= kinds


def test_other_seed_other_log() -> None:
    assert run(1).log_sha256() != run(2).log_sha256()
