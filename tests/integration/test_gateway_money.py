"""Rate limits and budgets through real gateway processes: a budget of N requests' price admits
exactly N (one process in memory; two processes sharing Redis, requests sent to both at once),
requests and tokens per minute."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from archipel.gateway.fleet import NANO
from gateway_kit import Fake, Gateway, PlanFiles, allowed_keys, chat, make_plan_files, running_fakes
from services import need

N = 7


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> PlanFiles:
    return make_plan_files(tmp_path_factory.mktemp("gw-plan"))


@pytest.fixture(scope="module")
def fakes(plan: PlanFiles) -> Iterator[list[Fake]]:
    with running_fakes(plan.table.size) as started:
        yield started


def eu_tenant(id_: str, key: str, **limits: Any) -> dict[str, Any]:
    """A tenant of EU personal data in Paris with one key (and ``limits``)."""
    return {"id": id_, "key": key, "data_class": "eu-personal", "geography": "paris", **limits}


def _one_eu_deployment(plan: PlanFiles, fakes: list[Fake]) -> tuple[int, Fake]:
    """Leave one EU deployment (nebius) up: the other is killed, so every eu-personal request
    is priced on the survivor. Its fake reports exactly the class's nominal tokens, so each
    request costs exactly the survivor's price per request."""
    allowed = allowed_keys(plan.table, "eu-personal")
    eu = [d for d in range(plan.table.size) if plan.table.key[d] in allowed]
    keep = next(d for d in eu if plan.table.provider[d] == "nebius")
    for d in eu:
        if d != keep:
            fakes[d].kill()
    tin, tout = plan.class_tokens
    fakes[keep].configure(prompt_tokens=tin, completion_tokens=tout)
    return keep, fakes[keep]


def _wait_open(gw: Gateway, key: str) -> None:
    for _ in range(200):
        if gw.metric("archipel_gateway_breaker_state", deployment=key) == 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"the breaker of {key} did not open")


def _gateway(plan: PlanFiles, fakes: list[Fake], folder: object, extra: list[str]) -> Gateway:
    return Gateway(
        plan, folder, fakes, extra=["--health-interval", "0.1", "--open-s", "60", *extra]
    )  # type: ignore[arg-type]


def test_budget_of_n_requests_admits_exactly_n_and_rates_hold(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> None:
    keep, _ = _one_eu_deployment(plan, fakes)
    price = plan.price_nusd[keep][0]
    tenants = [
        eu_tenant("budget", "b-key", budget_usd=N * price / NANO),
        {"id": "rpm", "key": "r-key", "geography": "virginia", "requests_per_minute": 5},
        {  # two keys: one with a budget of 2 requests of its own, one bound by the tenant's
            "id": "keyed",
            "data_class": "eu-personal",
            "geography": "paris",
            "budget_usd": 5 * price / NANO,
            "keys": [
                {"key": "k-small", "name": "small", "budget_usd": 2 * price / NANO},
                {"key": "k-rest", "name": "rest"},
            ],
        },
        eu_tenant("tpm", "t-key", tokens_per_minute=3 * sum(plan.class_tokens) + 1),
    ]
    gw = _gateway(plan, fakes, tmp_path_factory.mktemp("gw"), [])
    try:
        gw.start(tenants)
        other = next(
            k for k in allowed_keys(plan.table, "eu-personal") if k != plan.table.key[keep]
        )
        _wait_open(gw, other)
        with httpx.Client(base_url=gw.url, timeout=10) as c:
            codes = [chat(c, "b-key").status_code for _ in range(N + 3)]
            assert codes == [200] * N + [429] * 3
            assert chat(c, "b-key").json()["error"]["code"] == "insufficient_quota"
            assert gw.metric("archipel_gateway_refused_total", quota="budget", kind="budget") == 4
            assert gw.metric("archipel_gateway_budget_spent_usd", quota="budget") == pytest.approx(
                N * price / NANO
            )
            # the key's own budget (2) binds first; the tenant's (5) then binds the other key
            small = [chat(c, "k-small").status_code for _ in range(3)]
            rest = [chat(c, "k-rest").status_code for _ in range(5)]
            assert small == [200, 200, 429] and rest == [200] * 3 + [429] * 2
            assert chat(c, "k-small").json()["error"]["message"].startswith("key 'keyed/small'")
            assert gw.metric("archipel_gateway_refused_total", quota="keyed/small", kind="budget")
            for _ in range(3):  # a minute's window may roll over during the run: try again
                window = time.time() // 60
                rpm = [chat(c, "r-key").status_code for _ in range(7)]
                tpm = [chat(c, "t-key").status_code for _ in range(6)]
                if time.time() // 60 == window:
                    break
            assert rpm == [200] * 5 + [429] * 2
            # 3 requests' tokens + 1 is under the limit after 3: the 4th passes, the 5th not
            assert tpm == [200] * 4 + [429] * 2
    finally:
        gw.stop()
        for f in fakes:
            f.reset()


def test_two_processes_sharing_redis_cannot_overspend(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = need("redis")
    keep, _ = _one_eu_deployment(plan, fakes)
    price = plan.price_nusd[keep][0]
    n = 20
    prefix = f"archipel:test:{uuid.uuid4().hex}"
    tenants = [
        eu_tenant("shared", "s-key", budget_usd=n * price / NANO),
    ]
    folder = tmp_path_factory.mktemp("gw2")
    extra = ["--redis", url, "--redis-prefix", prefix]
    gws = [_gateway(plan, fakes, folder, extra), _gateway(plan, fakes, folder, extra)]
    try:
        for gw in gws:
            gw.start(tenants)
        other = next(
            k for k in allowed_keys(plan.table, "eu-personal") if k != plan.table.key[keep]
        )
        for gw in gws:
            _wait_open(gw, other)

        def one(i: int) -> int:
            with httpx.Client(base_url=gws[i % 2].url, timeout=10) as c:
                return chat(c, "s-key").status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(3 * n)))
        assert codes.count(200) == n
        assert codes.count(429) == 2 * n
    finally:
        for gw in gws:
            gw.stop()
        for f in fakes:
            f.reset()
        import redis

        r = redis.Redis.from_url(url)
        for k in r.scan_iter(prefix + ":*"):
            r.delete(k)
        r.close()


