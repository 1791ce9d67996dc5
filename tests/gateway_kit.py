"""Real processes for the gateway's integration tests: fake backends and gateways on 127.0.0.1,
free ports, started and stopped by the test (every process here is killed in ``stop``).

The plan is made once per test module from ``examples/gateway.yaml`` (2 s): six deployments of
``chat``, of which two (``aws:eu-north-1``, ``nebius:eu-north1``) may serve ``eu-personal``; the
``nebius`` deployment carries the spec's traffic-ramp cap of 0.6.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from archipel.gateway.config import hash_key
from archipel.route.table import deployment_table
from archipel.route.types import DeploymentTable

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "gateway.yaml"
ARCHIPEL = str(Path(sys.executable).parent / "archipel")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PlanFiles:
    plan: Path
    table: DeploymentTable
    price_nusd: tuple[tuple[int, ...], ...]
    class_tokens: tuple[int, int]  # input, output tokens of the service's first class


def make_plan_files(folder: Path) -> PlanFiles:
    from archipel.cli.plan_cmd import _load
    from archipel.gateway.fleet import price_nusd
    from archipel.plan.inputs import prepare
    from archipel.plan.planner import make_plan
    from archipel.report.planfile import save_plan

    spec, catalog = _load(SPEC, None)
    plan = make_plan(spec, catalog)  # type: ignore[arg-type]
    path = folder / "plan.json"
    save_plan(plan, path)
    inputs = prepare(spec, catalog)  # type: ignore[arg-type]
    table = deployment_table(plan, inputs, 0)
    rc = inputs.spec.services[0].request_classes[0]
    return PlanFiles(path, table, price_nusd(plan, table), (rc.input_tokens, rc.output_tokens))


def _wait(url: str, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


@dataclass
class Fake:
    name: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Fake:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archipel.gateway.fake",
                f"--port={self.port}",
                f"--name={self.name}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.url + "/_fake/stats", 20, self.proc)
        return self

    def configure(self, **behaviour: Any) -> None:
        httpx.post(self.url + "/_fake/config", json=behaviour, timeout=5).raise_for_status()

    def reset(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.configure(
            status=200,
            hang=False,
            cut_before_first=False,
            cut_after=-1,
            service_time_s=0.0,
            ttft_s=0.0,
            prompt_tokens=10,
            completion_tokens=20,
        )

    def served(self) -> int:
        try:
            counts = httpx.get(self.url + "/_fake/stats", timeout=5).json()["counts"]
        except httpx.HTTPError:
            return -1
        return int(sum(counts.values()))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill()


@dataclass
class Gateway:
    plan: PlanFiles
    folder: Path
    fakes: list[Fake]
    extra: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    endpoints: Path | None = None
    keys: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_endpoints(self, fakes: list[Fake] | None = None) -> Path:
        fakes = fakes or self.fakes
        lines = ["version: 1", "period: 0", "endpoints:"]
        for key, fake in zip(self.plan.table.key, fakes, strict=True):
            lines += [f'  - deployment: "{key}"', f'    url: "{fake.url}"']
        path = self.folder / f"endpoints-{self.port}.yaml"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, path)  # one step: a reload never reads half a file
        return path

    def write_keys(self, tenants: list[dict[str, Any]]) -> Path:
        import yaml

        # a tenant's "key" (one plain key) or "keys" (dicts of a key and its own fields: name,
        # limits)
        keys = []
        for t in tenants:
            for k in t.pop("keys", None) or [{"key": t.pop("key")}]:
                own = {f: v for f, v in k.items() if f != "key"}
                keys.append({"sha256": hash_key(k["key"]), "tenant": t["id"], **own})
        path = self.folder / f"keys-{self.port}.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "tenants": tenants, "keys": keys}))
        return path

    def start(self, tenants: list[dict[str, Any]]) -> Gateway:
        self.endpoints = self.write_endpoints()
        self.keys = self.write_keys([dict(t) for t in tenants])
        self.log = open(self.folder / f"gateway-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                ARCHIPEL,
                "gateway",
                "serve",
                str(SPEC),
                "--plan",
                str(self.plan.plan),
                "--endpoints",
                str(self.endpoints),
                "--keys",
                str(self.keys),
                "--port",
                str(self.port),
                "--seed",
                "7",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        _wait(self.url + "/ready", 60, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None) is not None:
            self.log.close()

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of ``/metrics`` (0 when absent)."""
        text = httpx.get(self.url + "/metrics", timeout=5).text
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            if head == name or (want and head.startswith(name + "{") and _labels(head) == want):
                return float(value)
        return 0.0


def _labels(head: str) -> str:
    pairs = re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', head[head.index("{") :])
    return ",".join(f'{k}="{v}"' for k, v in sorted(pairs))


def chat(client: httpx.Client, key: str, stream: bool = False, **headers: str) -> httpx.Response:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    hdrs = {"authorization": f"Bearer {key}", **headers}
    return client.post("/v1/chat/completions", json=body, headers=hdrs)


def allowed_keys(table: DeploymentTable, data_class: str | None) -> set[str]:
    k = len(table.data_classes) if data_class is None else table.data_classes.index(data_class)
    return {table.key[d] for d in range(table.size) if table.allowed[k, d]}


@contextlib.contextmanager
def running_fakes(count: int) -> Iterator[list[Fake]]:
    """``count`` fake backends ``f0``, ``f1``, ... on free loopback ports, stopped at the end."""
    started: list[Fake] = []
    try:
        started.extend(Fake(f"f{d}").start() for d in range(count))
        yield started
    finally:
        for f in started:
            f.stop()
