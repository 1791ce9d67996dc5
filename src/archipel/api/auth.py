"""API keys and roles. A key is ``ak_<id>_<secret>``; the store keeps only the secret's SHA-256
(keys are 192 random bits, so a fast hash is enough: nothing to brute-force).

Roles are ordered: ``viewer`` reads; ``planner`` also submits plans, attaches outlooks, asks for
review and records spend; ``approver`` also approves, rejects and applies; ``admin`` also
creates keys and checks the audit chain. The key travels as ``Authorization: Bearer KEY`` or,
for the dashboard, in an HttpOnly, SameSite=Strict cookie set by ``POST /api/session``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from archipel.store.repo import ROLES, Key, Store

COOKIE = "archipel_key"


def rank(role: str) -> int:
    return ROLES.index(role)


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def requires(role: str) -> Callable[[Request], Key]:
    """A FastAPI dependency: the caller's key, which must hold ``role`` or a higher one."""

    def dependency(request: Request) -> Key:
        store: Store = request.app.state.store
        token = token_of(request)
        key = store.key_for(token) if token else None
        if key is None:
            raise HTTPException(
                401,
                "no valid API key: send `Authorization: Bearer KEY` (`archipel server` printed "
                "the admin key when it first started)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if rank(key.role) < rank(role):
            raise HTTPException(
                403, f"this needs the {role} role; the key {key.name} is {key.role}"
            )
        return key

    return dependency
