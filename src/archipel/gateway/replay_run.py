"""The gateway's side of a replay (:mod:`archipel.gateway.replay`): real processes on 127.0.0.1.

One fake backend per deployment (:mod:`archipel.gateway.fake`) with that deployment's per-token
service times, one gateway (``archipel gateway serve``, one worker) with the replay's settings,
active probes off (an interval of an hour), no access log and no file watching. This process
sends the trace open loop (aiohttp, one task per request, each at its trace time from a common
start) as streams and applies the faults at their times:

- OUTAGE: the fake is killed (SIGKILL) at the start; a replacement starts at once and waits,
  imported, to bind the same port at the end (``--start-at``);
- HUNG: ``{"hang": true}`` at the start, ``false`` at the end (``POST /_fake/config``);
- CAPACITY_ERROR (probability 1): ``{"status": 429}``, then 200.

A request counts as served when its status is 200 and its stream ends with ``[DONE]`` and no
error event. Its times run from its trace time (the moment it was due), so a late send counts
against the gateway. Every process started here is stopped before :func:`run_gateway` returns.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archipel.gateway.config import hash_key
from archipel.gateway.replay import Replay, Side, fake_behaviour
from archipel.sim.faults import Fault, FaultKind

LEAD_S = 1.0  # from the start of the client to the trace's time 0
HEALTH_OFF_S = 3600.0  # the active-probe interval: one probe at start-up, then none


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    """Until ``url`` answers 200; RuntimeError when ``proc`` exits first or time runs out."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a living process (Linux ``/proc``; -1 elsewhere)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Proc:
    port: int
    proc: subprocess.Popen[bytes]
    cpu_before_s: float = 0.0


