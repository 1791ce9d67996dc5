"""Budgets and rate limits: a budget of N requests' price admits exactly N, reservations are
reconciled with reported usage, a key's own limits and its tenant's both hold; the Redis backend
keeps the same contract (real Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.gateway.config import Key, Quota, Tenant
from archipel.gateway.fleet import NANO
from archipel.gateway.limits import MemoryLimits, RedisLimits
from services import need


def q(t: Tenant) -> tuple[Quota]:
    return (Quota.of("tenant", t.id, t),)


async def _spend_all(
    limits: MemoryLimits | RedisLimits, quotas: tuple[Quota, ...], price: int, tries: int
) -> int:
    admitted = 0
    for _ in range(tries):
        if await limits.admit(quotas, 0.0, price) is None:
            admitted += 1
            await limits.settle(quotas, 0.0, price, price, 0)
    return admitted


@settings(max_examples=80, deadline=None)
@given(price=st.integers(1, 10**7), n=st.integers(0, 50))
def test_a_budget_of_n_prices_admits_exactly_n(price: int, n: int) -> None:
    t = Tenant(id="t", budget_usd=n * price / NANO)
    assert asyncio.run(_spend_all(MemoryLimits(), q(t), price, n + 5)) == n


@settings(max_examples=60, deadline=None)
@given(
    price=st.integers(1, 10**7),
    tenant_n=st.integers(0, 30),
    key_n=st.integers(0, 30),
    order=st.lists(st.booleans(), min_size=0, max_size=80),
)
def test_a_key_and_its_tenant_both_hold(
    price: int, tenant_n: int, key_n: int, order: list[bool]
) -> None:
    """Requests from a key with a budget of its own (True) and from a key without (False),
    interleaved: the limited key gets at most its own N, both together at most the tenant's,
    and a request is refused only when one of the two budgets has no room for it."""
    t = Tenant(id="t", budget_usd=tenant_n * price / NANO)
    k = Key(sha256="0" * 64, tenant="t", name="k", budget_usd=key_n * price / NANO)
    limited = (Quota.of("key", "t/k", k), *q(t))

    async def run() -> tuple[int, int]:
        m = MemoryLimits()
        got = {True: 0, False: 0}
        for own in order:
            quotas = limited if own else q(t)
            refused = await m.admit(quotas, 0.0, price)
            room_key = got[True] < key_n or not own
            room = room_key and got[True] + got[False] < tenant_n
            assert (refused is None) == room
            if refused is None:
                got[own] += 1
                await m.settle(quotas, 0.0, price, price, 0)
            else:
                assert refused.quota == ("t/k" if not room_key else "t")
        return got[True], got[False]

    mine, others = asyncio.run(run())
    assert mine <= key_n and mine + others <= tenant_n


def test_reconciling_with_usage_returns_what_was_not_used() -> None:
    async def run() -> tuple[int, object, object]:
        m = MemoryLimits()
        t = q(Tenant(id="t", budget_usd=1000 / NANO))
        assert await m.admit(t, 0.0, 600) is None
        assert (await m.admit(t, 0.0, 600)).kind == "budget"  # type: ignore[union-attr]
        await m.settle(t, 0.0, 600, 200, 30)  # the backend used a third of the nominal tokens
        again = await m.admit(t, 0.0, 600)
        return await m.spent_nusd(t[0]), again, await m.admit(t, 0.0, 600)

    spent, again, third = asyncio.run(run())
    assert again is None and spent == 800 and third is not None


def test_request_and_token_rates_per_minute_window() -> None:
    async def run() -> list[str | None]:
        m = MemoryLimits()
        t = q(Tenant(id="t", requests_per_minute=2, tokens_per_minute=50))
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


@contextlib.asynccontextmanager
async def two_clients(url: str) -> AsyncIterator[tuple[RedisLimits, RedisLimits]]:
    """Two clients of one Redis state (as two gateway processes), under a fresh prefix that is
    deleted afterwards."""
    prefix = f"archipel:test:{uuid.uuid4().hex}"
    a, b = RedisLimits(url, prefix), RedisLimits(url, prefix)
    try:
        yield a, b
    finally:
        keys = [k async for k in a._redis.scan_iter(prefix + "*")]
        if keys:
            await a._redis.delete(*keys)
        await a.close()
        await b.close()


def test_redis_backend_admits_exactly_n_under_concurrency() -> None:
    url = need("redis")

    async def run() -> tuple[int, int]:
        t = q(Tenant(id="t", budget_usd=25 * 1234 / NANO, tokens_per_minute=10**9))
        async with two_clients(url) as (a, b):
            results = await asyncio.gather(*(x.admit(t, 0.0, 1234) for x in [a, b] * 40))
            admitted = sum(r is None for r in results)
            for _ in range(admitted):
                await a.settle(t, 0.0, 1234, 1000, 5)
            return admitted, await b.spent_nusd(t[0])

    admitted, spent = asyncio.run(run())
    assert admitted == 25 and spent == 25 * 1000


def test_redis_backend_holds_a_key_and_its_tenant_across_clients() -> None:
    """The Lua admission checks every quota before counting toward any: a refusal by the
    tenant's budget leaves the key's count untouched."""
    url = need("redis")
    t = Tenant(id="t", budget_usd=6 * 100 / NANO)
    k = Key(sha256="0" * 64, tenant="t", name="k", budget_usd=4 * 100 / NANO)
    limited = (Quota.of("key", "t/k", k), *q(t))

    async def run() -> tuple[list[str | None], list[int]]:
        async with two_clients(url) as (a, b):
            seen = []
            for i in range(8):  # the limited key on a, the tenant's other keys on b
                x, quotas = (a, limited) if i % 2 == 0 else (b, q(t))
                r = await x.admit(quotas, 0.0, 100)
                seen.append(None if r is None else r.quota)
                if r is None:
                    await x.settle(quotas, 0.0, 100, 100, 0)
            return seen, [await b.spent_nusd(x) for x in limited]

    seen, spent = asyncio.run(run())
    assert seen == [None] * 6 + ["t", "t"]
    assert spent == [300, 600]


def test_a_failover_to_a_dearer_deployment_tops_the_reservation_up() -> None:
    """Budget 1000: admitted at 600, topped up by 300 (a failover to a deployment at 900), a
    second top-up of 200 would pass the budget and is refused; settled at 850 spent. In memory
    and in Redis alike, with a key's quota and its tenant's."""
    t = Tenant(id="t", budget_usd=1000 / NANO)
    k = Key(sha256="0" * 64, tenant="t", name="k", budget_usd=2000 / NANO)
    quotas = (Quota.of("key", "t/k", k), *q(t))

    async def walk(m: MemoryLimits | RedisLimits) -> tuple[object, ...]:
        first = await m.admit(quotas, 0.0, 600)
        up = await m.top_up(quotas, 0.0, 300)
        over = await m.top_up(quotas, 0.0, 200)
        spends = await m.settle(quotas, 0.0, 900, 850, 10)
        return first, up, None if over is None else over.quota, spends

    assert asyncio.run(walk(MemoryLimits())) == (None, None, "t", [850, 850])
    url = need("redis")

    async def on_redis() -> tuple[object, ...]:
        async with two_clients(url) as (a, _):
            return await walk(a)

    assert asyncio.run(on_redis()) == (None, None, "t", [850, 850])
