"""The spec language as a JSON Schema, for editors (completion and checks while typing).

Point an editor at it, e.g. with the YAML language server, by putting this first line in a spec::

    # yaml-language-server: $schema=./archipel-spec.schema.json

after ``archipel schema --out archipel-spec.schema.json``.
"""

from __future__ import annotations

from typing import Any

from archipel.spec.models import Spec

SCHEMA_ID = "https://archipel.dev/schema/spec-v1.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a spec file, generated from the pydantic models."""
    body = Spec.model_json_schema(mode="validation")
    head: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Archipel fleet spec",
    }
    body.pop("title", None)
    return {**head, **body}
