"""The gateway's errors, under Archipel's tree (:mod:`archipel.errors`):

    UserError
    └── GatewayConfigError   ARC-GATEWAY   an endpoints or keys file is wrong (``issues`` lists all)

Runtime failures of upstreams are not exceptions that leave the gateway: they are typed
outcomes (:class:`archipel.gateway.upstream.Outcome`) the request loop acts on.
"""

from __future__ import annotations

from collections.abc import Sequence

from archipel.errors import Issue, UserError


class GatewayConfigError(UserError):
    """An endpoints or keys file has problems; ``issues`` holds each with its file:line."""

    code = "ARC-GATEWAY"

    def __init__(self, what: str, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in the {what}"
        super().__init__("\n".join([head, *(str(i) for i in self.issues)]))
