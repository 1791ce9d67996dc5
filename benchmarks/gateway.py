"""Gateway benchmark on loopback: CPU per request, added latency, memory, streaming, faults.

Set-up: ``examples/gateway.yaml`` planned once; one fake backend per deployment (all the same
fake process, zero service time) and the load generator (this process, aiohttp, keep-alive)
pinned to core 0 with ``os.sched_setaffinity``; one gateway process (uvicorn + uvloop +
httptools, access log on, to /dev/null) pinned to core 1. With fewer than two cores the pinning
is skipped and said so. Other engineers share the machine: every line carries the load average.

Lines printed (JSON):

- ``gateway_cpu``: N non-streaming requests (auth, policy, residency filter, usage accounting,
  metrics, JSON log) at concurrency C; the gateway's own CPU per request from
  ``/proc/PID/stat`` (utime + stime) before and after; throughput.
- ``gateway_added_latency``: M pairs of sequential requests, direct to the fake then through
  the gateway, interleaved; p50/p99 of each and of the per-pair difference.
- ``gateway_rss``: resident memory (``/proc/PID/status`` VmRSS) idle and after the N requests.
- ``gateway_stream``: added time to first byte of a stream (interleaved pairs, p50/p99) and the
  relay rate of a long stream (events per second through the gateway).
- ``gateway_soak`` (with ``--soak-seconds S``): closed-loop load at the same concurrency for S
  seconds, resident memory sampled every ``--soak-every`` seconds: the samples, the requests
  served, the codes, and the growth from the first sample to the last (MB per 10 minutes).
- ``gateway_faults``: an EU tenant's load while one of its two allowed backends is killed, then
  hangs, then answers 429: client-visible failures and requests that reached a backend outside
  the allowed set (counted by the fakes).

Run: ``python benchmarks/run.py gateway [--requests 20000] [--pairs 2000] [--concurrency 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from archipel.gateway.replay_run import wait_ready
from measure import ROOT, emit, loadavg

SPEC = ROOT / "examples" / "gateway.yaml"
CLK = os.sysconf("SC_CLK_TCK")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` and its living descendants (granian runs its workers as
    children of a supervisor)."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                kids.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            f = _stat(p)
        except OSError:
            continue
        total += (int(f[11]) + int(f[12])) / CLK
        todo.extend(kids.get(p, []))
    return total


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _ms(x: float) -> float:
    return round(x * 1000, 3)


def _pin(core: int) -> Any:
    def fn() -> None:
        if (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(0, {core})

    return fn


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    try:
        wait_ready(url, proc, timeout_s)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


class Setup:
    def __init__(self, folder: Path, extra: list[str] | None = None) -> None:
        from archipel.cli.plan_cmd import _load
        from archipel.gateway.config import hash_key
        from archipel.plan.inputs import prepare
        from archipel.plan.planner import make_plan
        from archipel.report.planfile import save_plan
        from archipel.route.table import deployment_table

        spec, catalog = _load(SPEC, None)
        plan = make_plan(spec, catalog)  # type: ignore[arg-type]
        self.plan = folder / "plan.json"
        save_plan(plan, self.plan)
        self.table = deployment_table(plan, prepare(spec, catalog), 0)  # type: ignore[arg-type]
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []
        self.fakes: list[tuple[int, subprocess.Popen[bytes]]] = []
        for d in range(self.table.size):
            port = _port()
            p = self._start(
                [sys.executable, "-m", "archipel.gateway.fake", f"--port={port}", f"--name=f{d}"], 0
            )
            self.fakes.append((port, p))
        for port, p in self.fakes:
            _wait(f"http://127.0.0.1:{port}/_fake/stats", p)
        lines = ["version: 1", "period: 0", "endpoints:"]
        for key, (port, _) in zip(self.table.key, self.fakes, strict=True):
            lines += [f'  - deployment: "{key}"', f'    url: "http://127.0.0.1:{port}"']
        (folder / "endpoints.yaml").write_text("\n".join(lines) + "\n")
        (folder / "keys.yaml").write_text(
            "version: 1\ntenants:\n  - {id: bench, geography: virginia}\n"
            "  - {id: eu, data_class: eu-personal, geography: paris}\nkeys:\n"
            f"  - {{sha256: {hash_key('bench-key')}, tenant: bench}}\n"
            f"  - {{sha256: {hash_key('eu-key')}, tenant: eu}}\n"
        )
        self.port = _port()
        self.gateway = self._start(
            [
                str(Path(sys.executable).parent / "archipel"),
                "gateway",
                "serve",
                str(SPEC),
                "--plan",
                str(self.plan),
                "--endpoints",
                str(folder / "endpoints.yaml"),
                "--keys",
                str(folder / "keys.yaml"),
                "--port",
                str(self.port),
                "--seed",
                "1",
                "--health-interval",
                "0.2",
                "--open-s",
                "0.5",
                "--deadline",
                "10",
                "--ttft",
                "4",
                *(extra or []),
            ],
            1,
        )
        _wait(f"http://127.0.0.1:{self.port}/ready", self.gateway)

    def start_bare(self, server: str) -> tuple[int, subprocess.Popen[bytes]]:
        """The bare proxy (bare_proxy.py) in front of the first fake, on core 1."""
        port = _port()
        here = str(Path(__file__).parent)
        if server == "granian":
            cmd = [
                str(Path(sys.executable).parent / "granian"),
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--loop",
                "uvloop",
                "--no-ws",
                "bare_proxy:app",
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_proxy:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        env = {**os.environ, "UPSTREAM": f"http://127.0.0.1:{self.fakes[0][0]}", "PYTHONPATH": here}
        p = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_pin(1),
            env=env,
            cwd=here,
        )
        self.procs.append(p)
        _wait(f"http://127.0.0.1:{port}/ready", p)
        return port, p

    def _start(self, cmd: list[str], core: int) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_pin(core)
        )
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


BODY = b'{"model": "chat", "messages": [{"role": "user", "content": "hi"}]}'
STREAM = b'{"model": "chat", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'


async def _load(
    s: Setup, n: int, concurrency: int, key: str = "bench-key", port: int | None = None
) -> dict[str, int]:
    import aiohttp

    url = f"http://127.0.0.1:{port or s.port}/v1/chat/completions"
    hdr = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    codes: dict[str, int] = {}
    served: dict[str, int] = {}
    left = [n]

    async def worker(session: aiohttp.ClientSession) -> None:
        while left[0] > 0:
            left[0] -= 1
            async with session.post(url, data=BODY, headers=hdr) as r:
                await r.read()
                codes[str(r.status)] = codes.get(str(r.status), 0) + 1
                dep = r.headers.get("x-archipel-deployment", "-")
                served[dep] = served.get(dep, 0) + 1

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return {"codes": codes, "served": served}  # type: ignore[dict-item]


async def _pairs(s: Setup, m: int, stream: bool, port: int | None = None) -> dict[str, Any]:
    import aiohttp

    direct = f"http://127.0.0.1:{s.fakes[0][0]}/v1/chat/completions"
    via = f"http://127.0.0.1:{port or s.port}/v1/chat/completions"
    hdr = {"authorization": "Bearer bench-key", "content-type": "application/json"}
    body = STREAM if stream else BODY
    lat: dict[str, list[float]] = {"direct": [], "gateway": []}
    async with aiohttp.ClientSession() as session:
        for i in range(m + 50):
            for name, url in (("direct", direct), ("gateway", via)):
                t = time.perf_counter()
                async with session.post(url, data=body, headers=hdr) as r:
                    if stream:
                        await r.content.readany()  # time to first byte
                        lat_s = time.perf_counter() - t
                        await r.read()
                    else:
                        await r.read()
                        lat_s = time.perf_counter() - t
                if i >= 50:  # warm-up pairs dropped
                    lat[name].append(lat_s)
    diff = [g - d for g, d in zip(lat["gateway"], lat["direct"], strict=True)]
    return {
        "pairs": m,
        "direct_p50_ms": _ms(_pct(lat["direct"], 0.5)),
        "direct_p99_ms": _ms(_pct(lat["direct"], 0.99)),
        "gateway_p50_ms": _ms(_pct(lat["gateway"], 0.5)),
        "gateway_p99_ms": _ms(_pct(lat["gateway"], 0.99)),
        "added_p50_ms": _ms(_pct(lat["gateway"], 0.5) - _pct(lat["direct"], 0.5)),
        "added_p99_ms": _ms(_pct(lat["gateway"], 0.99) - _pct(lat["direct"], 0.99)),
        "pair_diff_p50_ms": _ms(_pct(diff, 0.5)),
        "pair_diff_p99_ms": _ms(_pct(diff, 0.99)),
    }


async def _relay_rate(s: Setup, chunks: int) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for port, _ in s.fakes:
            async with session.post(
                f"http://127.0.0.1:{port}/_fake/config", json={"chunks": chunks}
            ):
                pass
        hdr = {"authorization": "Bearer bench-key", "content-type": "application/json"}
        t = time.perf_counter()
        cpu = _cpu_s(s.gateway.pid)
        async with session.post(
            f"http://127.0.0.1:{s.port}/v1/chat/completions", data=STREAM, headers=hdr
        ) as r:
            data = await r.read()
        wall = time.perf_counter() - t
        cpu = _cpu_s(s.gateway.pid) - cpu
        for port, _ in s.fakes:
            async with session.post(f"http://127.0.0.1:{port}/_fake/config", json={"chunks": 4}):
                pass
    events = data.count(b"\n\n")
    return {
        "stream_events": events,
        "relay_events_per_s": round(events / wall),
        "relay_mb_per_s": round(len(data) / wall / 1e6, 2),
        "gateway_cpu_s": round(cpu, 3),
    }


async def _faults(s: Setup, n: int) -> dict[str, Any]:
    import aiohttp

    allowed = {s.table.key[d] for d in range(s.table.size) if s.table.allowed[0, d]}
    inside = [i for i, k in enumerate(s.table.key) if k in allowed]
    outside = [i for i in range(s.table.size) if i not in inside]

    async def counts(session: aiohttp.ClientSession) -> list[int]:
        out = []
        for i in outside:
            async with session.get(f"http://127.0.0.1:{s.fakes[i][0]}/_fake/stats") as r:
                out.append(sum((await r.json())["counts"].values()))
        return out

    async def configure(session: aiohttp.ClientSession, i: int, **kw: Any) -> None:
        async with session.post(f"http://127.0.0.1:{s.fakes[i][0]}/_fake/config", json=kw):
            pass

    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        before = await counts(session)
        phases = []
        for fault in ("hang", "429", "kill"):
            victim = inside[0]
            if fault == "hang":
                await configure(session, victim, hang=True)
            elif fault == "429":
                await configure(session, victim, hang=False, status=429)
            task = asyncio.create_task(_load(s, n, 8, key="eu-key"))
            if fault == "kill":
                await configure(session, victim, status=200)
                await asyncio.sleep(0.3)
                s.fakes[victim][1].kill()
            res = await task
            ok = res["codes"].get("200", 0)  # type: ignore[union-attr]
            leaks = sum(v for k, v in res["served"].items() if k not in allowed and k != "-")  # type: ignore[union-attr]
            phases.append(
                {
                    "fault": fault,
                    "requests": n,
                    "ok": ok,
                    "failed": n - ok,
                    "leaks_by_header": leaks,
                }
            )
        after = await counts(session)
    out["phases"] = phases
    out["requests_reaching_disallowed_backends"] = sum(after) - sum(before)
    return out


def _soak(s: Setup, pid: int, seconds: float, every: float, concurrency: int) -> dict[str, Any]:
    """Load for ``seconds``, in rounds of ``every`` seconds' worth of requests, RSS after each."""
    rate = 1000.0  # requests per second, a first guess; each round re-measures it
    samples: list[tuple[float, float]] = [(0.0, _rss_mb(pid))]
    codes: dict[str, int] = {}
    served = 0
    t0 = time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        n = max(100, int(rate * min(every, seconds - elapsed)))
        r0 = time.perf_counter()
        res = asyncio.run(_load(s, n, concurrency))
        rate = n / max(1e-3, time.perf_counter() - r0)
        served += n
        for code, k in res["codes"].items():  # type: ignore[attr-defined]
            codes[code] = codes.get(code, 0) + k
        samples.append((round(time.perf_counter() - t0, 1), _rss_mb(pid)))
    span_min = max(1e-9, samples[-1][0] - samples[1][0]) / 60 if len(samples) > 2 else 0
    growth = (samples[-1][1] - samples[1][1]) / span_min * 10 if span_min else 0.0
    return {
        "soak_s": round(time.perf_counter() - t0, 1),
        "requests": served,
        "codes": codes,
        "rss_mb_samples": samples,
        "rss_mb_max": max(m for _, m in samples),
        # from the first sample after load began (warm caches) to the last
        "rss_growth_mb_per_10min": round(growth, 2),
    }


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="run.py gateway", description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--pairs", type=int, default=2_000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--fault-requests", type=int, default=3_000, help="per fault phase")
    ap.add_argument("--relay-chunks", type=int, default=20_000)
    ap.add_argument("--soak-seconds", type=float, default=0, help="10 minutes: 600")
    ap.add_argument("--soak-every", type=float, default=30, help="RSS sample interval (s)")
    ap.add_argument(
        "--baseline",
        action="append",
        default=[],
        choices=["uvicorn", "granian"],
        help="Also measure the bare proxy (bare_proxy.py) on this server the same way.",
    )
    ap.add_argument(
        "--gateway-arg",
        action="append",
        default=[],
        help="An extra option of `archipel gateway serve` (repeat), e.g. --gateway-arg=--no-access-log",
    )
    args = ap.parse_args(argv)
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})
    pinned = (os.cpu_count() or 1) >= 2
    base = {
        "pinned": pinned,
        "server": "uvicorn+uvloop+httptools",
        "upstream": "aiohttp",
        "gateway_args": args.gateway_arg,
    }
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(Path(tmp), args.gateway_arg)
        try:
            pid = s.gateway.pid
            time.sleep(1.0)
            idle = _rss_mb(pid)
            asyncio.run(_load(s, 500, args.concurrency))  # warm-up
            cpu0, t0 = _cpu_s(pid), time.perf_counter()
            res = asyncio.run(_load(s, args.requests, args.concurrency))
            wall, cpu = time.perf_counter() - t0, _cpu_s(pid) - cpu0
            emit(
                {
                    "bench": "gateway_cpu",
                    **base,
                    "requests": args.requests,
                    "concurrency": args.concurrency,
                    "codes": res["codes"],
                    "gateway_cpu_ms_per_request": round(cpu / args.requests * 1000, 4),
                    "requests_per_s": round(args.requests / wall),
                    "loadavg": loadavg(),
                }
            )
            for server in args.baseline:
                bport, bproc = s.start_bare(server)
                asyncio.run(_load(s, 500, args.concurrency, port=bport))
                bcpu0, bt0 = _cpu_s(bproc.pid), time.perf_counter()
                bres = asyncio.run(_load(s, args.requests, args.concurrency, port=bport))
                bwall, bcpu = time.perf_counter() - bt0, _cpu_s(bproc.pid) - bcpu0
                emit(
                    {
                        "bench": "bare_proxy_cpu",
                        "server": server,
                        "upstream": "aiohttp",
                        "requests": args.requests,
                        "codes": bres["codes"],
                        "cpu_ms_per_request": round(bcpu / args.requests * 1000, 4),
                        "requests_per_s": round(args.requests / bwall),
                        "loadavg": loadavg(),
                    }
                )
                pairs = asyncio.run(_pairs(s, args.pairs, False, port=bport))
                emit(
                    {
                        "bench": "bare_proxy_added_latency",
                        "server": server,
                        **pairs,
                        "loadavg": loadavg(),
                    }
                )
                bproc.terminate()
            emit(
                {
                    "bench": "gateway_rss",
                    **base,
                    "idle_mb": idle,
                    "after_requests": args.requests + 500,
                    "after_mb": _rss_mb(pid),
                    "loadavg": loadavg(),
                }
            )
            emit(
                {
                    "bench": "gateway_added_latency",
                    **base,
                    **asyncio.run(_pairs(s, args.pairs, False)),
                    "loadavg": loadavg(),
                }
            )
            emit(
                {
                    "bench": "gateway_stream",
                    **base,
                    "ttfb": asyncio.run(_pairs(s, args.pairs // 2, True)),
                    **asyncio.run(_relay_rate(s, args.relay_chunks)),
                    "loadavg": loadavg(),
                }
            )
            if args.soak_seconds > 0:
                emit(
                    {
                        "bench": "gateway_soak",
                        **base,
                        **_soak(s, pid, args.soak_seconds, args.soak_every, args.concurrency),
                        "loadavg": loadavg(),
                    }
                )
            emit(
                {
                    "bench": "gateway_faults",
                    **base,
                    **asyncio.run(_faults(s, args.fault_requests)),
                    "loadavg": loadavg(),
                }
            )
        finally:
            s.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