def test_a_reload_keeps_an_open_breaker_open(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A reload used to close every breaker: the next requests went to a dead backend again.
    Now the breaker of a deployment that kept its endpoint survives the reload."""
    keep, _ = _one_eu_deployment(plan, fakes)
    other = next(k for k in allowed_keys(plan.table, "eu-personal") if k != plan.table.key[keep])
    tenants = [eu_tenant("eu", "e-key")]
    # no active check after the first (at start): only the carried breaker keeps it open
    extra = ["--reload-s", "0.1", "--health-interval", "600"]
    gw = _gateway(plan, fakes, tmp_path_factory.mktemp("gw3"), extra)
    try:
        gw.start(tenants)
        _wait_open(gw, other)
        before = gw.metric("archipel_gateway_reloads_total", result="ok")
        gw.write_endpoints()  # the same endpoints: a reload that changes nothing it serves
        for _ in range(100):
            if gw.metric("archipel_gateway_reloads_total", result="ok") > before:
                break
            time.sleep(0.05)
        assert gw.metric("archipel_gateway_reloads_total", result="ok") > before
        assert gw.metric("archipel_gateway_breaker_state", deployment=other) == 1
        with httpx.Client(base_url=gw.url, timeout=10) as c:
            for _ in range(5):
                r = chat(c, "e-key")
                assert r.status_code == 200 and r.headers["x-archipel-attempts"] == "1"
    finally:
        gw.stop()
        for f in fakes:
            f.reset()


def _total(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


def test_two_workers_share_one_port_one_budget_and_one_metrics_page(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """--workers 2: whichever worker a scrape reaches, /metrics counts both workers' requests
    (prometheus_client's multiprocess mode), and the Redis budget admits exactly N in all."""
    url = need("redis")
    keep, _ = _one_eu_deployment(plan, fakes)
    price = plan.price_nusd[keep][0]
    prefix = f"archipel:test:{uuid.uuid4().hex}"
    tenants = [
        eu_tenant("pair", "p-key", budget_usd=N * price / NANO),
        {"id": "free", "key": "f-key", "geography": "virginia"},
    ]
    extra = ["--workers", "2", "--redis", url, "--redis-prefix", prefix]
    gw = _gateway(plan, fakes, tmp_path_factory.mktemp("gw4"), extra)
    try:
        gw.start(tenants)
        other = next(
            k for k in allowed_keys(plan.table, "eu-personal") if k != plan.table.key[keep]
        )
        for _ in range(200):  # each worker's prober opens the dead backend's breaker
            text = httpx.get(gw.url + "/metrics", timeout=5).text
            states = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("archipel_gateway_breaker_state{") and other in line
            ]
            if len(states) == 2 and states == [1.0, 1.0]:
                break
            time.sleep(0.05)
        with httpx.Client(base_url=gw.url, timeout=10) as c:
            # a fresh connection per request: the kernel spreads them over both workers
            served = [chat(c, "f-key", connection="close").status_code for _ in range(40)]
            assert served == [200] * 40
            budget = [chat(c, "p-key", connection="close").status_code for _ in range(N + 2)]
            assert budget == [200] * N + [429] * 2
        pids = set()
        for _ in range(6):
            text = httpx.get(gw.url + "/metrics", timeout=5).text
            assert _total(text, "archipel_gateway_requests_total") == 40 + N + 2
            pids |= {
                line.split('pid="', 1)[1].split('"', 1)[0]
                for line in text.splitlines()
                if line.startswith("archipel_gateway_breaker_state{")
            }
        assert len(pids) == 2  # each worker's breakers, one series each
    finally:
        gw.stop()
        for f in fakes:
            f.reset()
