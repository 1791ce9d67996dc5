"""Rate limits and budgets per tenant: reserve before sending, reconcile with the usage the
backend reports. Money is integer nano-USD, so a budget of N requests' price admits exactly N.

Two backends with one contract (:class:`Limits`):

- :class:`MemoryLimits`: one process, nothing external.
- :class:`RedisLimits`: state shared by any number of gateway processes in Redis; each admission
  is one Lua script (atomic on the server), so two processes cannot overspend a budget or pass a
  rate limit together.

Rates are counted in fixed one-minute windows (``floor(now / 60)``): ``requests_per_minute``
counts admissions; ``tokens_per_minute`` counts the tokens backends reported, and admits while
the window's count is under the limit (one request may take it past; the next is refused).
The budget is spent + reserved; a request is admitted when its reservation fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from archipel.gateway.config import Tenant
from archipel.gateway.fleet import NANO

WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: str  # "requests_per_minute" | "tokens_per_minute" | "budget"
    message: str


def _budget_nusd(t: Tenant) -> int:
    return -1 if t.budget_usd is None else round(t.budget_usd * NANO)


class Limits(Protocol):
    async def admit(self, tenant: Tenant, now: float, reserve_nusd: int) -> Refusal | None: ...

    async def settle(
        self, tenant: Tenant, now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> None: ...

    async def spent_nusd(self, tenant: Tenant) -> int: ...

    async def close(self) -> None: ...


def _refusal(code: int, t: Tenant) -> Refusal | None:
    if code == 1:
        return Refusal(
            "requests_per_minute",
            f"tenant {t.id!r}: over {t.requests_per_minute} requests a minute",
        )
    if code == 2:
        return Refusal(
            "tokens_per_minute", f"tenant {t.id!r}: over {t.tokens_per_minute} tokens a minute"
        )
    if code == 3:
        return Refusal("budget", f"tenant {t.id!r}: the USD budget of {t.budget_usd} is spent")
    return None


class MemoryLimits:
    """In-process state (one gateway process)."""

    def __init__(self) -> None:
        self._req: dict[tuple[str, int], int] = {}
        self._tok: dict[tuple[str, int], int] = {}
        self._spent: dict[str, int] = {}

    def _gc(self, window: int) -> None:
        for d in (self._req, self._tok):
            if len(d) > 10_000:
                for k in [k for k in d if k[1] < window - 1]:
                    del d[k]

    async def admit(self, tenant: Tenant, now: float, reserve_nusd: int) -> Refusal | None:
        w = int(now // WINDOW_S)
        self._gc(w)
        key = (tenant.id, w)
        if tenant.requests_per_minute and self._req.get(key, 0) >= tenant.requests_per_minute:
            return _refusal(1, tenant)
        if tenant.tokens_per_minute and self._tok.get(key, 0) >= tenant.tokens_per_minute:
            return _refusal(2, tenant)
        budget = _budget_nusd(tenant)
        spent = self._spent.get(tenant.id, 0)
        if budget >= 0 and spent + reserve_nusd > budget:
            return _refusal(3, tenant)
        self._spent[tenant.id] = spent + reserve_nusd
        self._req[key] = self._req.get(key, 0) + 1
        return None

    async def settle(
        self, tenant: Tenant, now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> None:
        key = (tenant.id, int(now // WINDOW_S))
        self._spent[tenant.id] = self._spent.get(tenant.id, 0) + spent_nusd - reserved_nusd
        if tokens:
            self._tok[key] = self._tok.get(key, 0) + tokens

    async def spent_nusd(self, tenant: Tenant) -> int:
        return self._spent.get(tenant.id, 0)

    async def close(self) -> None:
        return None


_ADMIT = """
local limit_req = tonumber(ARGV[1])
local limit_tok = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
if limit_req > 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= limit_req then return 1 end
if limit_tok > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= limit_tok then return 2 end
if budget >= 0 then
  local spent = tonumber(redis.call('GET', KEYS[3]) or '0')
  if spent + cost > budget then return 3 end
end
redis.call('INCRBY', KEYS[3], cost)
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ttl)
return 0
"""

_SETTLE = """
redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
if tonumber(ARGV[2]) > 0 then
  redis.call('INCRBY', KEYS[2], tonumber(ARGV[2]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return 0
"""


class RedisLimits:
    """Shared state in Redis (redis-py asyncio); keys under ``prefix``."""

    def __init__(self, url: str, prefix: str = "archipel:gw") -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._prefix = prefix
        self._admit = self._redis.register_script(_ADMIT)
        self._settle = self._redis.register_script(_SETTLE)

    def _keys(self, tenant: Tenant, now: float) -> tuple[str, str, str]:
        w = int(now // WINDOW_S)
        p = f"{self._prefix}:{tenant.id}"
        return f"{p}:req:{w}", f"{p}:tok:{w}", f"{p}:spent"

    async def admit(self, tenant: Tenant, now: float, reserve_nusd: int) -> Refusal | None:
        keys = self._keys(tenant, now)
        args = [
            tenant.requests_per_minute,
            tenant.tokens_per_minute,
            _budget_nusd(tenant),
            reserve_nusd,
            2 * WINDOW_S,
        ]
        code = int(await self._admit(keys=list(keys), args=args))
        return _refusal(code, tenant)

    async def settle(
        self, tenant: Tenant, now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> None:
        _, tok, spent = self._keys(tenant, now)
        await self._settle(
            keys=[spent, tok], args=[spent_nusd - reserved_nusd, tokens, 2 * WINDOW_S]
        )

    async def spent_nusd(self, tenant: Tenant) -> int:
        raw = await self._redis.get(self._keys(tenant, 0.0)[2])
        return int(raw or 0)

    async def close(self) -> None:
        await self._redis.aclose()
