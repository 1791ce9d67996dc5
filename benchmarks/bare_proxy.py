"""The floor a Python proxy pays on this machine: a raw ASGI app that forwards each POST body
to one upstream over one aiohttp session and returns the answer — no auth, policy, limits,
metrics or logs. ``benchmarks/gateway.py --baseline`` measures it exactly as the gateway, so
the difference is what the gateway's own work costs.

Run alone: ``UPSTREAM=http://127.0.0.1:9001 uvicorn bare_proxy:app --loop uvloop --http httptools``
(or ``granian --interface asgi bare_proxy:app``).
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp

UPSTREAM = os.environ.get("UPSTREAM", "http://127.0.0.1:9001")


class Bare:
    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    self.session = aiohttp.ClientSession()
                    await send({"type": "lifespan.startup.complete"})
                else:
                    if self.session is not None:
                        await self.session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        if scope["path"] in ("/ready", "/health"):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        assert self.session is not None
        async with self.session.post(
            UPSTREAM + scope["path"], data=body, headers={"content-type": "application/json"}
        ) as r:
            data = await r.read()
            status = r.status
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


app = Bare()
