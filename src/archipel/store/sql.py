"""Opening a store: the engine for a database URL, and its migrations (alembic, shipped here).

- ``sqlite:///path.db`` (the default): WAL journal, ``synchronous=FULL`` (a committed
  transaction is on disk before the commit returns, so a killed process loses nothing it
  acknowledged), foreign keys on, and every transaction begun with ``BEGIN IMMEDIATE`` so
  writers queue on the database lock instead of failing half-way with "database is locked".
- ``postgresql://…`` is driven by psycopg 3 (``postgresql+psycopg://``); a ``?options=
  -csearch_path%3Dname`` query selects a schema (what the tests use for a fresh schema).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from archipel.errors import UserError

BUSY_TIMEOUT_MS = 30_000


class StoreError(UserError):
    """A database URL that cannot be opened or migrated."""

    code = "ARC-STORE"


def normalise_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://``; a bare path → ``sqlite:///path``."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see the module docstring); raises StoreError for a bad URL."""
    full = normalise_url(url)
    try:
        parsed = make_url(full)
    except ArgumentError as exc:
        raise StoreError(
            f"cannot read the database URL {url!r}: {exc}. To fix: give a file path, "
            "sqlite:///path.db or postgresql://user@host:5432/db."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            full, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(full, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise StoreError(
        f"the database {parsed.get_backend_name()!r} is not supported; use SQLite "
        "(a file path or sqlite:///path.db) or PostgreSQL (postgresql://…)"
    )


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("archipel.store").joinpath("migrations"))
    )
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (alembic ``upgrade head``)."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise StoreError(
            f"cannot open or migrate the database at {engine.url!r}: {exc.orig}. To fix: "
            "check the URL, that the server runs and that the user may create tables."
        ) from exc
