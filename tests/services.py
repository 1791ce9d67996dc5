"""The local services some tests talk to (PostgreSQL, Redis), and how a test asks for one.

A test that needs a service calls :func:`need` first. Where the service does not answer (a
user's laptop), the test is skipped with the reason; with ``ARCHIPEL_REQUIRE_SERVICES=1`` (set by
``.ci/run``, which also starts a service that is down) it fails instead, so CI never passes by
skipping. Addresses can be moved with ``ARCHIPEL_TEST_POSTGRES`` and ``ARCHIPEL_TEST_REDIS``.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("ARCHIPEL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ARCHIPEL_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=0.5
        ):
            return True
    except OSError:
        return False


def need(service: str) -> str:
    """The URL of ``service`` ("postgres" or "redis"); skips (or, in CI, fails) the calling test
    when it does not answer."""
    url, port = {"postgres": (POSTGRES_URL, 5432), "redis": (REDIS_URL, 6379)}[service]
    if _answers(url, port):
        return url
    reason = (
        f"{service} does not answer at {url}: start it (e.g. `service {service}ql start`"
        if service == "postgres"
        else f"{service} does not answer at {url}: start it (e.g. `redis-server --daemonize yes`"
    ) + f") or point ARCHIPEL_TEST_{service.upper()} at one"
    if os.environ.get("ARCHIPEL_REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " (ARCHIPEL_REQUIRE_SERVICES=1: CI does not skip)")
    pytest.skip(reason)
