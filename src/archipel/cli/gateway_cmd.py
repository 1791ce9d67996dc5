"""``archipel gateway``: serve a plan's deployments as one OpenAI-compatible endpoint, check
its files, hash API keys, and run a fake backend to try it on loopback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from archipel.cli.plan_cmd import SpecArg

GATEWAY_HELP = (
    "An OpenAI-compatible front door over a plan's deployments.\n\n"
    "Requests go where the routing policy sends them (the plan's placement, failover, spill), "
    "never outside a tenant's allowed regions, with retries, circuit breakers, traffic ramps "
    "with an SLO gate, rate limits and USD budgets priced from the plan.\n\n"
    "Try it:  archipel plan examples/gateway.yaml --out gw-plan.json  then  archipel gateway "
    "serve examples/gateway.yaml --plan gw-plan.json --endpoints examples/gateway/endpoints.yaml "
    "--keys examples/gateway/keys.yaml  (see docs/cli.md, 'gateway')."
)

PlanOpt = Annotated[Path, typer.Option("--plan", help="The plan (JSON) made from SPEC.")]
EndpointsOpt = Annotated[
    Path, typer.Option("--endpoints", help="Endpoint URL per planned deployment (YAML, version 1).")
]
KeysOpt = Annotated[
    Path, typer.Option("--keys", help="Tenants and hashed API keys (YAML, version 1).")
]
PeriodOpt = Annotated[
    int | None,
    typer.Option(
        "--period",
        help="Plan period to serve (default: the endpoints file's, else the one containing "
        "today, else the first).",
    ),
]


def check(
    spec_path: SpecArg,
    plan: PlanOpt,
    endpoints: EndpointsOpt,
    keys: KeysOpt,
    period: PeriodOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print pure JSON on stdout.")] = False,
) -> None:
    """Check the gateway's files against the plan: every deployment, its endpoint and price."""
    import time

    from archipel.gateway.fleet import NANO
    from archipel.gateway.health import HealthConfig
    from archipel.gateway.ramp import RampConfig
    from archipel.gateway.state import Loaded, Sources, load_state

    src = Sources(spec_path, plan, endpoints, keys, period)
    st = load_state(src, Loaded(), HealthConfig(), RampConfig(), time.monotonic())
    t, f = st.fleet.table, st.fleet
    rows: list[dict[str, object]] = [
        {
            "deployment": t.key[d],
            "url": f.url[d],
            "replicas": int(t.replicas[d]),
            "usd_per_request": [p / NANO for p in f.price_nusd[d]],
            "ramp_cap": float(t.ramp[d]),
        }
        for d in range(t.size)
    ]
    out = {
        "period": t.period,
        "period_label": t.period_label,
        "deployments": rows,
        "without_endpoint": list(st.missing),
        "tenants": sorted(st.keys.tenants),
    }
    if as_json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return
    typer.echo(f"period {t.period} ({t.period_label}): {t.size} deployments")
    for d in range(t.size):
        where = f.url[d] or "NO ENDPOINT (treated as down)"
        price = ", ".join(f"${p / NANO:.6f}" for p in f.price_nusd[d])
        typer.echo(f"  {t.key[d]}")
        typer.echo(f"    {where}  replicas {int(t.replicas[d])}  {price}/request")
    typer.echo(f"tenants: {', '.join(sorted(st.keys.tenants))}")


