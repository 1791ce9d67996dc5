"""Rate limits and budgets per tenant and per key: reserve before sending, reconcile with the
usage the backend reports. Money is integer nano-USD, so a budget of N requests' price admits
exactly N.

A request counts toward its caller's quotas (:class:`~archipel.gateway.config.Quota`): its
key's when the key has limits of its own, and always its tenant's. It is admitted only when it
fits every one of them, and then counts toward all of them at once.

Two backends with one contract (:class:`Limits`):

- :class:`MemoryLimits`: one process, nothing external.
- :class:`RedisLimits`: state shared by any number of gateway processes in Redis; each admission
  is one Lua script (atomic on the server), so two processes cannot overspend a budget or pass a
  rate limit together.

Rates are counted in fixed one-minute windows (``floor(now / 60)``): ``requests_per_minute``
counts admissions; ``tokens_per_minute`` counts the tokens backends reported, and admits while
the window's count is under the limit (one request may take it past; the next is refused).
The budget is spent + reserved; a request is admitted when its reservation fits. A failover to
a dearer deployment tops the reservation up (:meth:`Limits.top_up`) before the attempt, so a
budget is never overspent by requests in flight; a cheaper one keeps it (settled later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from archipel.gateway.config import Quota

WINDOW_S = 60
_KINDS = ("", "requests_per_minute", "tokens_per_minute", "budget")


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: str  # "requests_per_minute" | "tokens_per_minute" | "budget"
    message: str
    quota: str  # the quota's id: "tenant" or "tenant/key"


class Limits(Protocol):
    async def admit(
        self, quotas: Sequence[Quota], now: float, reserve_nusd: int
    ) -> Refusal | None: ...

    async def settle(
        self, quotas: Sequence[Quota], now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> list[int]:
        """Reconcile; the spend of each quota afterwards (nano-USD), in order."""
        ...

    async def top_up(self, quotas: Sequence[Quota], now: float, more_nusd: int) -> Refusal | None:
        """Reserve ``more_nusd`` on top of an admitted request's reservation (a failover to a
        dearer deployment): budgets only, no request counted again."""
        ...

    async def spent_nusd(self, quota: Quota) -> int: ...

    async def close(self) -> None: ...


def _refusal(code: int, q: Quota) -> Refusal:
    who = f"{q.scope} {q.id!r}"
    if code == 1:
        msg = f"{who}: over {q.requests_per_minute} requests a minute"
    elif code == 2:
        msg = f"{who}: over {q.tokens_per_minute} tokens a minute"
    else:
        msg = f"{who}: the USD budget of {q.budget_nusd / 1e9:g} is spent"
    return Refusal(_KINDS[code], msg, q.id)


class MemoryLimits:
    """In-process state (one gateway process)."""

    def __init__(self) -> None:
        self._req: dict[tuple[str, str, int], int] = {}
        self._tok: dict[tuple[str, str, int], int] = {}
        self._spent: dict[tuple[str, str], int] = {}

    def _gc(self, window: int) -> None:
        for d in (self._req, self._tok):
            if len(d) > 10_000:
                for k in [k for k in d if k[2] < window - 1]:
                    del d[k]

    def _code(self, q: Quota, w: int, reserve_nusd: int) -> int:
        key = (q.scope, q.id, w)
        if q.requests_per_minute and self._req.get(key, 0) >= q.requests_per_minute:
            return 1
        if q.tokens_per_minute and self._tok.get(key, 0) >= q.tokens_per_minute:
            return 2
        spent = self._spent.get((q.scope, q.id), 0)
        if q.budget_nusd >= 0 and spent + reserve_nusd > q.budget_nusd:
            return 3
        return 0

    async def admit(self, quotas: Sequence[Quota], now: float, reserve_nusd: int) -> Refusal | None:
        w = int(now // WINDOW_S)
        self._gc(w)
        for q in quotas:
            code = self._code(q, w, reserve_nusd)
            if code:
                return _refusal(code, q)
        for q in quotas:
            s = (q.scope, q.id)
            self._spent[s] = self._spent.get(s, 0) + reserve_nusd
            self._req[(*s, w)] = self._req.get((*s, w), 0) + 1
        return None

    async def top_up(self, quotas: Sequence[Quota], now: float, more_nusd: int) -> Refusal | None:
        for q in quotas:
            spent = self._spent.get((q.scope, q.id), 0)
            if q.budget_nusd >= 0 and spent + more_nusd > q.budget_nusd:
                return _refusal(3, q)
        for q in quotas:
            s = (q.scope, q.id)
            self._spent[s] = self._spent.get(s, 0) + more_nusd
        return None

    async def settle(
        self, quotas: Sequence[Quota], now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> list[int]:
        w = int(now // WINDOW_S)
        out = []
        for q in quotas:
            s = (q.scope, q.id)
            self._spent[s] = self._spent.get(s, 0) + spent_nusd - reserved_nusd
            if tokens:
                self._tok[(*s, w)] = self._tok.get((*s, w), 0) + tokens
            out.append(self._spent[s])
        return out

    async def spent_nusd(self, quota: Quota) -> int:
        return self._spent.get((quota.scope, quota.id), 0)

    async def close(self) -> None:
        return None


# KEYS: three per quota (requests in the window, tokens in the window, spent); ARGV: cost, ttl,
# then three per quota (request limit, token limit, budget). Returns 0, or 10 * (the quota's
# position, from 1) + the refusal code.
_ADMIT = """
local cost = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local n = #KEYS / 3
for i = 0, n - 1 do
  local limit_req = tonumber(ARGV[3 + 3 * i])
  local limit_tok = tonumber(ARGV[4 + 3 * i])
  local budget = tonumber(ARGV[5 + 3 * i])
  if limit_req > 0 and tonumber(redis.call('GET', KEYS[1 + 3 * i]) or '0') >= limit_req then
    return 10 * (i + 1) + 1
  end
  if limit_tok > 0 and tonumber(redis.call('GET', KEYS[2 + 3 * i]) or '0') >= limit_tok then
    return 10 * (i + 1) + 2
  end
  if budget >= 0 then
    local spent = tonumber(redis.call('GET', KEYS[3 + 3 * i]) or '0')
    if spent + cost > budget then return 10 * (i + 1) + 3 end
  end
