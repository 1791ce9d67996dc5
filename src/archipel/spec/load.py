"""Read a spec file: YAML text → :class:`~archipel.spec.models.Spec`, errors at ``file:line:col``.

:mod:`archipel.spec.yaml_reader` reads the YAML into plain values and records where each one
sits (refusing hostile input with a position). Pydantic validation errors are then mapped back to
those positions and rewritten in plain English (:mod:`archipel.spec.messages`). Every problem is
reported at once as one :class:`~archipel.errors.SpecError`; nothing here lets a traceback
through for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from archipel.errors import Issue, SpecError, UserError
from archipel.spec.messages import describe_error
from archipel.spec.models import Spec
from archipel.spec.yaml_reader import (
    Document,
    Position,
    SourceMap,
    YamlPath,
    format_path,
    read_document,
)

__all__ = [
    "Document",
    "Position",
    "SourceMap",
    "YamlPath",
    "build_spec",
    "by_position",
    "format_path",
    "load_spec",
    "load_spec_with_positions",
    "parse_spec",
    "parse_spec_with_positions",
    "read_document",
    "read_text",
    "salvage",
    "set_aside_ids",
    "validation_issues",
]

MAX_SPEC_BYTES = 64 * 1024 * 1024
"""Largest spec file read (64 MiB); real specs are a few kilobytes to a few megabytes."""


def validation_issues(exc: ValidationError, doc: Document) -> list[Issue]:
    """Each pydantic error of ``exc`` as an :class:`Issue` at its place in the YAML source."""
    out = []
    for err in exc.errors():
        d = describe_error(err, doc.data)
        if d.at in doc.unreadable:
            continue  # already reported as unreadable
        out.append(doc.source.issue(d.path, d.message, d.hint, key=d.at_key, at=d.at))
    return out


def by_position(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in file order (then by path), without exact duplicates."""
    return sorted(set(issues), key=lambda i: (i.file, i.line, i.column, i.path, i.message))


def _booleans_read_as_numbers(raw: Any, value: Any, path: YamlPath) -> Iterator[YamlPath]:
    """Paths where the YAML has true/false but the validated spec a number (pydantic reads
    ``lat: true`` as 1.0): walks the raw data and the spec side by side."""
    if isinstance(raw, bool):
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield path
    elif isinstance(raw, dict) and isinstance(value, BaseModel | dict):
        for key, item in raw.items():
            if isinstance(value, dict) and key in value:
                yield from _booleans_read_as_numbers(item, value[key], (*path, key))
            elif isinstance(value, BaseModel) and key in type(value).model_fields:
                yield from _booleans_read_as_numbers(item, getattr(value, key), (*path, key))
    elif isinstance(raw, list) and isinstance(value, list) and len(raw) == len(value):
        for i, (item, v) in enumerate(zip(raw, value, strict=True)):
            yield from _booleans_read_as_numbers(item, v, (*path, i))


def build_spec(doc: Document) -> tuple[Spec | None, list[Issue], list[ErrorDetails]]:
    """Validate a document: the spec (None if it does not validate), issues, raw errors.

    A number written as true/false is an issue here (pydantic would read it as 1 or 0)."""
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        return None, [*doc.issues, *validation_issues(exc, doc)], list(exc.errors())
    issues = list(doc.issues)
    for path in _booleans_read_as_numbers(doc.data, spec, ()):
        got = "true" if _at(doc.data, path) else "false"
        issues.append(
            doc.source.issue(
                path,
                f"expected a number, got {got}",
                "write a number; YAML reads unquoted yes/no/on/off/true/false as booleans",
            )
        )
    return spec, issues, []


def _at(data: Any, path: YamlPath) -> Any:
    """The value at ``path`` inside plain YAML data."""
    for part in path:
        data = data[part]
    return data


def parse_spec_with_positions(text: str, filename: str) -> tuple[Spec, SourceMap]:
    """Parse spec text; raise one :class:`SpecError` listing every problem, in file order."""
    doc = read_document(text, filename)
    spec, issues, _ = build_spec(doc)
    if issues or spec is None:
        raise SpecError(by_position(issues))
    return spec, doc.source


def parse_spec(text: str, filename: str = "<spec>") -> Spec:
    """Parse spec text (``filename`` is only used in messages)."""
    return parse_spec_with_positions(text, filename)[0]


def read_text(path: str | Path) -> str:
    """A spec file's text; a missing, unreadable or non-UTF-8 file is a :class:`UserError`."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"spec file not found: {p} — check the path (it is read as given)")
    if not p.is_file():
        raise UserError(f"not a file: {p} — give the path of a .yaml spec file")
    size = p.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise UserError(
            f"spec file {p} is {size / 2**20:,.0f} MiB; the limit is {MAX_SPEC_BYTES // 2**20} "
            "MiB — is this the right file? (a spec is a few kilobytes)"
        )
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise SpecError(
            [Issue(str(p), line, 1, "", "the file is not UTF-8 text", "save it as UTF-8")]
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read spec file {p}: {exc.strerror}") from None


def load_spec_with_positions(path: str | Path) -> tuple[Spec, SourceMap]:
    """Load a spec file and where each of its values sits (for later semantic checks)."""
    return parse_spec_with_positions(read_text(path), str(path))


def load_spec(path: str | Path) -> Spec:
    """Load and validate the models of a spec file (see :func:`archipel.spec.check.validate_file`
    for the checks against the catalog)."""
    return load_spec_with_positions(path)[0]


def salvage(doc: Document, errors: list[ErrorDetails]) -> tuple[Spec, SourceMap] | None:
    """The spec without its invalid list items, to check the rest; None when impossible.

    Items of top-level lists (``services[3]``…) with validation errors are set aside, and
    invalid optional top-level fields fall back to their defaults. The returned source map
    renumbers the shortened lists back to the file's indices.
    """
    if not isinstance(doc.data, dict):
        return None
    bad_items: dict[str, set[int]] = {}
    bad_fields: set[str] = set()
    for err in errors:
        loc = err["loc"]
        if not loc or loc[0] == "horizon":
            return None
        if len(loc) >= 2 and isinstance(loc[1], int):
            bad_items.setdefault(str(loc[0]), set()).add(loc[1])
        else:
            bad_fields.add(str(loc[0]))
    data = {k: v for k, v in doc.data.items() if k not in bad_fields}
    renumber: dict[str, tuple[int, ...]] = {}
    for name, bad in bad_items.items():
        kept = tuple(i for i in range(len(data[name])) if i not in bad)
        data[name] = [data[name][i] for i in kept]
        renumber[name] = kept
    try:
        spec = Spec.model_validate(data)
    except ValidationError:
        return None
    src = doc.source
    return spec, SourceMap(src.file, src.values, src.keys, renumber)


def set_aside_ids(doc: Document, errors: list[ErrorDetails]) -> dict[str, frozenset[str]]:
    """Per top-level list, the ids of items :func:`salvage` set aside (references to them
    are not reported as unknown)."""
    out: dict[str, set[str]] = {}
    data = doc.data if isinstance(doc.data, dict) else {}
    for err in errors:
        loc = err["loc"]
        if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data.get(loc[0]), list):
            item = data[loc[0]][loc[1]]
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                out.setdefault(str(loc[0]), set()).add(item["id"])
    return {k: frozenset(v) for k, v in out.items()}
