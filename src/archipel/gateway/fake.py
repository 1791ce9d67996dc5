"""A fake OpenAI-compatible backend for tests and benchmarks (aiohttp.web, loopback).

Behaviour (:class:`Behaviour`) is set at start and changed at run time with
``POST /_fake/config`` (JSON of the fields to change); ``GET /_fake/stats`` counts the requests
served per path. Faults: ``status`` (answer every completion with it, e.g. 429 or 503),
``hang`` (accept and never answer, health probes included), ``cut_before_first`` (send the
response head, then drop the connection), ``cut_after`` (drop the connection after that many
stream chunks). Killing is the caller's: stop the process; ``--start-at`` (a Unix time) lets a
replacement wait, imported and ready, to bind the port at a given moment.

A hang holds every request at its next step, not only new ones: a completion that has not
answered yet, and a stream between two chunks (a hung server stops answering what it holds).

Per-request service times (the simulator's service model, :mod:`archipel.sim.service`): with
the ``*_per_*`` fields set, a request's first chunk comes after ``ttft_s + ttft_s_per_prompt_token
· p`` and its last after a further ``service_time_s + s_per_prompt_token · p +
s_per_completion_token · c``, where ``p`` is the prompt's whitespace-separated words (the
messages' contents, or ``prompt``) and ``c`` is the body's ``max_tokens`` (else
``completion_tokens``); ``usage`` then reports ``p`` and ``c``. Any field can be given at start
as JSON (``--behaviour``).

Run: ``python -m archipel.gateway.fake --port 9001 --name eu-1 --service-time 0.05``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Behaviour:
    name: str = "fake"
    service_time_s: float = 0.0  # whole response (non-streaming), or the stream's last chunk
    ttft_s: float = 0.0  # a stream's first chunk
    chunks: int = 4
    status: int = 200
    hang: bool = False
    cut_before_first: bool = False
    cut_after: int = -1
    prompt_tokens: int = 10
    completion_tokens: int = 20
    usage_in_stream: bool = True
    ttft_s_per_prompt_token: float = 0.0
    s_per_prompt_token: float = 0.0
    s_per_completion_token: float = 0.0

    @property
    def per_request(self) -> bool:
        return bool(
            self.ttft_s_per_prompt_token or self.s_per_prompt_token or self.s_per_completion_token
        )


def _tokens(payload: Any, default_prompt: int, default_completion: int) -> tuple[int, int]:
    """(prompt words, max_tokens) of an OpenAI body, the defaults where absent."""
    if not isinstance(payload, dict):
        return default_prompt, default_completion
    texts: list[str] = []
    messages = payload.get("messages")
    if isinstance(messages, list):
        texts += [
            m["content"]
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("content"), str)
        ]
    if isinstance(payload.get("prompt"), str):
        texts.append(payload["prompt"])
    prompt = sum(len(t.split()) for t in texts) if texts else default_prompt
    out = payload.get("max_tokens")
    completion = out if isinstance(out, int) and out >= 0 else default_completion
    return prompt, completion


class Fake:
    def __init__(self, behaviour: Behaviour) -> None:
        self.b = behaviour
        self.counts: dict[str, int] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/_fake/config", self.config)
        app.router.add_get("/_fake/stats", self.stats)
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/chat/completions", self.complete)
        app.router.add_post("/v1/completions", self.complete)
        app.router.add_post("/v1/embeddings", self.embed)
        return app

    async def _hang(self) -> None:
        while self.b.hang:
            await asyncio.sleep(0.05)

    async def config(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.b = dataclasses.replace(self.b, **data)
        return web.json_response(dataclasses.asdict(self.b))

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"name": self.b.name, "counts": self.counts})

    async def models(self, request: web.Request) -> web.Response:
        await self._hang()
        return web.json_response(
            {"object": "list", "data": [{"id": self.b.name, "object": "model"}]}
        )

    def _usage(self, prompt: int, completion: int) -> dict[str, int]:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _times(self, payload: Any) -> tuple[float, float, int, int]:
        """(first chunk, whole response) seconds and the (prompt, completion) tokens."""
        b = self.b
        if not b.per_request:
            return b.ttft_s, b.service_time_s, b.prompt_tokens, b.completion_tokens
        p, c = _tokens(payload, b.prompt_tokens, b.completion_tokens)
        first = b.ttft_s + b.ttft_s_per_prompt_token * p
        rest = b.service_time_s + b.s_per_prompt_token * p + b.s_per_completion_token * c
        return first, first + rest, p, c

    async def embed(self, request: web.Request) -> web.StreamResponse:
        return await self.complete(request)

    async def complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.counts[request.path] = self.counts.get(request.path, 0) + 1
        b = self.b
        headers = {"x-fake-name": b.name}
        if b.hang:
            await self._hang()
        if b.status != 200:
            return web.json_response(
                {"error": {"type": "fake", "message": f"status {b.status}"}},
                status=b.status,
                headers=headers,
            )
        payload: Any = json.loads(body or b"{}")
        model = payload.get("model", "") if isinstance(payload, dict) else ""
        first, total, p, c = self._times(payload)
        if isinstance(payload, dict) and payload.get("stream") is True:
            return await self._stream(request, model, headers, first, total, (p, c))
        if b.cut_before_first and request.transport is not None:
            request.transport.abort()
            return web.Response(status=500)
        if total > 0:
            await asyncio.sleep(total)
        await self._hang()  # hung while it worked: no answer until the hang ends
        return web.json_response(
            {
                "id": "fake-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "ok " + b.name},
                        "finish_reason": "stop",
                    }
                ],
                "usage": self._usage(p, c),
            },
            headers=headers,
        )

    async def _stream(
        self,
        request: web.Request,
        model: str,
        headers: dict[str, str],
        first: float,
        total: float,
        tokens: tuple[int, int],
    ) -> web.StreamResponse:
        b = self.b
        resp = web.StreamResponse(headers={**headers, "content-type": "text/event-stream"})
        await resp.prepare(request)
        if b.cut_before_first:
            if request.transport is not None:
                request.transport.abort()
            return resp
        if first > 0:
            await asyncio.sleep(first)
        gap = max(0.0, total - first) / max(1, b.chunks - 1)
        for i in range(b.chunks):
            if i == b.cut_after and request.transport is not None:
                request.transport.abort()
                return resp
            if i and gap > 0:
                await asyncio.sleep(gap)
            await self._hang()
            chunk: dict[str, Any] = {
                "id": "fake-1",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}],
            }
            if i == b.chunks - 1 and b.usage_in_stream:
                chunk["usage"] = self._usage(*tokens)
            await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="A fake OpenAI-compatible backend (loopback).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="fake")
    p.add_argument("--service-time", type=float, default=0.0)
    p.add_argument("--ttft", type=float, default=0.0)
    p.add_argument("--chunks", type=int, default=4)
    p.add_argument("--status", type=int, default=200)
    p.add_argument(
        "--start-at",
        type=float,
        default=None,
        help="Unix time: import and wait, then bind the port at this moment (a restart on time).",
    )
    p.add_argument(
        "--behaviour",
        default="{}",
        help="JSON of Behaviour fields, over the options above (e.g. the per-token times).",
    )
    args = p.parse_args(argv)
    b = Behaviour(args.name, args.service_time, args.ttft, args.chunks, args.status)
    try:
        b = dataclasses.replace(b, **json.loads(args.behaviour))
    except (ValueError, TypeError) as exc:
        p.error(f"--behaviour: {exc}")
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass
    if args.start_at is not None:
        time.sleep(max(0.0, args.start_at - time.time()))
    web.run_app(Fake(b).app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
