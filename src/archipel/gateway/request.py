"""A proxied request as the client sent it: the body read, parsed into the policy's
:class:`~archipel.route.types.Request`, and the OpenAI-shaped error answers (raised as
:class:`Reply` from anywhere on the request path).

Headers the gateway reads: ``x-archipel-geography`` (else the tenant's, else the table's first),
``x-archipel-request-class`` (else the service's first), ``x-archipel-deadline-ms`` (shortens
the configured deadline).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from archipel.gateway.config import Tenant
from archipel.gateway.state import State
from archipel.route.types import Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 16 * 1024 * 1024
JSON = [(b"content-type", b"application/json")]


class Reply(Exception):
    """A final answer for the client, raised from deep in the request path."""

    def __init__(self, status: int, kind: str, code: str, message: str, deployment: str = "-"):
        super().__init__(message)
        self.status, self.kind, self.code, self.deployment = status, kind, code, deployment


def error_body(kind: str, code: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "code": code, "message": message}}).encode()


async def send_json(
    send: Send, status: int, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    headers = [*JSON, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def count_headers(ctx: dict[str, Any]) -> tuple[tuple[bytes, bytes], ...]:
    """``x-archipel-attempts``, ``-retries`` and ``-failovers`` of a request's context."""
    return (
        (b"x-archipel-attempts", str(ctx["attempts"]).encode()),
        (b"x-archipel-retries", str(ctx["retries"]).encode()),
        (b"x-archipel-failovers", str(ctx["failovers"]).encode()),
    )


async def read_body(receive: Receive) -> bytes:
    parts = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise Reply(400, "invalid_request_error", "disconnected", "the client went away")
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Reply(413, "invalid_request_error", "too_large", "the body is over 16 MiB")
        parts.append(chunk)
        if not msg.get("more_body"):
            return b"".join(parts)


def parse_request(
    op: str,
    scope: Scope,
    body: bytes,
    tenant: Tenant,
    st: State,
    ctx: dict[str, Any],
    deadline_s: float,
    ttft_s: float,
) -> tuple[dict[str, Any], int, int, bool, Request]:
    """The body, service, request class, stream flag and the policy's Request (deadlines from
    now: ``deadline_s``, shortened by the client's header, and ``ttft_s`` for streams)."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise Reply(400, "invalid_request_error", "invalid_json", "the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), str):
        raise Reply(
            400, "invalid_request_error", "missing_model", "the body needs a 'model' (a service)"
        )
    service = payload["model"]
    s = st.service_index.get(service)
    if s is None:
        raise Reply(
            404, "invalid_request_error", "model_not_found", f"no service {service!r} in the plan"
        )
    ctx["service"] = service
    if tenant.services is not None and service not in tenant.services:
        raise Reply(
            403,
            "permission_error",
            "service_not_allowed",
            f"tenant {tenant.id!r} may not call {service!r}",
        )
    stream = op != "embeddings" and payload.get("stream") is True
    hdr = {k: v for k, v in scope["headers"] if k.startswith(b"x-archipel-")}
    table = st.fleet.table
    geography = (
        hdr.get(b"x-archipel-geography", b"").decode() or tenant.geography or table.geographies[0]
    )
    if geography not in st.geo_index:
        raise Reply(
            400, "invalid_request_error", "unknown_geography", f"unknown geography {geography!r}"
        )
    cls_name = hdr.get(b"x-archipel-request-class", b"").decode()
    c = st.class_index[s].get(cls_name, 0) if cls_name else 0
    request_class = table.request_classes[s][c] if table.request_classes[s] else ""
    now = time.monotonic()
    given = hdr.get(b"x-archipel-deadline-ms")
    if given is not None:
        with contextlib.suppress(ValueError):
            deadline_s = min(deadline_s, max(0.0, float(given) / 1000.0))
    req = Request(
        service=service,
        geography=geography,
        request_class=request_class,
        arrival_s=now,
        deadline_s=now + deadline_s,
        ttft_deadline_s=now + min(ttft_s, deadline_s) if stream else None,
        data_class=tenant.data_class,
    )
    return payload, s, c, stream, req
