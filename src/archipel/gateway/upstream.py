"""One attempt on one upstream, over one shared aiohttp session (keep-alive pool).

An attempt's result is a value (:class:`Outcome`): ``ok`` with the response, or a failure
``kind`` that tells the request loop whether another deployment may still be tried — every
failure here happens before the client received a byte. Streams hand back the open response
after its first content bytes arrived (``first``); what happens after that is the relay's
business (:mod:`archipel.gateway.app`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(slots=True)
class Outcome:
    ok: bool
    kind: str  # "ok" | "connect" | "timeout" | "status" | "cut" | "client_error"
    status: int = 0
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""
    response: aiohttp.ClientResponse | None = None  # an open stream (ok, streaming)
    first: bytes = b""  # the stream's first content bytes


def make_session(limit: int = 1000) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, keepalive_timeout=30, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


_PASS = {"content-type", "openai-processing-ms", "x-request-id"}


def _headers(resp: aiohttp.ClientResponse) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in resp.headers.items() if k.lower() in _PASS]


async def attempt(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    token: str | None,
    stream: bool,
    timeout_s: float,
) -> Outcome:
    """POST ``body`` to ``url``; the response (or a stream's first bytes) within ``timeout_s``."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    resp: aiohttp.ClientResponse | None = None
    try:
        async with asyncio.timeout(timeout_s):
            resp = await session.post(url, data=body, headers=headers)
            if resp.status in RETRYABLE_STATUS:
                await resp.read()
                resp.release()
                return Outcome(False, "status", resp.status)
            if not stream or resp.status != 200:
                data = await resp.read()
                kind = "ok" if resp.status < 400 else "client_error"
                return Outcome(kind == "ok", kind, resp.status, _headers(resp), data)
            first = await resp.content.readany()
            if not first:
                resp.close()
                return Outcome(False, "cut", resp.status)
            return Outcome(True, "ok", resp.status, _headers(resp), response=resp, first=first)
    except TimeoutError:
        if resp is not None:
            resp.close()
        return Outcome(False, "timeout")
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError):
        if resp is not None:
            resp.close()
        return Outcome(False, "cut")
    except (aiohttp.ClientError, OSError):
        if resp is not None:
            resp.close()
        return Outcome(False, "connect")


def usage_tokens(body: bytes) -> int:
    """``usage.total_tokens`` (or prompt + completion) of a JSON response; 0 when absent."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return 0
    return _tokens(data)


def _tokens(data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    u = data.get("usage")
    if not isinstance(u, dict):
        return 0
    total = u.get("total_tokens")
    if isinstance(total, int) and total >= 0:
        return total
    parts = [u.get("prompt_tokens"), u.get("completion_tokens")]
    return sum(p for p in parts if isinstance(p, int) and p >= 0)


def stream_usage(event_data: bytes) -> int:
    """Tokens of a stream's ``data: {...}`` line carrying ``usage`` (0 when none)."""
    if b'"usage"' not in event_data:
        return 0
    for line in event_data.split(b"\n"):
        if line.startswith(b"data: {") and b'"usage"' in line:
            try:
                n = _tokens(json.loads(line[6:]))
            except ValueError:
                continue
            if n:
                return n
    return 0


async def probe(session: aiohttp.ClientSession, base_url: str, timeout_s: float) -> bool:
    """Active health: ``GET {base_url}/v1/models`` answers 200 within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s), session.get(base_url + "/v1/models") as resp:
            await resp.read()
            return resp.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False
