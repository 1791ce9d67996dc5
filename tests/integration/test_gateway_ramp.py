"""A traffic ramp through a real gateway: the plan caps Nebius at 0.6 of the chat traffic
(examples/gateway.yaml); the gateway opens it in steps (0.5 then 1 of the cap) while the SLO
gate passes, and rolls back when Nebius starts failing — with no request failing meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from gateway_kit import Fake, Gateway, PlanFiles, allowed_keys, chat, make_plan_files, running_fakes

CAP = "archipel_gateway_ramp_cap"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> PlanFiles:
    return make_plan_files(tmp_path_factory.mktemp("gw-plan"))


@pytest.fixture(scope="module")
def fakes(plan: PlanFiles) -> Iterator[list[Fake]]:
    with running_fakes(plan.table.size) as started:
        yield started


def _drive(c: httpx.Client, gw: Gateway, until: float, codes: list[int], served: list[str]) -> None:
    while time.monotonic() < until:
        r = chat(c, "eu-key")
        codes.append(r.status_code)
        served.append(r.headers.get("x-archipel-deployment", "-"))


def test_ramp_advances_while_the_gate_passes_and_rolls_back_on_failures(
    plan: PlanFiles, fakes: list[Fake], tmp_path_factory: pytest.TempPathFactory
) -> None:
    nebius = next(d for d in range(plan.table.size) if plan.table.provider[d] == "nebius")
    assert plan.table.ramp[nebius] == pytest.approx(0.6)
    gw = Gateway(
        plan,
        tmp_path_factory.mktemp("gw"),
        fakes,
        extra=[
            "--ramp-steps",
            "0.5,1",
            "--ramp-window",
            "1",
            "--ramp-min-requests",
            "5",
            "--ramp-max-bad",
            "0.2",
            "--open-s",
            "0.3",
            "--health-interval",
            "0.2",
        ],
    )
    tenants = [{"id": "eu", "key": "eu-key", "data_class": "eu-personal", "geography": "paris"}]
    codes: list[int] = []
    served: list[str] = []
    try:
        gw.start(tenants)
        labels = {"service": "chat", "provider": "nebius"}
        assert gw.metric(CAP, **labels) == pytest.approx(0.3)  # step 0: half the plan's cap
        with httpx.Client(base_url=gw.url, timeout=10) as c:
            end = time.monotonic() + 15
            while gw.metric(CAP, **labels) < 0.6 and time.monotonic() < end:
                _drive(c, gw, time.monotonic() + 0.5, codes, served)
            assert gw.metric(CAP, **labels) == pytest.approx(0.6)
            assert plan.table.key[nebius] in served
            fakes[nebius].configure(status=500)
            end = time.monotonic() + 20
            while gw.metric(CAP, **labels) > 0 and time.monotonic() < end:
                _drive(c, gw, time.monotonic() + 0.5, codes, served)
            assert gw.metric(CAP, **labels) == 0
            assert gw.metric("archipel_gateway_ramp_rollbacks_total", **labels) >= 2
            fakes[nebius].reset()  # healthy again, but the rolled-back ramp stays closed
            after: list[str] = []
            _drive(c, gw, time.monotonic() + 2, codes, after)
        assert set(codes) == {200}  # failover hid every failed attempt from the client
        assert set(served + after) <= allowed_keys(plan.table, "eu-personal")
        assert plan.table.key[nebius] not in after[-20:]
    finally:
        gw.stop()
        for f in fakes:
            f.reset()