def serve(
    spec_path: SpecArg,
    plan: PlanOpt,
    endpoints: EndpointsOpt,
    keys: KeysOpt,
    period: PeriodOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        int,
        typer.Option(help="Processes (one per core); more than one needs --redis.", min=1),
    ] = 1,
    redis: Annotated[
        str | None,
        typer.Option(
            "--redis",
            help="redis://... URL: share rate limits and budgets between gateway processes "
            "(default: in-process, one process).",
        ),
    ] = None,
    redis_prefix: Annotated[str, typer.Option(help="Key prefix in Redis.")] = "archipel:gw",
    deadline: Annotated[
        float, typer.Option("--deadline", help="End-to-end deadline per request (s).", min=0.01)
    ] = 60.0,
    ttft: Annotated[
        float, typer.Option("--ttft", help="Streams: first byte by then (s).", min=0.01)
    ] = 10.0,
    attempt_share: Annotated[
        float,
        typer.Option(
            help="An attempt may use this share of the time left before it is abandoned "
            "(a hung backend), leaving the rest to fail over.",
            min=0.05,
            max=1.0,
        ),
    ] = 0.5,
    chunk_timeout: Annotated[
        float,
        typer.Option(
            "--chunk-timeout",
            help="Streams: the longest silence between two chunks before the stream counts as "
            "cut (s).",
            min=0.01,
        ),
    ] = 30.0,
    failures_to_open: Annotated[
        int, typer.Option(help="Consecutive failed attempts that open a breaker.", min=1)
    ] = 3,
    open_s: Annotated[float, typer.Option(help="Seconds a breaker stays open.", min=0.0)] = 2.0,
    slots_per_replica: Annotated[
        int, typer.Option(help="Requests in flight per replica before it counts as busy.", min=1)
    ] = 16,
    health_interval: Annotated[
        float, typer.Option(help="Seconds between active health probes.", min=0.05)
    ] = 1.0,
    ramp_steps: Annotated[
        str, typer.Option(help="Ramp steps as shares of the plan's cap, comma-separated.")
    ] = "0.1,0.25,0.5,1",
    ramp_window: Annotated[
        float, typer.Option(help="Seconds per ramp SLO window.", min=0.1)
    ] = 30.0,
    ramp_min_requests: Annotated[
        int, typer.Option(help="Attempts a window needs to judge a step.", min=1)
    ] = 20,
    ramp_max_bad: Annotated[
        float,
        typer.Option(
            help="Largest share of failed or late attempts a step may have.", min=0, max=1
        ),
    ] = 0.05,
    reload_s: Annotated[
        float, typer.Option("--reload-s", help="Seconds between checks for changed files (0: off).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the policy's draws.")] = None,
    access_log: Annotated[
        bool, typer.Option(help="One JSON log line per request on stderr.")
    ] = True,
) -> None:
    """Serve the plan's deployments on HOST:PORT (OpenAI-compatible; docs/cli.md, 'gateway')."""
    from archipel.gateway.serve import ServeConfig, build_app
    from archipel.gateway.serve import serve as run

    try:
        steps = tuple(float(x) for x in ramp_steps.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"{ramp_steps!r}: write shares such as 0.1,0.25,0.5,1", param_hint="--ramp-steps"
        ) from None
    if not steps or any(not 0 < s <= 1 for s in steps) or list(steps) != sorted(steps):
        raise typer.BadParameter(
            "steps are increasing shares in (0, 1], e.g. 0.1,0.25,0.5,1", param_hint="--ramp-steps"
        )
    if workers > 1 and redis is None:
        raise typer.BadParameter(
            "several processes would each keep their own rate limits and budgets (a budget "
            "of N requests would admit N per process): add --redis redis://HOST:6379 to "
            "share them, or run one worker",
            param_hint="--workers",
        )
    cfg = ServeConfig(
        spec=str(spec_path),
        plan=str(plan),
        endpoints=str(endpoints),
        keys=str(keys),
        period=period,
        redis_url=redis,
        redis_prefix=redis_prefix,
        seed=seed,
        options={
            "deadline_s": deadline,
            "ttft_s": ttft,
            "attempt_share": attempt_share,
            "chunk_timeout_s": chunk_timeout,
            "health_interval_s": health_interval,
            "reload_s": reload_s,
            "access_log": access_log,
        },
        health={
            "failures_to_open": failures_to_open,
            "open_s": open_s,
            "slots_per_replica": slots_per_replica,
        },
        ramp={
            "steps": steps,
            "window_s": ramp_window,
            "min_requests": ramp_min_requests,
            "max_bad_share": ramp_max_bad,
            "slo_s": deadline,
        },
    )
    build_app(cfg)  # every file checked here (exit 2 with file:line), before any worker starts
    run(cfg, host, port, workers)


def hash_key(
    key: Annotated[
        str | None, typer.Argument(help="The API key; read from stdin when absent.")
    ] = None,
) -> None:
    """Print the SHA-256 a keys file stores for an API key (the key itself is never stored)."""
    from archipel.gateway.config import hash_key as digest

    text = key if key is not None else sys.stdin.readline().strip()
    if not text:
        raise typer.BadParameter("an empty key", param_hint="KEY")
    typer.echo(digest(text))


def fake_backend(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")],
    name: Annotated[str, typer.Option(help="Name in the x-fake-name header.")] = "fake",
    service_time: Annotated[float, typer.Option(help="Seconds per response.", min=0)] = 0.0,
    ttft: Annotated[float, typer.Option(help="Seconds to a stream's first chunk.", min=0)] = 0.0,
    chunks: Annotated[int, typer.Option(help="Chunks per stream.", min=1)] = 4,
    status: Annotated[int, typer.Option(help="HTTP status of every completion.")] = 200,
) -> None:
    """A fake OpenAI-compatible backend for trying the gateway (faults: POST /_fake/config)."""
    from archipel.gateway.fake import main

    main(
        [
            f"--port={port}",
            f"--name={name}",
            f"--service-time={service_time}",
            f"--ttft={ttft}",
            f"--chunks={chunks}",
            f"--status={status}",
        ]
    )


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="gateway", help=GATEWAY_HELP, no_args_is_help=True)
    sub.command("serve")(serve)
    sub.command("check")(check)
    sub.command("hash-key")(hash_key)
    sub.command("fake-backend")(fake_backend)
    app.add_typer(sub, name="gateway")
