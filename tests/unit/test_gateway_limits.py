"""Budgets and rate limits: a budget of N requests' price admits exactly N, reservations are
reconciled with reported usage; the Redis backend keeps the same contract (real Redis)."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.gateway.config import Tenant
from archipel.gateway.fleet import NANO
from archipel.gateway.limits import MemoryLimits, RedisLimits
from services import need


async def _spend_all(limits: MemoryLimits | RedisLimits, t: Tenant, price: int, tries: int) -> int:
    admitted = 0
    for _ in range(tries):
        if await limits.admit(t, 0.0, price) is None:
            admitted += 1
            await limits.settle(t, 0.0, price, price, 0)
    return admitted


@settings(max_examples=80, deadline=None)
@given(price=st.integers(1, 10**7), n=st.integers(0, 50))
def test_a_budget_of_n_prices_admits_exactly_n(price: int, n: int) -> None:
    t = Tenant(id="t", budget_usd=n * price / NANO)
    assert asyncio.run(_spend_all(MemoryLimits(), t, price, n + 5)) == n


def test_reconciling_with_usage_returns_what_was_not_used() -> None:
    async def run() -> tuple[int, object, object]:
        m = MemoryLimits()
        t = Tenant(id="t", budget_usd=1000 / NANO)
        assert await m.admit(t, 0.0, 600) is None
        assert (await m.admit(t, 0.0, 600)).kind == "budget"  # type: ignore[union-attr]
        await m.settle(t, 0.0, 600, 200, 30)  # the backend used a third of the nominal tokens
        again = await m.admit(t, 0.0, 600)
        return await m.spent_nusd(t), again, await m.admit(t, 0.0, 600)

    spent, again, third = asyncio.run(run())
    assert again is None and spent == 800 and third is not None


def test_request_and_token_rates_per_minute_window() -> None:
    async def run() -> list[str | None]:
        m = MemoryLimits()
        t = Tenant(id="t", requests_per_minute=2, tokens_per_minute=50)
        out = []
        for now in (0.0, 1.0, 2.0, 61.0):
            r = await m.admit(t, now, 0)
            out.append(r.kind if r else None)
            if r is None:
                await m.settle(t, now, 0, 0, 30)
        r = await m.admit(t, 62.0, 0)  # 60 tokens in this window already? no: 30 so far
        out.append(r.kind if r else None)
        await m.settle(t, 62.0, 0, 0, 30)
        r = await m.admit(t, 63.0, 0)
        out.append(r.kind if r else None)
        return out

    assert run_sync(run()) == [None, None, "requests_per_minute", None, None, "requests_per_minute"]


def run_sync(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_redis_backend_admits_exactly_n_under_concurrency() -> None:
    url = need("redis")
    prefix = f"archipel:test:{uuid.uuid4().hex}"

    async def run() -> tuple[int, int]:
        a, b = RedisLimits(url, prefix), RedisLimits(url, prefix)  # two clients, one budget
        t = Tenant(id="t", budget_usd=25 * 1234 / NANO, tokens_per_minute=10**9)
        try:
            results = await asyncio.gather(*(x.admit(t, 0.0, 1234) for x in [a, b] * 40))
            admitted = sum(r is None for r in results)
            for _ in range(admitted):
                await a.settle(t, 0.0, 1234, 1000, 5)
            return admitted, await b.spent_nusd(t)
        finally:
            keys = [k async for k in a._redis.scan_iter(prefix + ":*")]
            if keys:
                await a._redis.delete(*keys)
            await a.close()
            await b.close()

    admitted, spent = asyncio.run(run())
    assert admitted == 25 and spent == 25 * 1000
