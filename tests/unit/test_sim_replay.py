"""The Azure 2023 conversation trace replayed through a small table with faults: invariants that
hold whatever the figures (skips where ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simkit import router, table

from archipel.sim.engine import FAILED, REJECTED, SERVED, SimConfig, Workload, simulate
from archipel.sim.faults import random_schedule
from archipel.sim.metrics import window_metrics
from archipel.sim.traces import load_azure, scale_to_rate

pytestmark = pytest.mark.shared_data


def test_replay_conv_trace(shared_data: Path) -> None:
    tr = scale_to_rate(load_azure("conv", shared_data), 5.0)
    n = tr.size
    z = np.zeros(n, dtype=np.int64)
    rng = np.random.Generator(np.random.PCG64(3))
    dc = np.where(rng.random(n) < 0.4, 0, -1).astype(np.int64)
    w = Workload(
        tr.arrival_s, z, z, z, dc, tr.input_tokens, tr.output_tokens,
        np.array([30.0]), np.array([2.0]), (((1000, 200),),),
    )  # fmt: skip
    tb = table(replicas=(3, 3, 2), rate=(1.0, 1.0, 1.0), weight=(0.5, 0.5, 0.0), rtt_ms=30.0,
               allowed_eu=(True, False, True), tier=(0, 0, 1))  # fmt: skip
    faults = random_schedule(tb, float(tr.arrival_s[-1]), 2, outages=3, capacity_errors=4)
    res = simulate(tb, w, router, faults, SimConfig(seed=9))
    o = res.outcomes
    assert set(np.unique(o.status).tolist()) <= {SERVED, FAILED, REJECTED}
    assert int(o.outside_allowed.sum()) == 0  # the router keeps to the allowed set
    assert not np.any(o.deployment[dc == 0] == 1)
    served = o.status == SERVED
    assert np.all(o.e2e_s[served] >= o.ttft_s[served]) and np.all(o.ttft_s[served] >= 0.03)
    assert np.all(o.attempts >= (o.status != REJECTED))
    assert int(o.spills.sum()) > 0  # the spill tier takes overflow
    rows = window_metrics(tb, w, res, 600.0)
    assert sum(r.requests for r in rows) == n
    assert sum(r.served for r in rows) == int(served.sum())
    assert all(0.0 <= r.e2e_attained <= r.availability <= 1.0 for r in rows)
