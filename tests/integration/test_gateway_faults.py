"""A real gateway process in front of six fake backends on 127.0.0.1: streams, kill, hang, 429,
streams cut before and after the first byte, reload — and residency under every fault (an
``eu-personal`` request never reaches a backend outside ``table.allowed``). Every serving
response names its deployment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway_kit import Fake, Gateway, PlanFiles, allowed_keys, chat, make_plan_files, running_fakes

EU, GLOBAL = "eu-key", "global-key"
TENANTS = [
    {"id": "eu", "key": EU, "data_class": "eu-personal", "geography": "paris"},
    {"id": "global", "key": GLOBAL, "geography": "virginia"},
]


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> PlanFiles:
    return make_plan_files(tmp_path_factory.mktemp("gw-plan"))


@pytest.fixture(scope="module")
def fakes(plan: PlanFiles) -> Iterator[list[Fake]]:
    with running_fakes(plan.table.size) as started:
        yield started


@pytest.fixture(scope="module")
def gateway(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gw = Gateway(
        plan,
        tmp_path_factory.mktemp("gw"),
        fakes,
        extra=[
            "--deadline",
            "4",
            "--ttft",
            "2",
            "--open-s",
            "0.3",
            "--failures-to-open",
            "2",
            "--health-interval",
            "0.2",
            "--reload-s",
            "0.2",
        ],
    )
    try:
        yield gw.start(TENANTS)
    finally:
        gw.stop()


@pytest.fixture
def client(gateway: Gateway, fakes: list[Fake]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c
    for f in fakes:
        f.reset()


def _eu(plan: PlanFiles, fakes: list[Fake]) -> tuple[set[str], list[Fake], list[Fake]]:
    allowed = allowed_keys(plan.table, "eu-personal")
    inside = [f for k, f in zip(plan.table.key, fakes, strict=True) if k in allowed]
    outside = [f for k, f in zip(plan.table.key, fakes, strict=True) if k not in allowed]
    assert len(inside) == 2 and len(outside) == 4  # what examples/gateway.yaml plans
    return allowed, inside, outside


def _settle(client: httpx.Client, n: int = 10) -> None:
    """A few requests so that breakers half-open after a reset close again."""
    for _ in range(n):
        chat(client, GLOBAL)


def test_each_response_names_its_deployment_and_global_traffic_uses_the_plan(
    client: httpx.Client, plan: PlanFiles
) -> None:
    seen = set()
    for _ in range(40):
        r = chat(client, GLOBAL)
        assert r.status_code == 200
        seen.add(r.headers["x-archipel-deployment"])
        assert r.json()["usage"]["total_tokens"] == 30
    assert seen <= set(plan.table.key) and len(seen) >= 2
    r = client.get("/v1/models", headers={"authorization": f"Bearer {EU}"})
    assert [m["id"] for m in r.json()["data"]] == ["chat"]
    bad = chat(client, "not-a-key")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"


def test_stream_is_relayed_chunk_by_chunk(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    allowed, inside, _ = _eu(plan, fakes)
    for f in inside:
        f.configure(chunks=6, ttft_s=0.02, service_time_s=0.3)
    body = {"model": "chat", "messages": [], "stream": True}
    with client.stream(
        "POST", "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {EU}"}
    ) as r:
        assert r.status_code == 200
        assert r.headers["x-archipel-deployment"] in allowed
        pieces = list(r.iter_raw())
    text = b"".join(pieces).decode()
    events = [e for e in text.split("\n\n") if e.strip()]
    assert len(events) == 7 and events[-1] == "data: [DONE]"
    assert len(pieces) >= 4  # chunks 60 ms apart arrive as they come, not in one buffer


def test_killing_one_of_two_eligible_backends_fails_no_request(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    allowed, inside, outside = _eu(plan, fakes)
    before = [f.served() for f in outside]
    failures, served_by = 0, []
    for i in range(300):
        if i == 100:
            inside[1].kill()
        r = chat(client, EU, stream=i % 2 == 1)
        failures += r.status_code != 200 or "event: error" in r.text
        served_by.append(r.headers.get("x-archipel-deployment"))
    assert failures == 0
    assert set(served_by) <= allowed
    assert [f.served() for f in outside] == before
    survivor = plan.table.key[fakes.index(inside[0])]
    assert set(served_by[150:]) == {survivor}


def test_a_hung_backend_is_abandoned_within_the_deadline(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    _allowed, inside, outside = _eu(plan, fakes)
    before = [f.served() for f in outside]
    inside[0].configure(hang=True)
    for i in range(30):
        r = chat(client, EU, stream=i % 2 == 0)
        assert r.status_code == 200, r.text  # the deadline (4 s) would have made it a 503
        assert "event: error" not in r.text
        assert r.headers["x-archipel-deployment"] == plan.table.key[fakes.index(inside[1])]
    assert [f.served() for f in outside] == before


def test_429_fails_over_inside_the_allowed_set(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    _allowed, inside, outside = _eu(plan, fakes)
    before = [f.served() for f in outside]
    inside[1].configure(status=429)
    for _ in range(40):
        r = chat(client, EU)
        assert r.status_code == 200
        assert r.headers["x-archipel-deployment"] == plan.table.key[fakes.index(inside[0])]
    assert [f.served() for f in outside] == before


def test_a_stream_cut_before_the_first_byte_fails_over(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    _allowed, inside, _ = _eu(plan, fakes)
    inside[0].configure(cut_before_first=True)
    for _ in range(20):
        r = chat(client, EU, stream=True)
        assert r.status_code == 200
        assert r.text.rstrip().endswith("data: [DONE]")
        assert r.headers["x-archipel-deployment"] == plan.table.key[fakes.index(inside[1])]


def test_a_stream_cut_after_the_first_byte_ends_with_a_typed_error_event(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    allowed, inside, outside = _eu(plan, fakes)
    before = [f.served() for f in outside]
    for f in inside:
        f.configure(cut_after=2, chunks=5, service_time_s=0.1)
    r = chat(client, EU, stream=True)
    assert r.status_code == 200
    events = [e for e in r.text.split("\n\n") if e.strip()]
    assert events[0].startswith("data: {")
    assert events[-1].startswith("event: error\ndata: ")
    error = json.loads(events[-1].split("data: ", 1)[1])["error"]
    assert error["type"] == "upstream_stream_interrupted" and error["code"] == "stream_cut"
    assert error["deployment"] == r.headers["x-archipel-deployment"] in allowed
    assert "data: [DONE]" not in r.text
    assert [f.served() for f in outside] == before


def test_with_every_allowed_backend_down_the_request_is_refused_not_sent_abroad(
    client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    _allowed, inside, outside = _eu(plan, fakes)
    before = [f.served() for f in outside]
    for f in inside:
        f.kill()
    codes = [chat(client, EU).status_code for _ in range(5)]
    assert codes == [503] * 5
    r = chat(client, EU)
    assert r.json()["error"]["code"] == "no_deployment"
    assert [f.served() for f in outside] == before
    assert chat(client, GLOBAL).status_code == 200  # the others still serve tenants they may


@pytest.mark.parametrize("fault", ["kill", "hang", "429", "cut"])
def test_residency_holds_under_each_fault(
    fault: str, client: httpx.Client, plan: PlanFiles, fakes: list[Fake]
) -> None:
    allowed, inside, outside = _eu(plan, fakes)
    _settle(client)
    before = [f.served() for f in outside]
    victim = inside[0]
    if fault == "kill":
        victim.kill()
    elif fault == "hang":
        victim.configure(hang=True)
    elif fault == "429":
        victim.configure(status=429)
    else:
        victim.configure(cut_before_first=True)
    served = [chat(client, EU, stream=i % 3 == 0) for i in range(60)]
    assert all(r.headers["x-archipel-deployment"] in allowed for r in served)
    assert all(r.status_code == 200 for r in served)
    assert [f.served() for f in outside] == before


def test_reload_swaps_an_endpoint_without_dropping_requests(
    gateway: Gateway, client: httpx.Client, plan: PlanFiles, fakes: list[Fake], tmp_path: Path
) -> None:
    _allowed, inside, _ = _eu(plan, fakes)
    spare = Fake("spare").start()
    try:
        codes: list[int] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=gateway.url, timeout=10) as c:
                while not stop.is_set():
                    codes.append(chat(c, EU).status_code)

        worker = threading.Thread(target=load)
        worker.start()
        try:
            moved = [spare if f is inside[1] else f for f in fakes]
            gateway.write_endpoints(moved)
            for _ in range(100):
                if spare.served() > 0:
                    break
                threading.Event().wait(0.1)
        finally:
            stop.set()
            worker.join(30)
        assert spare.served() > 0
        assert codes and all(c == 200 for c in codes)
        assert gateway.metric("archipel_gateway_reloads_total", result="ok") >= 1
    finally:
        gateway.write_endpoints(fakes)
        spare.stop()


def test_every_openai_route_is_proxied_and_refusals_are_typed(
    gateway: Gateway, client: httpx.Client, plan: PlanFiles
) -> None:
    auth = {"authorization": f"Bearer {GLOBAL}"}
    for path in ("/v1/completions", "/v1/embeddings"):
        r = client.post(path, json={"model": "chat", "input": "hi", "prompt": "hi"}, headers=auth)
        assert r.status_code == 200 and r.headers["x-archipel-deployment"] in plan.table.key
    r = client.post("/v1/chat/completions", json={"model": "nope"}, headers=auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert r.headers["x-archipel-deployment"] == "-"
    r = client.post("/v1/chat/completions", content=b"{", headers=auth)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = chat(client, GLOBAL, **{"x-archipel-geography": "atlantis"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_geography"
    assert client.get("/health").status_code == 200 and client.get("/ready").json() == {
        "ready": True
    }
    spent = sum(
        gateway.metric("archipel_gateway_spend_usd_total", provider=p, contract="")
        for p in set(plan.table.provider)
    )
    assert spent > 0  # priced from the plan, per provider and contract ("" : none here)