end
for i = 0, n - 1 do
  redis.call('INCRBY', KEYS[3 + 3 * i], cost)
  redis.call('INCR', KEYS[1 + 3 * i])
  redis.call('EXPIRE', KEYS[1 + 3 * i], ttl)
end
return 0
"""

# KEYS: one per quota (spent); ARGV: cost, then one budget per quota. 0, or the refusing
# quota's position (from 1).
_TOP_UP = """
local cost = tonumber(ARGV[1])
for i = 1, #KEYS do
  local budget = tonumber(ARGV[1 + i])
  if budget >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') + cost > budget then
    return i
  end
end
for i = 1, #KEYS do redis.call('INCRBY', KEYS[i], cost) end
return 0
"""

# KEYS: two per quota (tokens in the window, spent); ARGV: spend change, tokens, ttl.
# Returns each quota's spend afterwards.
_SETTLE = """
local out = {}
for i = 0, #KEYS / 2 - 1 do
  out[i + 1] = redis.call('INCRBY', KEYS[2 + 2 * i], tonumber(ARGV[1]))
  if tonumber(ARGV[2]) > 0 then
    redis.call('INCRBY', KEYS[1 + 2 * i], tonumber(ARGV[2]))
    redis.call('EXPIRE', KEYS[1 + 2 * i], tonumber(ARGV[3]))
  end
end
return out
"""


class RedisLimits:
    """Shared state in Redis (redis-py asyncio); keys under ``prefix``: a tenant's under
    ``prefix:<tenant>:``, a key's under ``prefix/key:<tenant>/<name>:``."""

    def __init__(self, url: str, prefix: str = "archipel:gw") -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url)
        self._prefix = prefix
        self._admit = self._redis.register_script(_ADMIT)
        self._settle = self._redis.register_script(_SETTLE)
        self._top_up = self._redis.register_script(_TOP_UP)

    def _base(self, q: Quota) -> str:
        return f"{self._prefix}:{q.id}" if q.scope == "tenant" else f"{self._prefix}/key:{q.id}"

    async def admit(self, quotas: Sequence[Quota], now: float, reserve_nusd: int) -> Refusal | None:
        w = int(now // WINDOW_S)
        keys: list[str] = []
        args: list[int] = [reserve_nusd, 2 * WINDOW_S]
        for q in quotas:
            b = self._base(q)
            keys += [f"{b}:req:{w}", f"{b}:tok:{w}", f"{b}:spent"]
            args += [q.requests_per_minute, q.tokens_per_minute, q.budget_nusd]
        code = int(await self._admit(keys=keys, args=args))
        return None if code == 0 else _refusal(code % 10, quotas[code // 10 - 1])

    async def top_up(self, quotas: Sequence[Quota], now: float, more_nusd: int) -> Refusal | None:
        keys = [f"{self._base(q)}:spent" for q in quotas]
        code = int(
            await self._top_up(keys=keys, args=[more_nusd, *(q.budget_nusd for q in quotas)])
        )
        return None if code == 0 else _refusal(3, quotas[code - 1])

    async def settle(
        self, quotas: Sequence[Quota], now: float, reserved_nusd: int, spent_nusd: int, tokens: int
    ) -> list[int]:
        w = int(now // WINDOW_S)
        keys: list[str] = []
        for q in quotas:
            b = self._base(q)
            keys += [f"{b}:tok:{w}", f"{b}:spent"]
        out = await self._settle(keys=keys, args=[spent_nusd - reserved_nusd, tokens, 2 * WINDOW_S])
        return [int(x) for x in out]

    async def spent_nusd(self, quota: Quota) -> int:
        raw = await self._redis.get(f"{self._base(quota)}:spent")
        return int(raw or 0)

    async def close(self) -> None:
        await self._redis.aclose()
