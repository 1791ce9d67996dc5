"""The gateway's endpoints file (version 1): one base URL per deployment of a plan period.

The contract shared with ``archipel gateway serve --endpoints`` (docs/cli.md, "archipel
export")::

    version: 1
    plan: sha256:…          # the plan these endpoints were written for (optional)
    period: 3               # the plan period they serve (optional)
    endpoints:
      - deployment: "chat/nebius:eu-north1/nebius:eu-north1:…:on_demand"  # DeploymentTable.key
        url: "http://chat-0.archipel.svc:8000"   # an OpenAI-compatible server's base URL
        model: "llama-3.1-70b"                   # optional: the model name it expects
        api_key_env: "NEBIUS_KEY"                # optional: env var with its bearer token

URLs come from a template (``--endpoint-template``) with the fields of :data:`FIELDS`; the
default names the Kubernetes ``Service`` the export writes for the deployment.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from archipel.errors import UserError

DEFAULT_TEMPLATE = "http://{service}-{index}.archipel.svc:8000"
FIELDS: dict[str, str] = {
    "service": "the service id as a DNS label (lower case, '-')",
    "index": "the deployment's index in the period's deployment table (0, 1, …)",
    "name": "the exported object's name, {service}-{index}",
    "provider": "the provider id (aws, nebius, …)",
    "region": "the region code without the provider (eu-north1)",
    "namespace": "the Kubernetes namespace of the manifests (archipel)",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    deployment: str  # "service/region/offering_id"
    fields: dict[str, str]  # values for the template's fields
    model: str


def check_template(template: str) -> None:
    """A UserError unless ``template`` is an http(s) URL template using only :data:`FIELDS`."""
    known = ", ".join("{" + f + "}" for f in FIELDS)
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise UserError(
            f"--endpoint-template {template!r}: {exc}; write fields as {{name}} (known: {known})"
        ) from None
    for name in names:
        if name not in FIELDS:
            raise UserError(
                f"--endpoint-template {template!r}: unknown field {{{name}}}; known: {known}"
            )
    if not template.startswith(("http://", "https://")):
        raise UserError(
            f"--endpoint-template {template!r}: a URL must start with http:// or https://, "
            f"e.g. {DEFAULT_TEMPLATE}"
        )


def document(
    endpoints: list[Endpoint], template: str, *, plan: str | None, period: int | None
) -> dict[str, Any]:
    """The endpoints file as YAML-ready data (``template`` already checked)."""
    doc: dict[str, Any] = {"version": 1}
    if plan is not None:
        doc["plan"] = plan
    if period is not None:
        doc["period"] = period
    doc["endpoints"] = [
        {"deployment": e.deployment, "url": template.format(**e.fields), "model": e.model}
        for e in endpoints
    ]
    return doc
