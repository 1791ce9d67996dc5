"""Running the gateway: structured JSON logs, the app factory for uvicorn workers, and the
server itself (uvicorn with uvloop and httptools; one process per core with ``workers``).

Workers are separate processes: each loads the files itself, from the options passed in the
``ARCHIPEL_GATEWAY`` environment variable (JSON), which :func:`serve` sets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archipel.gateway.app import Gateway, Options
from archipel.gateway.health import HealthConfig
from archipel.gateway.limits import Limits, MemoryLimits, RedisLimits
from archipel.gateway.metrics import MULTIPROC_ENV
from archipel.gateway.ramp import RampConfig
from archipel.gateway.state import Loaded, Sources, load_state

ENV = "ARCHIPEL_GATEWAY"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's ``event`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "pid": record.process,
        }
        event = getattr(record, "event", None)
        if isinstance(event, dict):
            out.update(event)
        return json.dumps(out, default=str)


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("archipel.gateway")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@dataclass(frozen=True)
class ServeConfig:
    spec: str
    plan: str
    endpoints: str
    keys: str
    period: int | None = None
    redis_url: str | None = None
    redis_prefix: str = "archipel:gw"
    seed: int | None = None
    log_level: str = "info"
    options: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    ramp: dict[str, Any] = field(default_factory=dict)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_env(text: str) -> ServeConfig:
        data = json.loads(text)
        return ServeConfig(**data)


def build_app(cfg: ServeConfig) -> Gateway:
    """Load the files (UserError with file:line when one is wrong) and make the app."""
    src = Sources(Path(cfg.spec), Path(cfg.plan), Path(cfg.endpoints), Path(cfg.keys), cfg.period)
    health = HealthConfig(**cfg.health)
    ramp_data = dict(cfg.ramp)
    if "steps" in ramp_data:
        ramp_data["steps"] = tuple(ramp_data["steps"])
    ramp = RampConfig(**ramp_data)
    cache = Loaded()
    state = load_state(src, cache, health, ramp, time.monotonic())

    def reload() -> Any:
        return load_state(
            src, cache, health, ramp, time.monotonic(), dt.datetime.now(dt.UTC).date()
        )

    limits: Limits = (
        RedisLimits(cfg.redis_url, cfg.redis_prefix) if cfg.redis_url else MemoryLimits()
    )
    return Gateway(state, limits, Options(**cfg.options), reload, src.stamps, seed=cfg.seed)


def app_factory() -> Gateway:
    """uvicorn's factory in each worker process (options from ``ARCHIPEL_GATEWAY``)."""
    cfg = ServeConfig.from_env(os.environ[ENV])
    setup_logging(cfg.log_level)
    return build_app(cfg)


def serve(cfg: ServeConfig, host: str, port: int, workers: int) -> None:
    """Run uvicorn (uvloop, httptools) until interrupted."""
    import uvicorn

    setup_logging(cfg.log_level)
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": "warning",
        "lifespan": "on",
        "timeout_graceful_shutdown": 30,
    }
    if workers > 1:
        os.environ[ENV] = cfg.to_env()
        # one /metrics for all workers (gateway.metrics): set before the workers import
        # prometheus_client; a fresh directory, so no stale values of an earlier run
        with tempfile.TemporaryDirectory(prefix="archipel-metrics-") as folder:
            os.environ[MULTIPROC_ENV] = folder
            uvicorn.run(
                "archipel.gateway.serve:app_factory", factory=True, workers=workers, **common
            )
    else:
        uvicorn.run(build_app(cfg), **common)
