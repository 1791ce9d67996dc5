"""The gateway's two input files, read with file:line errors (docs/cli.md, "gateway").

**Endpoints** (version 1; written by ``archipel export``, read here): one entry per planned
deployment, ``deployment`` = ``DeploymentTable.key[d]`` (``"service/region/offering_id"``), the
base ``url`` of an OpenAI-compatible server (the gateway appends ``/v1/...``), optionally the
``model`` name the upstream expects (default: the service) and ``api_key_env``, the environment
variable holding the upstream's bearer token. An unknown deployment key is an error at its line
(with the nearest known key); a planned deployment without an endpoint is listed and treated as
down.

**Keys** (version 1): tenants, each with an optional ``data_class`` (residency: its requests go
only where ``table.allowed`` lets that class go), the ``services`` it may call (default: all), a
default ``geography``, rate limits (``requests_per_minute``, ``tokens_per_minute``, 0 = none) and
a ``budget_usd`` (none = unlimited); and API keys stored as SHA-256 hashes
(``archipel gateway hash-key``), never the keys themselves. A key may carry limits of its own
(the same three fields): a request is admitted when it fits the key's and its tenant's, and
counts toward both. A key with limits needs a ``name`` unique within its tenant (logs, metrics
and refusals name it as ``tenant/name``).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from archipel.errors import Issue, SpecError
from archipel.gateway.errors import GatewayConfigError
from archipel.spec.load import validation_issues
from archipel.spec.yaml_reader import Document, read_document

MAX_FILE_BYTES = 16 * 1024 * 1024


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Endpoint(_Frozen):
    deployment: str = Field(min_length=1, max_length=1000)
    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=2000)
    model: str | None = Field(None, min_length=1, max_length=500)
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class EndpointsFile(_Frozen):
    version: Literal[1]
    plan: str | None = None
    period: int | None = Field(None, ge=0, le=100_000)
    endpoints: list[Endpoint] = Field(min_length=1, max_length=100_000)


class Tenant(_Frozen):
    id: str = Field(min_length=1, max_length=200)
    data_class: str | None = None
    services: list[str] | None = None
    geography: str | None = None
    requests_per_minute: int = Field(0, ge=0, le=10**9)
    tokens_per_minute: int = Field(0, ge=0, le=10**12)
    budget_usd: float | None = Field(None, ge=0, le=1e12)


class Key(_Frozen):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    tenant: str
    name: str = Field("", max_length=200)
    requests_per_minute: int = Field(0, ge=0, le=10**9)
    tokens_per_minute: int = Field(0, ge=0, le=10**12)
    budget_usd: float | None = Field(None, ge=0, le=1e12)

    @property
    def limited(self) -> bool:
        return bool(self.requests_per_minute or self.tokens_per_minute) or (
            self.budget_usd is not None
        )


NANO = 1_000_000_000  # money is integer nano-USD throughout the gateway


@dataclass(frozen=True, slots=True)
class Quota:
    """One set of limits a request counts toward: its tenant's, or its key's."""

    id: str  # "tenant" or "tenant/key"; the state's name in memory and in Redis
    scope: str  # "tenant" | "key"
    requests_per_minute: int
    tokens_per_minute: int
    budget_nusd: int  # -1: no budget

    @staticmethod
    def of(scope: str, id: str, limits: Tenant | Key) -> Quota:
        b = limits.budget_usd
        return Quota(
            id,
            scope,
            limits.requests_per_minute,
            limits.tokens_per_minute,
            -1 if b is None else round(b * NANO),
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request: the key's tenant, the key's name and the quotas it counts toward
    (the key's first when it has limits, then the tenant's)."""

    tenant: Tenant
    key: str
    quotas: tuple[Quota, ...]


class KeysFile(_Frozen):
    version: Literal[1]
    tenants: list[Tenant] = Field(min_length=1, max_length=100_000)
    keys: list[Key] = Field(min_length=1, max_length=1_000_000)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest a keys file stores for the API key ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


