"""A fake OpenAI-compatible backend for tests and benchmarks (aiohttp.web, loopback).

Behaviour (:class:`Behaviour`) is set at start and changed at run time with
``POST /_fake/config`` (JSON of the fields to change); ``GET /_fake/stats`` counts the requests
served per path. Faults: ``status`` (answer every completion with it, e.g. 429 or 503),
``hang`` (accept and never answer, health probes included), ``cut_before_first`` (send the
response head, then drop the connection), ``cut_after`` (drop the connection after that many
stream chunks). Killing is the caller's: stop the process.

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

    def _usage(self) -> dict[str, int]:
        b = self.b
        return {
            "prompt_tokens": b.prompt_tokens,
            "completion_tokens": b.completion_tokens,
            "total_tokens": b.prompt_tokens + b.completion_tokens,
        }

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
        if isinstance(payload, dict) and payload.get("stream") is True:
            return await self._stream(request, model, headers)
        if b.cut_before_first and request.transport is not None:
            request.transport.abort()
            return web.Response(status=500)
        if b.service_time_s > 0:
            await asyncio.sleep(b.service_time_s)
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
                "usage": self._usage(),
            },
            headers=headers,
        )

    async def _stream(
        self, request: web.Request, model: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        b = self.b
        resp = web.StreamResponse(headers={**headers, "content-type": "text/event-stream"})
        await resp.prepare(request)
        if b.cut_before_first:
            if request.transport is not None:
                request.transport.abort()
            return resp
        if b.ttft_s > 0:
            await asyncio.sleep(b.ttft_s)
        gap = max(0.0, b.service_time_s - b.ttft_s) / max(1, b.chunks - 1)
        for i in range(b.chunks):
            if i == b.cut_after and request.transport is not None:
                request.transport.abort()
                return resp
            if i and gap > 0:
                await asyncio.sleep(gap)
            chunk: dict[str, Any] = {
                "id": "fake-1",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}],
            }
            if i == b.chunks - 1 and b.usage_in_stream:
                chunk["usage"] = self._usage()
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
    args = p.parse_args(argv)
    b = Behaviour(args.name, args.service_time, args.ttft, args.chunks, args.status)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        pass
    web.run_app(Fake(b).app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
