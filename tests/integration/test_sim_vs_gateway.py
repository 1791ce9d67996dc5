"""The same trace and fault schedule through the simulator and through the real gateway (fake
backends and a gateway process on 127.0.0.1, :mod:`archipel.gateway.replay_run`): the counts of
requests served, failed, retried and failed over are equal for each deterministic fault.

The tenant sends EU personal data from Virginia: the plan sends that geography nothing in the
two EU deployments it may use, so the policy takes the nearest (no weighted draw, which the two
sides make from different random streams); the fault strikes that deployment. No timing is
asserted (latency is the benchmark's, ``benchmarks/sim_vs_gateway.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from archipel.gateway.replay import (
    Replay,
    Settings,
    Tenant,
    fault,
    make_replay,
    risk,
    run_sim,
    settle,
    simulate_replay,
)
from archipel.gateway.replay_run import run_gateway
from archipel.sim.faults import Fault, FaultKind, schedule
from archipel.sim.traces import Trace
from gateway_kit import SPEC, PlanFiles, make_plan_files

COUNTS = ("served", "failed", "retried", "failed_over")
TENANT = Tenant("eu", "eu-test-key", "eu-personal", "virginia")
# a first-token SLO long enough that a request retried while both deployments were out can still
# meet it when a circuit half-opens
SETTINGS = Settings(speedup=8.0, chunk_timeout_s=1.0, ttft_slo_s=5.0, open_s=1.0)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> PlanFiles:
    return make_plan_files(tmp_path_factory.mktemp("simgw"))


def _choices(plan: PlanFiles) -> tuple[str, str]:
    """The tenant's deployments as fault targets, the policy's first choice first."""
    t = plan.table
    g = t.geographies.index(TENANT.geography)
    k = t.data_classes.index("eu-personal")
    allowed = np.flatnonzero(t.allowed[k] & (t.service == 0))
    assert len(allowed) == 2, "the example plan should give eu-personal two deployments"
    assert not (t.weight[g, allowed] > 0).any(), "placement would be drawn: pick another tenant"
    a, b = sorted(allowed, key=lambda d: (t.tier[d], t.rtt_ms[g, d]))
    return "deployment:" + t.key[a], "deployment:" + t.key[b]


def _trace(n: int = 160, rate: float = 15.0, seed: int = 11) -> Trace:
    rng = np.random.Generator(np.random.PCG64(seed))
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    return Trace("poisson", t - t[0], rng.integers(200, 3000, n), rng.integers(50, 500, n))


def _replay(plan: PlanFiles, kind: str) -> Replay:
    """``kind`` on the first choice from 3 to 7 s (429: to 5 s); ``both-429``: both deployments
    answer 429 from 3 to 3.6 s (no one is left: requests retry after a backoff)."""
    first, second = _choices(plan)
    if kind == "both-429":
        faults = [fault("429", 3.0, 3.6, first), fault("429", 3.0, 3.6, second)]
    else:
        # a shorter 429 window: fewer half-open probes, each an instant to keep clear of
        faults = [fault(kind, 3.0, 5.0 if kind == "429" else 7.0, first)]
    rep = make_replay(
        plan.table,
        _trace(),
        (TENANT,),
        schedule(faults),
        (plan.class_tokens,),
        SETTINGS,
    )
    rep = settle(rep)[0]
    assert risk(rep, simulate_replay(rep)) == 0, "no shift keeps the schedule clear of close calls"
    return rep


@pytest.mark.parametrize("kind", ["outage", "hang", "429", "both-429"])
def test_counts_equal(plan: PlanFiles, kind: str) -> None:
    rep = _replay(plan, kind)
    sim_side = run_sim(rep)
    gw_side = run_gateway(rep, SPEC, plan.plan).side
    sim, gw = sim_side.counts(), gw_side.counts()
    assert sim["requests"] == gw["requests"] == rep.size
    assert sim["failed_over"] > 0, "the fault should have sent requests elsewhere"
    if kind in ("outage", "hang"):
        assert sim["failed"] > 0, "streams past their first token fail with the deployment"
    if kind == "both-429":
        assert sim["retried"] > 0, "with both deployments failing some requests retry"
    differ = [
        (i, round(float(rep.arrival_s[i]), 3), sim_side.deployment[i], gw_side.deployment[i])
        for i in range(rep.size)
        if (sim_side.served[i], sim_side.failovers[i] > 0, sim_side.retries[i] > 0)
        != (gw_side.served[i], gw_side.failovers[i] > 0, gw_side.retries[i] > 0)
    ]
    got = {k: gw[k] for k in COUNTS}
    want = {k: sim[k] for k in COUNTS}
    assert got == want, f"{kind}, faults {rep.faults.faults}: requests that differ {differ}"


def test_bad_schedules_are_refused(plan: PlanFiles) -> None:
    first, second = _choices(plan)
    table, tr, cls = plan.table, _trace(20), (plan.class_tokens,)

    def make(f: Fault) -> Replay:
        return make_replay(table, tr, (TENANT,), schedule([f]), cls)

    with pytest.raises(ValueError, match="probability 1"):
        make(Fault(FaultKind.CAPACITY_ERROR, 1.0, 3.0, first, 0.5))
    with pytest.raises(ValueError, match="not replayed"):
        make(Fault(FaultKind.LATENCY, 1.0, 3.0, second, 100.0))
    with pytest.raises(ValueError, match="matches no deployment"):
        make(fault("429", 1.0, 3.0, "region:nowhere"))
