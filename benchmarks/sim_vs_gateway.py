"""The simulator against the real gateway: one trace and fault schedule through both.

Set-up: ``examples/gateway.yaml`` planned once; a tenant with EU personal data calling from
Virginia (the plan sends that geography nothing in the two EU deployments the data may use, so
the policy takes the nearest: no weighted draw, which the two sides make from different random
streams); the Azure 2023 conversation trace (``../shared/data``; a seeded Poisson trace when it is
absent), its first ``--requests`` requests at ``--rate`` requests/s. Service times are the
simulator's service model with 16 slots per replica and the plan's rates times ``--speedup``
(:mod:`archipel.gateway.replay`); the gateway runs on 127.0.0.1 with one fake backend per
deployment (:mod:`archipel.gateway.replay_run`). Scenarios: no fault; an outage, a hang and a
429 window (probability 1) on the nearest deployment; 429 on both (requests retry). Each
schedule is shifted by :func:`~archipel.gateway.replay.settle` off instants the two sides cannot
time alike (the shift and the remaining risk are printed).

One JSON line per scenario (``sim_vs_gateway``): both sides' counts (requests served, failed,
retried, failed over; attempts, retries and failovers in all), p50/p99 time to first token and
end to end (ms, from each request's trace time), the relative difference of the gateway's from
the simulator's, whether within 10 %, the share of requests both served on the same deployment,
the gateway's wall time, the CPU seconds of the gateway, the fakes and the simulator, the latest
a request was sent after its time, and the load average (other engineers share the machine).

Run: ``python benchmarks/run.py sim_vs_gateway [--requests 600] [--rate 15] [--speedup 4]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from measure import ROOT, Clock, emit, loadavg

SPEC = ROOT / "examples" / "gateway.yaml"


def _trace(requests: int, rate: float, seed: int) -> Any:
    from archipel.sim.traces import Trace, load_azure, scale_to_rate, shared_data_dir

    try:
        full = load_azure("conv", shared_data_dir())
    except FileNotFoundError:
        rng = np.random.Generator(np.random.PCG64(seed))
        t = np.cumsum(rng.exponential(1.0 / rate, requests))
        return Trace(
            "poisson", t - t[0], rng.integers(200, 3000, requests), rng.integers(50, 500, requests)
        )
    head = Trace(
        full.name,
        full.arrival_s[:requests],
        full.input_tokens[:requests],
        full.output_tokens[:requests],
        full.transforms,
    ).noted(f"first {requests} requests")
    return scale_to_rate(head, rate)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="run.py sim_vs_gateway", description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--rate", type=float, default=15.0, help="requests/s")
    ap.add_argument("--speedup", type=float, default=4.0, help="service times divided by this")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--scenario",
        action="append",
        choices=["none", "outage", "hang", "429", "both-429"],
        help="repeat; default: all",
    )
    args = ap.parse_args(argv)

    from archipel.cli.plan_cmd import _load
    from archipel.gateway.replay import (
        Settings,
        Tenant,
        compare,
        fault,
        make_replay,
        risk,
        run_sim,
        settle,
        simulate_replay,
    )
    from archipel.gateway.replay_run import run_gateway
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import make_plan
    from archipel.report.planfile import save_plan
    from archipel.route.table import deployment_table
    from archipel.sim.faults import schedule

    spec, catalog = _load(SPEC, None)
    plan = make_plan(spec, catalog)  # type: ignore[arg-type]
    inputs = prepare(spec, catalog)  # type: ignore[arg-type]
    table = deployment_table(plan, inputs, 0)
    rc = inputs.spec.services[0].request_classes[0]
    tenant = Tenant("eu", "eu-bench-key", "eu-personal", "virginia")
    g = table.geographies.index("virginia")
    k = table.data_classes.index("eu-personal")
    allowed = sorted(
        np.flatnonzero(table.allowed[k]), key=lambda d: (table.tier[d], table.rtt_ms[g, d])
    )
    first, second = (f"deployment:{table.key[d]}" for d in allowed[:2])
    trace = _trace(args.requests, args.rate, args.seed)
    span = float(trace.arrival_s[-1])
    a, b = 0.25 * span, 0.5 * span
    scenarios = {
        "none": [],
        "outage": [fault("outage", a, b, first)],
        "hang": [fault("hang", a, b, first)],
        "429": [fault("429", a, b, first)],
        "both-429": [fault("429", a, a + 0.6, first), fault("429", a, a + 0.6, second)],
    }
    settings = Settings(speedup=args.speedup, chunk_timeout_s=5.0, ttft_slo_s=5.0, open_s=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        plan_path = Path(tmp) / "plan.json"
        save_plan(plan, plan_path)
        for name in args.scenario or list(scenarios):
            rep = make_replay(
                table,
                trace,
                (tenant,),
                schedule(scenarios[name]),
                ((rc.input_tokens, rc.output_tokens),),
                settings,
            )
            rep, shift = settle(rep)
            clock = Clock()
            sim = run_sim(rep)
            sim_cpu = clock.lap().cpu_s
            gw = run_gateway(rep, SPEC, plan_path)
            emit(
                {
                    "bench": "sim_vs_gateway",
                    "scenario": name,
                    "trace": trace.name,
                    "requests": rep.size,
                    "rate_rps": args.rate,
                    "speedup": args.speedup,
                    "faults": [
                        [
                            f.kind.name,
                            round(f.start_s, 3),
                            round(f.end_s, 3),
                            f.target.split("/")[1],
                        ]
                        for f in rep.faults.faults
                    ],
                    "settle_shift_s": shift,
                    "settle_risk": risk(rep, simulate_replay(rep)),
                    **compare(sim, gw.side),
                    "gateway_wall_s": gw.wall_s,
                    **gw.cpu,
                    "sim_cpu_s": round(sim_cpu, 3),
                    "latest_send_s": gw.latest_send_s,
                    "loadavg": loadavg(),
                }
            )


if __name__ == "__main__":
    main(sys.argv[1:])
