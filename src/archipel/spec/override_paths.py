"""The PATH language of ``archipel whatif``: where in a spec's YAML data a change applies.

A PATH is dotted keys, list items selected in brackets: ``contracts[aws-2025].discount_pct``,
``services[0].demand.growth_pct_per_year``, ``rules[residency]``. A selector is an index (from
0), ``field=value`` (``offerings[instance_type=t1-node]``), or a name: the item whose ``id`` or
``name`` it is, else the one item of that ``kind`` (for rules written without an ``id``).
Brackets on a mapping
select a key (``by_geography["eu.west"]``).

:func:`resolve` follows a PATH through plain spec data, typed by the spec models, so a key
that is not written can still be set when the model has that field (or the mapping is keyed by
names); anything else that is not there raises :class:`~archipel.errors.UserError` listing what
is there, with a "did you mean". :mod:`archipel.spec.overrides` applies the changes.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from archipel.catalog.model import suggest
from archipel.errors import UserError
from archipel.spec.models import Spec
from archipel.spec.yaml_reader import YamlPath

MAX_LISTED = 12
"""At most this many names are listed in an 'unknown' message."""
_KEY = re.compile(r"[^.\[\]\"'=\s]+")
_SELECTOR = re.compile(r"\[(?:\"([^\"]*)\"|'([^']*)'|([^\]\"']*))\]")
_INDEX = re.compile(r"\d+")
EXAMPLE = "write dotted keys, list items in brackets: contracts[aws-2025].discount_pct=12"


@dataclass(frozen=True, slots=True)
class Key:
    """A mapping key written after a dot (or first)."""

    name: str


@dataclass(frozen=True, slots=True)
class Select:
    """What is between brackets: an index, ``field=value``, a name, or (quoted) a key."""

    text: str
    quoted: bool = False


Step = Key | Select


def _bad_path(origin: str, text: str, at: int, why: str) -> UserError:
    shown = text[at : at + 20] or "the end"
    return UserError(
        f"{origin}: cannot read the path at character {at + 1} ({shown!r}): {why} — {EXAMPLE}"
    )


def parse_path(text: str, origin: str) -> tuple[Step, ...]:
    """The steps of a PATH; a malformed one raises :class:`UserError` headed by ``origin``."""
    steps: list[Step] = []
    at = 0
    while at < len(text):
        if text[at] == "[":
            m = _SELECTOR.match(text, at)
            if m is None:
                raise _bad_path(origin, text, at, "a '[' without its ']'")
            quoted = m.group(3) is None
            inner = m.group(1) if m.group(1) is not None else m.group(2) or m.group(3) or ""
            if not inner.strip():
                raise _bad_path(origin, text, at, "empty brackets")
            steps.append(Select(inner if quoted else inner.strip(), quoted))
            at = m.end()
            continue
        if steps:
            if text[at] != ".":
                raise _bad_path(origin, text, at, "expected '.' or '[' after a key or ']'")
            at += 1
        m = _KEY.match(text, at)
        if m is None:
            raise _bad_path(origin, text, at, "expected a key")
        steps.append(Key(m.group(0)))
        at = m.end()
    if not steps:
        raise UserError(f"{origin}: the path is empty — {EXAMPLE}")
    return tuple(steps)


# --------------------------------------------------------------------------- the shape of the spec

_NOT_A_FIELD = object()


def _strip(tp: Any) -> Any:
    """``tp`` without ``Annotated`` wrappers, and without ``None`` in ``X | None``."""
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            tp = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _shape(tp: Any, data: Any) -> Any:
    """The type of ``data`` at a place typed ``tp``: a union of variants resolved by the data's
    ``kind``; None when not known."""
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        kind = data.get("kind") if isinstance(data, dict) else None
        for member in map(_strip, get_args(tp)):
            field = member.model_fields.get("kind") if _is_model(member) else None
            if field is not None and kind in get_args(field.annotation):
                return member
        return None
    return tp


def _child(tp: Any, key: str | int) -> Any:
    """The type under ``key`` of a place of type ``tp`` (already resolved by :func:`_shape`):
    :data:`_NOT_A_FIELD` when a model has no such field, None when not known."""
    if _is_model(tp):
        info = tp.model_fields.get(str(key))
        return _NOT_A_FIELD if info is None else info.annotation
    if get_origin(tp) is dict:
        return get_args(tp)[1]
    if get_origin(tp) is list:
        return get_args(tp)[0]
    return None


# --------------------------------------------------------------------------- resolving a path


def names_listed(items: Iterable[str]) -> str:
    shown = list(items)
    more = len(shown) - MAX_LISTED
    return ", ".join(shown[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    near = suggest(name, known, n=2)
    return f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""


def written_path(steps: Sequence[Step]) -> str:
    """Steps as the user writes them."""
    out = ""
    for s in steps:
        if isinstance(s, Key):
            out += f".{s.name}" if out else s.name
        else:
            out += f'["{s.text}"]' if s.quoted else f"[{s.text}]"
    return out or "the top level"


def _label(item: Any, i: int) -> str:
    if isinstance(item, dict):
        for field in ("id", "name", "kind"):
            if isinstance(item.get(field), str | int) and not isinstance(item.get(field), bool):
                return str(item[field])
    return f"#{i}"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _select(items: list[Any], sel: Select, where: str, origin: str) -> int:
    """The index of the item ``sel`` names in the list at ``where``."""
    n = len(items)
    span = f"0–{n - 1}" if n else "none: the list is empty"
    labels = [_label(x, i) for i, x in enumerate(items)]
    listing = (
        f"items: {names_listed(f'[{i}] {lab}' for i, lab in enumerate(labels))}" if n else span
    )
    if not sel.quoted and _INDEX.fullmatch(sel.text):
        i = int(sel.text)
        if i < n:
            return i
        raise UserError(f"{origin}: {where} has {n} item(s), no [{i}] (indices {span}) — {listing}")
    if "=" in sel.text and not sel.quoted:
        field, want = (p.strip() for p in sel.text.split("=", 1))
        hits = [
            i for i, x in enumerate(items) if isinstance(x, dict) and _as_text(x.get(field)) == want
        ]
        what = f"with {field} = {want!r}"
    else:
        hits = [
            i
            for i, x in enumerate(items)
            if isinstance(x, dict) and sel.text in (x.get("id"), x.get("name"))
        ]
        if not hits:
            hits = [
                i for i, x in enumerate(items) if isinstance(x, dict) and x.get("kind") == sel.text
            ]
        what = f"'{sel.text}' (by id, name or kind)"
    if len(hits) == 1:
        return hits[0]
    if hits:
        each = " or ".join(f"{where}[{i}]" for i in hits)
        raise UserError(f"{origin}: {where} has {len(hits)} items {what}: say which, {each}")
    near = did_you_mean(sel.text, labels)
    raise UserError(f"{origin}: {where} has no item {what} — {near}{listing}")


def _unknown_key(node: dict[str, Any], shape: Any, name: str, where: str, origin: str) -> UserError:
    written = list(node)
    allowed = [f for f in shape.model_fields if f not in node] if _is_model(shape) else []
    known = [*written, *allowed]
    parts = [f"written here: {names_listed(written)}" if written else "nothing is written here"]
    if allowed:
        parts.append(f"also allowed: {names_listed(allowed)}")
    what = "field" if _is_model(shape) else "key"
    return UserError(
        f"{origin}: {where} has no {what} '{name}' — {did_you_mean(name, known)}{'; '.join(parts)}"
    )


@dataclass(frozen=True, slots=True)
class Place:
    """Where a path leads: its concrete path, the container holding its last part, the last
    part (a key or an index) and whether a value is there."""

    path: YamlPath
    parent: dict[str, Any] | list[Any]
    last: str | int
    exists: bool


def resolve(data: Any, steps: Sequence[Step], origin: str, *, may_add: bool) -> Place:
    """Follow ``steps`` through ``data`` (typed by :class:`Spec`); ``may_add`` lets the last
    key be a field or mapping key not written yet."""
    node, tp = data, Spec
    path: YamlPath = ()
    for n, step in enumerate(steps):
        shape, where = _shape(tp, node), written_path(steps[:n])
        last = n == len(steps) - 1
        if isinstance(node, dict):
            name = step.name if isinstance(step, Key) else step.text
            child = _child(shape, name)
            if name not in node:
                addable = child is not _NOT_A_FIELD and (
                    _is_model(shape) or get_origin(shape) is dict
                )
                if last and may_add and addable:
                    return Place((*path, name), node, name, exists=False)
                if addable:
                    raise UserError(
                        f"{origin}: {where} has no '{name}' written, so nothing under it can be "
                        f"changed — set it whole: --set {written_path(steps[: n + 1])}=VALUE"
                    )
                raise _unknown_key(node, shape, name, where, origin)
            key: str | int = name
        elif isinstance(node, list):
            if isinstance(step, Key):
                labels = [_label(x, i) for i, x in enumerate(node)]
                raise UserError(
                    f"{origin}: {where} is a list — select an item: {where}[INDEX], "
                    f"{where}[ID] or {where}[FIELD=VALUE]; items: {names_listed(labels) or 'none'}"
                )
            key = _select(node, step, where, origin)
            child = _child(shape, key)
        else:
            shown = "null" if node is None else repr(node) if isinstance(node, str) else node
            raise UserError(
                f"{origin}: {where} is a single value ({shown}), not a mapping or a list: "
                f"nothing is under it — change it whole: --set {where}=VALUE"
            )
        if last:
            return Place((*path, key), node, key, exists=True)
        node, tp, path = node[key], child, (*path, key)
    raise UserError(f"{origin}: the path is empty — {EXAMPLE}")  # parse_path refuses it first


def read_path(data: Any, path: str) -> Any:
    """The value at ``path`` (the PATH syntax of ``--set``) in plain spec data."""
    place = resolve(data, parse_path(path, path), path, may_add=False)
    return place.parent[place.last]  # type: ignore[index]
