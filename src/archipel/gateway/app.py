"""The data plane: a raw ASGI app (no framework, no pydantic on the hot path).

Routes: ``POST /v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings`` (proxied),
``GET /v1/models`` (the services the key's tenant may call), ``/health`` (the process is up),
``/ready`` (a configuration is loaded and some deployment is up), ``/metrics`` (Prometheus).

A proxied request: the API key (``Authorization: Bearer``) names a tenant; the body's ``model``
names the service; the geography is the ``x-archipel-geography`` header, else the tenant's, else
the table's first; the request class is ``x-archipel-request-class``, else the service's first.
Then, until served or refused, the pure policy (:func:`archipel.route.policy.decide`) picks a
deployment from the tenant's allowed set with wall-clock time and the health board, the limits
(the key's own, if it has any, and the tenant's) reserve the price of one nominal request there
(once; the difference again before a failover to a dearer deployment), and one attempt is
made. A failed attempt (connect error, 5xx, 429, no first byte within half the time left to the
TTFT deadline for streams while it is ahead, else to the deadline: a hung backend is abandoned
with time left to fail over) is fed to the breaker and the policy is asked again with the deployment in ``tried``.
Residency is checked once more on the decision itself (fail-closed: a decision outside
``table.allowed`` is refused and counted, never sent).

Every response of a proxied request carries ``x-archipel-deployment`` (the deployment that
served it, or ``-``), ``x-archipel-attempts``, ``x-archipel-retries`` (new rounds after a
backoff) and ``x-archipel-failovers`` (attempts sent right after a failed one, to another
deployment). Errors are OpenAI-shaped:
``{"error": {"type", "code", "message"}}``.

Streams are relayed chunk by chunk as they arrive. A failure before the first content byte
fails over like any other attempt. After it, the client gets one typed terminal event and the
stream ends (never a silent truncation)::

    event: error
    data: {"error": {"type": "upstream_stream_interrupted", "code": "stream_cut",
           "deployment": KEY, "message": ..., "chunks_relayed": N}}

An upstream that closes the stream without ``data: [DONE]`` counts as interrupted.

Access log: one JSON object per request (``ts``, ``tenant``, ``key`` (its name, when it has
one), ``service``, ``deployment``,
``status``, ``outcome``, ``attempts``, ``upstream_s``, ``latency_ms``, ``cost_usd``) on stderr,
buffered and written every tick (50 ms) in one call; other events go through ``logging``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from archipel.gateway.config import Caller
from archipel.gateway.fleet import NANO
from archipel.gateway.health import Breaker
from archipel.gateway.limits import Limits, Refusal
from archipel.gateway.metrics import Metrics
from archipel.gateway.request import (
    Receive,
    Reply,
    Scope,
    Send,
    count_headers,
    error_body,
    parse_request,
    read_body,
    send_json,
)
from archipel.gateway.state import State, carry_over
from archipel.gateway.upstream import attempt, make_session, probe, stream_usage, usage_tokens
from archipel.route.policy import decide
from archipel.route.types import Action, Request

PROXIED = {
    "/v1/chat/completions": "chat/completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}
log = logging.getLogger("archipel.gateway")


@dataclass(frozen=True)
class Options:
    deadline_s: float = 60.0  # end-to-end, unless the request's x-archipel-deadline-ms is sooner
    ttft_s: float = 10.0  # first streamed byte by then
    attempt_share: float = 0.5  # an attempt may use this share of the time left
    chunk_timeout_s: float = 30.0  # longest silence inside a stream before it counts as cut
    health_interval_s: float = 1.0
    probe_timeout_s: float = 0.5
    tick_s: float = 0.05
    reload_s: float = 1.0  # 0: never watch the files
    access_log: bool = True


class Gateway:
    """The ASGI app. ``reload`` (a callable returning a new State) is called when the watched
    files change; ``stamps`` tells when they did."""

    def __init__(
        self,
        state: State,
        limits: Limits,
        options: Options,
        reload: Callable[[], State] | None = None,
        stamps: Callable[[], tuple[float, ...]] | None = None,
        seed: int | None = None,
    ) -> None:
        self.state = state
        self.limits = limits
        self.opt = options
        self.metrics = Metrics()
        self._reload = reload
        self._stamps = stamps
        self._stamp = stamps() if stamps is not None else ()
        self._rng = random.Random(seed)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._freed: asyncio.Event | None = None
        self._key_cache: dict[bytes, Caller | None] = {}
        self._rollbacks: dict[tuple[int, str], int] = {}
        self._children: dict[tuple[Any, ...], Any] = {}
        self._breakers: tuple[int, ...] = ()
        self._access: list[str] = []  # access-log lines, written by the ticker in one go
        self._pid = os.getpid()
        self._bind_metrics()

    # -- lifecycle --------------------------------------------------------------------------

    def _bind_metrics(self) -> None:
        st, m = self.state, self.metrics
        t = st.fleet.table
        self._spend_children = [
            [(m.spend.labels(t.provider[d], c), share) for c, share in st.fleet.contracts[d]]
            for d in range(t.size)
        ]
        self._service_latency = [m.latency.labels(s) for s in t.services]
        m.commitment.clear()
        m.planned_serving.clear()
        for c in st.fleet.commitments:
            labels = (c.provider, c.contract, str(c.year))
            m.commitment.labels(*labels).set(c.committed_usd)
            m.planned_serving.labels(*labels).set(c.serving_usd)
        for g in st.gate.gates:
            m.ramp_cap.labels(t.services[g.service], g.provider).set(st.gate.cap(g))

    async def startup(self) -> None:
        self._pid = os.getpid()  # each worker process starts its own app
        self._session = make_session()
        self._freed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._ticker()),
            asyncio.create_task(self._prober()),
        ]
        if self._reload is not None and self.opt.reload_s > 0:
            self._tasks.append(asyncio.create_task(self._watcher()))

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
        await self.limits.close()
        self.flush_access_log()
        Metrics.process_exited(self._pid)

    def flush_access_log(self) -> None:
        """Write the buffered access-log lines (one JSON object each) to stderr in one call:
        a write per request would cost a system call each on the hot path."""
        if self._access:
            lines, self._access = self._access, []
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.opt.tick_s)
            self.flush_access_log()
            st = self.state
            now = time.monotonic()
            st.board.tick(now)
            if st.gate.tick(now, [b == Breaker.OPEN for b in st.board.state]):
                t = st.fleet.table
                for g in st.gate.gates:
                    self.metrics.ramp_cap.labels(t.services[g.service], g.provider).set(
                        st.gate.cap(g)
                    )
                    seen = self._rollbacks.get((g.service, g.provider), 0)
                    if g.rollbacks > seen:
                        self.metrics.ramp_rollbacks.labels(t.services[g.service], g.provider).inc(
                            g.rollbacks - seen
                        )
                        self._rollbacks[(g.service, g.provider)] = g.rollbacks
                log.info("ramp", extra={"event": {"caps": [st.gate.cap(g) for g in st.gate.gates]}})
            states = tuple(int(b) for b in st.board.state)
            if states != self._breakers:
                self._breakers = states
                for key, b in zip(st.fleet.table.key, states, strict=True):
                    self.metrics.breaker.labels(key).set(b)

    async def _prober(self) -> None:
        assert self._session is not None
        while True:
            st = self.state
            urls = [(d, u) for d, u in enumerate(st.fleet.url) if u is not None]
            results = await asyncio.gather(
                *(probe(self._session, u, self.opt.probe_timeout_s) for _, u in urls)
            )
            now = time.monotonic()
            for (d, _), ok in zip(urls, results, strict=True):
                st.board.probe(d, ok, now)
            await asyncio.sleep(self.opt.health_interval_s)

    async def _watcher(self) -> None:
        assert self._reload is not None and self._stamps is not None
        while True:
            await asyncio.sleep(self.opt.reload_s)
            stamp = self._stamps()
            if stamp == self._stamp:
                continue
            self._stamp = stamp
            await self.reload_now()

    async def reload_now(self) -> bool:
        """Build a new State from the files (in a thread) and swap it in; False (logged, the
        old State kept) when a file is wrong."""
        assert self._reload is not None
        from archipel.errors import UserError

        try:
            state = await asyncio.to_thread(self._reload)
        except UserError as exc:
            self.metrics.reloads.labels("error").inc()
            log.error("reload refused", extra={"event": {"error": str(exc)}})
            return False
        carry_over(state, self.state)
        self.state = state
        self._key_cache = {}
        self._rollbacks = {(g.service, g.provider): g.rollbacks for g in state.gate.gates}
        self._breakers = ()
        self._bind_metrics()
        self.metrics.reloads.labels("ok").inc()
        log.info("reloaded", extra={"event": {"deployments": state.fleet.table.size}})
        return True

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        method = scope["method"]
        op = PROXIED.get(path)
        if op is not None and method == "POST":
            await self._proxy(op, scope, receive, send)
        elif path == "/v1/models" and method == "GET":
            await self._models(scope, send)
        elif path == "/health":
            await send_json(send, 200, b'{"status":"ok"}')
        elif path == "/ready":
            up = any(self.state.board.health.up)
            await send_json(send, 200 if up else 503, json.dumps({"ready": up}).encode())
        elif path == "/metrics":
            body = self.metrics.render()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/plain; version=0.0.4")],
                }
            )
            await send({"type": "http.response.body", "body": body})
        else:
            await send_json(
                send,
                404,
                error_body("invalid_request_error", "not_found", f"no route {method} {path}"),
            )

    def _caller(self, scope: Scope) -> Caller | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                if value in self._key_cache:
                    return self._key_cache[value]
                token = value[7:] if value[:7].lower() == b"bearer " else value
                caller = self.state.keys.caller_of_hash.get(
                    hashlib.sha256(token.strip()).hexdigest()
                )
                if len(self._key_cache) < 10_000:
                    self._key_cache[value] = caller
                return caller
        return None

    async def _models(self, scope: Scope, send: Send) -> None:
        caller = self._caller(scope)
        if caller is None:
            await send_json(
                send,
                401,
                error_body("invalid_request_error", "invalid_api_key", "unknown API key"),
            )
            return
        allowed = caller.tenant.services
        names = [s for s in self.state.fleet.table.services if allowed is None or s in allowed]
        data = [{"id": s, "object": "model", "owned_by": "archipel"} for s in names]
        await send_json(send, 200, json.dumps({"object": "list", "data": data}).encode())

    # -- proxy ------------------------------------------------------------------------------

    async def _proxy(self, op: str, scope: Scope, receive: Receive, send: Send) -> None:
        t0 = time.perf_counter()
        st = self.state
        caller = self._caller(scope)
        ctx: dict[str, Any] = {
            "op": op,
            "attempts": 0,
            "retries": 0,
            "failovers": 0,
            "upstream_s": 0.0,
            "deployment": "-",
        }
        try:
            if caller is None:
                raise Reply(401, "invalid_request_error", "invalid_api_key", "unknown API key")
            ctx["tenant"] = caller.tenant.id
            if caller.key:
                ctx["key"] = caller.key
            body = await read_body(receive)
            await self._serve(op, scope, body, caller, st, ctx, send, t0)
        except Reply as r:
            ctx["status"] = r.status
            ctx["outcome"] = r.code
            await send_json(
                send,
                r.status,
                error_body(r.kind, r.code, str(r)),
                (
                    (b"x-archipel-deployment", r.deployment.encode()),
                    *count_headers(ctx),
                ),
            )
            self.metrics.requests.labels(ctx.get("service", "-"), r.code).inc()
        if self.opt.access_log:
            ctx["latency_ms"] = round((time.perf_counter() - t0) * 1000, 3)
            line = {
                "ts": round(time.time(), 6),
                "level": "info",
                "msg": "request",
                "pid": self._pid,
            }
            self._access.append(json.dumps({**line, **ctx}, default=str))

    async def _serve(
        self,
        op: str,
        scope: Scope,
        body: bytes,
        caller: Caller,
        st: State,
        ctx: dict[str, Any],
        send: Send,
        t0: float,
    ) -> None:
        payload, s, c, stream, req = parse_request(
            op, scope, body, caller.tenant, st, ctx, self.opt.deadline_s, self.opt.ttft_s
        )
        table = st.fleet.table
        k = st.dc_index[caller.tenant.data_class]
        allowed = table.allowed[k]
        hold = _Hold()
        try:
            await self._route(
                op, st, caller, payload, body, s, c, stream, req, allowed, hold, ctx, send, t0
            )
        finally:  # a request that ends unserved, however, gives its reservation back
            if hold.nusd >= 0 and not hold.settled:
                await self.limits.settle(caller.quotas, time.time(), hold.nusd, 0, 0)

    async def _route(
        self,
        op: str,
        st: State,
        caller: Caller,
        payload: dict[str, Any],
        body: bytes,
        s: int,
        c: int,
        stream: bool,
        req: Request,
        allowed: Any,
        hold: _Hold,
        ctx: dict[str, Any],
        send: Send,
        t0: float,
    ) -> None:
        """Ask the policy, reserve, attempt; again until served or refused (module docstring)."""
        table = st.fleet.table
        service = req.service
        rng = self._rng
        board = st.board
        while True:
            now = time.monotonic()
            board.due(now)  # a breaker half-opens on time, not on the next tick
            dec = decide(req, st.gate.table, board.health, now, rng.random())
            if dec.action is Action.REJECT:
                raise Reply(503, "service_unavailable", "no_deployment", dec.reason)
            if dec.action is Action.RETRY:
                await asyncio.sleep(max(0.0, (dec.at_s or now) - now))
                req = replace(req, attempt=req.attempt + 1, tried=())
                ctx["retries"] += 1
                continue
            if dec.action is Action.QUEUE:
                assert self._freed is not None
                self._freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), max(0.0, (dec.at_s or now) - now))
                continue
            d = dec.deployment
            if not allowed[d] or table.service[d] != s:  # fail-closed, whatever the decision says
                self.metrics.residency_blocks.inc()
                raise Reply(503, "service_unavailable", "residency_block", "no allowed deployment")
            price = st.fleet.price_nusd[d][c] if c < len(st.fleet.price_nusd[d]) else 0
            await self._reserve(caller, hold, price)
            if req.attempt > 0 or req.tried:
                self.metrics.failovers.labels(service).inc()
            if req.tried:
                ctx["failovers"] += 1
            served = await self._try(op, st, d, payload, body, stream, req, ctx, send, t0)
            if served is None:
                req = req.after_failure(d)
                continue
            tokens = served
            nominal = st.fleet.class_tokens[s][c] if c < len(st.fleet.class_tokens[s]) else 0
            spent = price if tokens <= 0 or nominal <= 0 else round(price * tokens / nominal)
            hold.settled = True
            spends = await self.limits.settle(
                caller.quotas, time.time(), hold.nusd, spent, max(tokens, 0)
            )
            for q, nusd in zip(caller.quotas, spends, strict=True):
                if q.budget_nusd >= 0:
                    self._set(self.metrics.budget_spent, nusd / NANO, q.id)
            usd = spent / NANO
            for child, share in self._spend_children[d]:
                child.inc(usd * share)
            ctx["cost_usd"] = usd
            return

    async def _reserve(self, caller: Caller, hold: _Hold, price: int) -> None:
        """Reserve a request's price before its first attempt; before a failover to a dearer
        deployment, the difference too (a budget is never overspent in flight). Raises the
        refusal (429) when a quota has no room."""
        if hold.nusd < 0:
            refusal = await self.limits.admit(caller.quotas, time.time(), price)
        elif price > hold.nusd:
            refusal = await self.limits.top_up(caller.quotas, time.time(), price - hold.nusd)
        else:
            return
        if refusal is not None:
            self._refused(refusal)
        hold.nusd = price

    def _count(self, counter: Any, *labels: str) -> None:
        """``counter.labels(*labels).inc()``, the child kept (labels() costs a lock and a hash)."""
        key = (id(counter), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = counter.labels(*labels)
        child.inc()

    def _set(self, gauge: Any, value: float, *labels: str) -> None:
        """``gauge.labels(*labels).set(value)``, the child kept."""
        key = (id(gauge), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = gauge.labels(*labels)
        child.set(value)

    def _refused(self, refusal: Refusal) -> None:
        self.metrics.refused.labels(refusal.quota, refusal.kind).inc()
        code = "insufficient_quota" if refusal.kind == "budget" else "rate_limit_exceeded"
        raise Reply(
            429,
            "rate_limit_error" if code != "insufficient_quota" else "insufficient_quota",
            code,
            refusal.message,
        )

    async def _try(
        self,
        op: str,
        st: State,
        d: int,
        payload: dict[str, Any],
        raw: bytes,
        stream: bool,
        req: Request,
        ctx: dict[str, Any],
        send: Send,
        t0: float,
    ) -> int | None:
        """One attempt on ``d``; the tokens used (-1 unknown) when the client got its answer,
        None when another deployment should be tried."""
        assert self._session is not None and self._freed is not None
        fleet, board = st.fleet, st.board
        url = fleet.url[d]
        key = fleet.table.key[d]
        ctx["attempts"] += 1
        now = time.monotonic()
        if url is None:  # no endpoint: down for good
            board.start(d)
            board.finish(d, False, now)
            return None
        timeout = max(0.001, (req.attempt_target_s(now) - now) * self.opt.attempt_share)
        body = (
            raw
            if fleet.model[d] == payload["model"]
            else json.dumps({**payload, "model": fleet.model[d]}).encode()
        )
        board.start(d)
        board.routed(d, now)
        t_up = time.perf_counter()
        out = await attempt(self._session, url + "/v1/" + op, body, fleet.token[d], stream, timeout)
        ctx["upstream_s"] += time.perf_counter() - t_up
        if not out.ok and out.kind != "client_error":
            board.finish(d, False, time.monotonic())
            self._freed.set()
            self._count(self.metrics.attempts, key, out.kind)
            st.gate.record(d, False, time.monotonic() - req.arrival_s)
            return None
        head = [
            *(out.headers or []),
            (b"x-archipel-deployment", key.encode()),
            *count_headers(ctx),
        ]
        ctx["deployment"] = key
        ctx["status"] = out.status
        if out.response is None:
            board.finish(d, True, time.monotonic())
            self._freed.set()
            self._count(self.metrics.attempts, key, "ok")
            head.append((b"content-length", str(len(out.body)).encode()))
            await send({"type": "http.response.start", "status": out.status, "headers": head})
            await send({"type": "http.response.body", "body": out.body})
            tokens = usage_tokens(out.body) if out.ok else 0
            self._served(st, d, req, ctx, t0, ok=out.ok)
            return tokens if out.ok else 0
        return await self._relay(st, d, out.response, out.first, head, req, ctx, send, t0)

    async def _relay(
        self,
        st: State,
        d: int,
        resp: aiohttp.ClientResponse,
        first: bytes,
        head: list[tuple[bytes, bytes]],
        req: Request,
        ctx: dict[str, Any],
        send: Send,
        t0: float,
    ) -> int:
        assert self._freed is not None
        key = st.fleet.table.key[d]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": first, "more_body": True})
        chunks, tail, tokens = 1, first[-64:], stream_usage(first)
        error = ""
        try:
            while True:
                chunk = await asyncio.wait_for(resp.content.readany(), self.opt.chunk_timeout_s)
                if not chunk:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                chunks += 1
                tail = (tail + chunk)[-64:]
                tokens = stream_usage(chunk) or tokens
        except TimeoutError:
            error = f"no bytes for {self.opt.chunk_timeout_s} s"
        except (aiohttp.ClientError, OSError) as exc:
            error = f"the upstream connection broke ({type(exc).__name__})"
        finally:
            resp.close()
        if not error and b"[DONE]" not in tail:
            error = "the upstream closed the stream before [DONE]"
        ok = not error
        if error:
            event = {
                "error": {
                    "type": "upstream_stream_interrupted",
                    "code": "stream_cut",
                    "deployment": key,
                    "message": error,
                    "chunks_relayed": chunks,
                }
            }
            data = b"event: error\ndata: " + json.dumps(event).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": data, "more_body": True})
            self._count(self.metrics.attempts, key, "stream_cut")
            ctx["outcome"] = "stream_cut"
        else:
            self._count(self.metrics.attempts, key, "ok")
        await send({"type": "http.response.body", "body": b""})
        st.board.finish(d, ok, time.monotonic())
        self._freed.set()
        self._served(st, d, req, ctx, t0, ok=ok)
        ctx["chunks"] = chunks
        return tokens if tokens else -1

    def _served(
        self, st: State, d: int, req: Request, ctx: dict[str, Any], t0: float, ok: bool
    ) -> None:
        total = time.perf_counter() - t0
        service = ctx.get("service", "-")
        outcome = ctx.setdefault("outcome", "ok" if ok else "error")
        self._count(self.metrics.requests, service, outcome)
        self._service_latency[int(st.fleet.table.service[d])].observe(total)
        self.metrics.overhead.observe(max(0.0, total - ctx["upstream_s"]))
        st.gate.record(d, ok, time.monotonic() - req.arrival_s)


@dataclass
class _Hold:
    """A request's budget reservation (nano-USD; -1: none yet) and whether it was settled."""

    nusd: int = -1
    settled: bool = False