def _read(path: Path, what: str) -> Document:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GatewayConfigError(
                what, [Issue(str(path), 1, 1, "", f"the file is {size} bytes, over 16 MiB")]
            )
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GatewayConfigError(what, [Issue(str(path), 1, 1, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GatewayConfigError(
            what, [Issue(str(path), 1, 1, "", f"cannot read: {exc}")]
        ) from None
    try:
        return read_document(text, str(path))
    except SpecError as exc:
        raise GatewayConfigError(what, exc.issues) from None


def _validate(model: type[BaseModel], doc: Document, what: str) -> Any:
    if doc.issues:
        raise GatewayConfigError(what, doc.issues)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise GatewayConfigError(what, validation_issues(exc, doc)) from None


@dataclass(frozen=True)
class Endpoints:
    """The endpoints file checked against a table's deployment keys."""

    file: EndpointsFile
    by_key: dict[str, Endpoint]
    missing: tuple[str, ...]  # planned deployments without an endpoint (treated as down)


def load_endpoints(path: str | Path, keys: Sequence[str] | None = None) -> Endpoints:
    """Read the endpoints file; with ``keys`` (the table's), unknown deployments are errors at
    their line and deployments without an endpoint are listed in ``missing``."""
    p = Path(path)
    what = "endpoints file"
    doc = _read(p, what)
    parsed: EndpointsFile = _validate(EndpointsFile, doc, what)
    issues: list[Issue] = []
    by_key: dict[str, Endpoint] = {}
    for i, ep in enumerate(parsed.endpoints):
        at = ("endpoints", i, "deployment")
        if keys is not None and ep.deployment not in keys:
            near = difflib.get_close_matches(ep.deployment, list(keys), n=1, cutoff=0.5)
            hint = f"did you mean {near[0]!r}?" if near else "see the plan's deployments"
            issues.append(
                doc.source.issue(
                    at, f"unknown deployment {ep.deployment!r} in this plan period", hint
                )
            )
        elif ep.deployment in by_key:
            issues.append(doc.source.issue(at, f"deployment {ep.deployment!r} listed twice"))
        by_key[ep.deployment] = ep
    if issues:
        raise GatewayConfigError(what, issues)
    missing = tuple(k for k in keys or () if k not in by_key)
    return Endpoints(parsed, by_key, missing)


def read_endpoints_period(path: str | Path) -> int | None:
    """Only the ``period`` an endpoints file names (to choose the table before checking keys)."""
    p = Path(path)
    parsed: EndpointsFile = _validate(EndpointsFile, _read(p, "endpoints file"), "endpoints file")
    return parsed.period


@dataclass(frozen=True)
class Keys:
    file: KeysFile
    tenants: dict[str, Tenant]
    caller_of_hash: dict[str, Caller]


def load_keys(
    path: str | Path,
    services: Sequence[str] | None = None,
    data_classes: Sequence[str] | None = None,
    geographies: Sequence[str] | None = None,
) -> Keys:
    """Read the keys file; names of services, data classes and geographies are checked against
    the table's when given (a typo in a data class would otherwise refuse every request)."""
    p = Path(path)
    what = "keys file"
    doc = _read(p, what)
    parsed: KeysFile = _validate(KeysFile, doc, what)
    issues: list[Issue] = []

    def check(
        value: str | None, known: Sequence[str] | None, at: tuple[Any, ...], kind: str
    ) -> None:
        if value is None or known is None or value in known:
            return
        near = difflib.get_close_matches(value, list(known), n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(known) or 'none'}"
        issues.append(doc.source.issue(at, f"unknown {kind} {value!r}", hint))

    tenants: dict[str, Tenant] = {}
    for i, t in enumerate(parsed.tenants):
        if t.id in tenants:
            issues.append(doc.source.issue(("tenants", i, "id"), f"tenant {t.id!r} listed twice"))
        tenants[t.id] = t
        check(t.data_class, data_classes, ("tenants", i, "data_class"), "data class")
        check(t.geography, geographies, ("tenants", i, "geography"), "geography")
        for j, s in enumerate(t.services or ()):
            check(s, services, ("tenants", i, "services", j), "service")
    by_hash: dict[str, Caller] = {}
    names: set[tuple[str, str]] = set()
    for i, k in enumerate(parsed.keys):
        if k.tenant not in tenants:
            check(k.tenant, list(tenants), ("keys", i, "tenant"), "tenant")
            continue
        if k.sha256 in by_hash:
            issues.append(doc.source.issue(("keys", i, "sha256"), "this key hash is listed twice"))
        t = tenants[k.tenant]
        own = Quota.of("tenant", t.id, t)
        if k.limited and not k.name:
            issues.append(
                doc.source.issue(
                    ("keys", i),
                    "a key with limits of its own needs a name",
                    "add name: (unique within the tenant; refusals and metrics use it)",
                )
            )
        elif k.name and (k.tenant, k.name) in names:
            issues.append(
                doc.source.issue(
                    ("keys", i, "name"), f"tenant {k.tenant!r} has two keys named {k.name!r}"
                )
            )
        names.add((k.tenant, k.name))
        kid = f"{t.id}/{k.name}" if k.name else t.id
        quotas = (Quota.of("key", kid, k), own) if k.limited else (own,)
        by_hash[k.sha256] = Caller(t, k.name, quotas)
    if issues:
        raise GatewayConfigError(what, issues)
    return Keys(parsed, tenants, by_hash)