class Processes:
    """The fakes and the gateway of one replay; ``stop`` ends every process started here."""

    def __init__(self, rep: Replay, spec: Path, plan: Path, folder: Path) -> None:
        self.rep = rep
        self.folder = folder
        self.fakes: list[_Proc] = []
        self.spares: list[subprocess.Popen[bytes]] = []
        self.cpu_spent_s = 0.0  # by fakes that were killed
        try:
            for d in range(rep.table.size):
                self.fakes.append(self._fake(d, free_port()))
            for p in self.fakes:
                wait_ready(f"http://127.0.0.1:{p.port}/_fake/stats", p.proc, 30)
            self.gateway = self._gateway(spec, plan)
        except BaseException:
            self.stop()
            raise

    def _fake(self, d: int, port: int, start_at: float | None = None) -> _Proc:
        cmd = [
            sys.executable,
            "-m",
            "archipel.gateway.fake",
            f"--port={port}",
            f"--name=f{d}",
            "--behaviour",
            json.dumps(fake_behaviour(self.rep, d)),
        ]
        if start_at is not None:
            cmd.append(f"--start-at={start_at}")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return _Proc(port, proc)

    def _gateway(self, spec: Path, plan: Path) -> _Proc:
        rep, st = self.rep, self.rep.settings
        lines = ["version: 1", f"period: {rep.table.period}", "endpoints:"]
        for key, p in zip(rep.table.key, self.fakes, strict=True):
            lines += [f'  - deployment: "{key}"', f'    url: "http://127.0.0.1:{p.port}"']
        endpoints = self.folder / "endpoints.yaml"
        endpoints.write_text("\n".join(lines) + "\n")
        tenants = []
        for t in rep.tenants:
            entry: dict[str, Any] = {"id": t.id, "geography": t.geography}
            if t.data_class is not None:
                entry["data_class"] = t.data_class
            if t.services is not None:
                entry["services"] = list(t.services)
            tenants.append(entry)
        keys = [{"sha256": hash_key(t.key), "tenant": t.id} for t in rep.tenants]
        keys_file = self.folder / "keys.yaml"
        keys_file.write_text(json.dumps({"version": 1, "tenants": tenants, "keys": keys}))
        port = free_port()
        archipel = str(Path(sys.executable).parent / "archipel")
        cmd = [
            *(["archipel"] if not Path(archipel).exists() else [archipel]),
            "gateway",
            "serve",
            str(spec),
            f"--plan={plan}",
            f"--endpoints={endpoints}",
            f"--keys={keys_file}",
            f"--port={port}",
            f"--seed={st.seed}",
            f"--deadline={st.e2e_slo_s}",
            f"--ttft={st.ttft_slo_s}",
            f"--attempt-share={st.attempt_share}",
            f"--chunk-timeout={st.chunk_timeout_s}",
            f"--failures-to-open={st.failures_to_open}",
            f"--open-s={st.open_s}",
            f"--slots-per-replica={st.slots_per_replica}",
            f"--health-interval={HEALTH_OFF_S}",
            "--reload-s=0",
            "--no-access-log",
        ]
        log = open(self.folder / "gateway.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        log.close()  # the child holds its own descriptor
        gw = _Proc(port, proc)
        wait_ready(f"http://127.0.0.1:{port}/ready", proc, 90)
        return gw

    def kill(self, d: int, restart_at_unix: float) -> None:
        """Kill fake ``d`` now; its replacement binds the same port at ``restart_at_unix``."""
        p = self.fakes[d]
        self.cpu_spent_s += max(0.0, cpu_s(p.proc.pid) - p.cpu_before_s)
        p.proc.send_signal(signal.SIGKILL)
        self.spares.append(p.proc)
        self.fakes[d] = self._fake(d, p.port, restart_at_unix)

    def mark_cpu(self) -> None:
        for p in [*self.fakes, self.gateway]:
            p.cpu_before_s = cpu_s(p.proc.pid)

    def cpu(self) -> dict[str, float]:
        fakes = sum(max(0.0, cpu_s(p.proc.pid) - p.cpu_before_s) for p in self.fakes)
        return {
            "gateway_cpu_s": round(cpu_s(self.gateway.proc.pid) - self.gateway.cpu_before_s, 3),
            "fakes_cpu_s": round(fakes + self.cpu_spent_s, 3),
        }

    def stop(self) -> None:
        procs = [p.proc for p in self.fakes] + self.spares
        if getattr(self, "gateway", None) is not None:
            procs.append(self.gateway.proc)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _body(service: str, prompt: int, out: int) -> bytes:
    return json.dumps(
        {
            "model": service,
            "stream": True,
            "max_tokens": int(out),
            "messages": [{"role": "user", "content": "w " * int(prompt)}],
        }
    ).encode()


async def _fault_task(procs: Processes, f: Fault, t0: float, session: Any) -> None:
    loop = asyncio.get_running_loop()
    targets = np.flatnonzero(f.mask(procs.rep.table)).tolist()

    async def configure(**kw: Any) -> None:
        for d in targets:
            url = f"http://127.0.0.1:{procs.fakes[d].port}/_fake/config"
            async with session.post(url, json=kw) as r:
                r.raise_for_status()

    await asyncio.sleep(max(0.0, t0 + f.start_s - loop.time()))
    if f.kind is FaultKind.OUTAGE:
        at = time.time() + (t0 + f.end_s - loop.time())
        for d in targets:
            procs.kill(d, at)
        return
    await configure(**({"hang": True} if f.kind is FaultKind.HUNG else {"status": 429}))
    await asyncio.sleep(max(0.0, t0 + f.end_s - loop.time()))
    await configure(**({"hang": False} if f.kind is FaultKind.HUNG else {"status": 200}))


async def _client(procs: Processes) -> tuple[Side, float]:
    import aiohttp

    rep = procs.rep
    n = rep.size
    served = np.zeros(n, dtype=bool)
    attempts, retries, failovers = (np.zeros(n, dtype=np.int64) for _ in range(3))
    ttft, e2e = np.full(n, np.nan), np.full(n, np.nan)
    deployment = ["-"] * n
    url = f"http://127.0.0.1:{procs.gateway.port}/v1/chat/completions"
    loop = asyncio.get_running_loop()
    late = [0.0]

    async def one(i: int, session: aiohttp.ClientSession, t0: float) -> None:
        s = int(rep.service[i])
        tenant = rep.tenants[int(rep.tenant[i])]
        body = _body(rep.table.services[s], int(rep.input_tokens[i]), int(rep.output_tokens[i]))
        hdr = {
            "authorization": f"Bearer {tenant.key}",
            "content-type": "application/json",
            "x-archipel-geography": tenant.geography,
            "x-archipel-request-class": rep.table.request_classes[s][0],
            "x-archipel-deadline-ms": str(rep.settings.e2e_slo_s * 1000),
        }
        due = t0 + float(rep.arrival_s[i])
        await asyncio.sleep(max(0.0, due - loop.time()))
        late[0] = max(late[0], loop.time() - due)
        first = None
        tail = b""
        cut = False  # the gateway's terminal error event (sent in one piece)
        async with session.post(url, data=body, headers=hdr) as r:
            async for chunk in r.content.iter_any():
                if first is None:
                    first = loop.time()
                tail = (tail + chunk)[-64:]
                cut = cut or b"event: error" in chunk
            end = loop.time()
            h = r.headers
            attempts[i] = int(h.get("x-archipel-attempts", "0"))
            retries[i] = int(h.get("x-archipel-retries", "0"))
            failovers[i] = int(h.get("x-archipel-failovers", "0"))
            ok = r.status == 200 and b"[DONE]" in tail and not cut
        if ok:
            served[i] = True
            deployment[i] = h.get("x-archipel-deployment", "-")
            ttft[i] = (first if first is not None else end) - due
            e2e[i] = end - due

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:
        t0 = loop.time() + LEAD_S
        faults = [
            asyncio.create_task(_fault_task(procs, f, t0, session)) for f in rep.faults.faults
        ]
        await asyncio.gather(*(one(i, session, t0) for i in range(n)))
        await asyncio.gather(*faults)
    side = Side("gateway", served, attempts, retries, failovers, deployment, ttft, e2e)
    return side, late[0]


@dataclass
class GatewayRun:
    side: Side
    wall_s: float
    cpu: dict[str, float]
    latest_send_s: float  # the latest a request was sent after its trace time


def run_gateway(rep: Replay, spec: Path, plan: Path) -> GatewayRun:
    """Start the processes, replay, stop them; the gateway's side and what it cost."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = Processes(rep, spec, plan, Path(tmp))
        try:
            procs.mark_cpu()
            t = time.perf_counter()
            side, late = asyncio.run(_client(procs))
            wall = time.perf_counter() - t
            cpu = procs.cpu()
        finally:
            procs.stop()
    return GatewayRun(side, round(wall, 3), cpu, round(late, 4))
