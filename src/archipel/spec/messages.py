"""Pydantic validation errors rewritten as plain English: what is wrong, where, how to fix.

:func:`describe_error` takes one entry of ``ValidationError.errors()`` and the data that was
validated, and returns the YAML path of the offending value (discriminator tags such as
``residency`` removed from pydantic's ``loc``), whether to point at the key rather than the value,
a message and a hint. The field names of the model at that place come from walking the spec
models' type annotations along the same ``loc``, so an unknown field gets a "did you mean".
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel

from archipel.catalog.model import suggest
from archipel.spec.models import Spec

Loc = tuple[str | int, ...]


def _strip_optional(tp: Any) -> Any:
    """Remove ``Annotated`` wrappers, and ``None`` from ``X | None``."""
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _kind_of(model: Any) -> str | None:
    if isinstance(model, type) and issubclass(model, BaseModel) and "kind" in model.model_fields:
        args = get_args(model.model_fields["kind"].annotation)
        return str(args[0]) if args else None
    return None


def _step(tp: Any, part: str | int) -> tuple[Any, bool]:
    """The type found at ``part`` inside ``tp``; the flag says ``part`` was a union tag."""
    tp = _strip_optional(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        for member in get_args(tp):
            if _kind_of(member) == part:
                return member, True
        return None, False
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(str(part))
        return (info.annotation if info else None), False
    if origin is list:
        return get_args(tp)[0], False
    if origin is dict:
        return get_args(tp)[1], False
    return None, False


def _walk(loc: Loc, data: Any) -> tuple[Loc, Any, Any, bool]:
    """Follow ``loc``: the YAML path, the type at its end, the type holding the last part,
    and whether the last part is a dictionary key ('[key]')."""
    path: list[str | int] = []
    tp: Any = Spec
    parent: Any = Spec
    value = data
    for part in loc:
        if part == "[key]":
            return tuple(path), tp, parent, True
        nxt, is_tag = _step(tp, part)
        if is_tag:
            tp = nxt
            continue
        parent, tp = _strip_optional(tp), nxt
        path.append(part)
        in_dict = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and part < len(value)
        value = value[part] if in_dict or in_list else None
    return tuple(path), tp, parent, False


MAX_SHOWN = 60
"""Longest value quoted in a message; longer ones are cut with '…'."""


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def show(value: Any) -> str:
    """A value as the user wrote it in YAML (at most :data:`MAX_SHOWN` characters)."""
    return _cut(_show(value))


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value[: MAX_SHOWN + 1])
    if isinstance(value, int) and abs(value) >= 10**MAX_SHOWN:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    return str(value)


def _field_names(model: Any) -> list[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _did_you_mean(name: str, known: list[str]) -> str:
    near = suggest(name, known, n=1)
    if near:
        return f"did you mean '{near[0]}'?"
    if known:
        return "allowed here: " + ", ".join(known)
    return "remove it"


def _quote_hint(value: Any) -> str:
    if isinstance(value, bool | int | float) or value is None:
        return (
            "put it in quotes: YAML reads unquoted yes/no/on/off/true/false as booleans "
            "and digits as numbers"
        )
    return "write a text value"


def _bound(kind: str, ctx: dict[str, Any]) -> str:
    sym = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}[kind]
    limit = ctx[kind]
    shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
    return f"must be {sym} {shown}"


def _missing(parent: Any, name: str) -> tuple[str, str]:
    desc = ""
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        info = parent.model_fields.get(name)
        text = info.description.rstrip(".") if info and info.description else ""
        desc = f" ({text[:1].lower()}{text[1:]})" if text else ""
    return f"missing required field '{name}'", f"add '{name}: …' here{desc}"


_NUMBER = {"float_type", "float_parsing", "decimal_parsing"}
_WHOLE = {"int_type", "int_parsing", "int_from_float"}
_DATE = {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}


def _simple(kind: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str] | None:
    """Messages that depend only on the error type and the value."""
    got = show(value)
    if kind in _NUMBER and isinstance(value, int) and not isinstance(value, bool):
        return f"the number is too large ({got})", "change the value to lie in the allowed range"
    if kind in _NUMBER:
        return f"expected a number, got {got}", "write a plain number such as 12 or 0.5"
    if kind in _WHOLE:
        fix = "drop the fractional part" if isinstance(value, float) else "write a whole number"
        return f"expected a whole number, got {got}", fix
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        key = {"greater_than_equal": "ge", "greater_than": "gt"}.get(kind) or (
            "le" if kind == "less_than_equal" else "lt"
        )
        return f"{_bound(key, ctx)}, got {got}", "change the value to lie in the allowed range"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", "write true or false"
    if kind in _DATE:
        return f"expected a date like 2027-01-01, got {got}", "write the date as YYYY-MM-DD"
    if kind == "string_type":
        return f"expected text, got {got}", _quote_hint(value)
    if kind in ("list_type", "tuple_type"):
        return (
            f"expected a list, got {got}",
            "write the items as '- item' lines below, or inline as [a, b]",
        )
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {got}", "write 'field: value' lines indented below"
    if kind == "string_pattern_mismatch":
        return (
            f"{got} is not a valid id",
            "use letters, digits, '_', '.' and '-' only, starting with a letter or digit",
        )
    if kind == "string_too_short":
        return f"must not be empty, got {got}", "write at least one character"
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return f"must be at most {n} characters, got {got}", "shorten it"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"must have at least {n} item{'s' if n != 1 else ''}", "add an item"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", got)), "fix the values so the condition holds"
    return None


class Described(NamedTuple):
    """A validation error in user terms. ``path`` is shown; the position is that of
    ``at`` (its key when ``at_key``), e.g. the unknown key itself inside ``path``'s mapping."""

    path: Loc
    at: Loc
    at_key: bool
    message: str
    hint: str


def describe_error(err: Any, data: Any) -> Described:
    """One entry of ``ValidationError.errors()`` → what to tell the user, and where."""
    path, at, at_key, message, hint = _describe(err, data)
    return Described(path, at, at_key, message, hint)


def _describe(err: Any, data: Any) -> tuple[Loc, Loc, bool, str, str]:
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    path, tp, parent, at_key = _walk(tuple(err["loc"]), data)
    if at_key:
        msg, hint = _simple(kind, value, ctx) or (err["msg"], "")
        return path, path, True, f"key {msg}", hint
    if kind == "missing":
        return (path[:-1], path[:-1], False, *_missing(parent, str(path[-1])))
    if kind == "extra_forbidden":
        name = str(path[-1])
        hint = _did_you_mean(name, _field_names(parent))
        return path[:-1], path, True, f"unknown field '{name}'", hint
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        if not tags or tags == [""]:
            tags = [k for k in (_kind_of(m) for m in get_args(_strip_optional(tp))) if k]
        allowed = ", ".join(tags)
        if kind == "union_tag_not_found":
            return path, path, False, "missing 'kind'", f"add 'kind:' with one of: {allowed}"
        tag = str(ctx.get("tag"))
        near = suggest(tag, tags, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        return path, path, False, f"unknown kind '{tag}'", f"{hint}allowed kinds: {allowed}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        allowed_raw = [a.strip(" '") for a in expected.split(",")]
        near = suggest(str(value), allowed_raw, n=1) if isinstance(value, str) else []
        hint = f"did you mean '{near[0]}'? " if near else ""
        return (
            path,
            path,
            False,
            f"expected one of {ctx.get('expected')}, got {show(value)}",
            f"{hint}use one of: {', '.join(allowed_raw)}",
        )
    simple = _simple(kind, value, ctx)
    if simple is not None:
        return (path, path, False, *simple)
    msg = str(err["msg"])
    return path, path, False, msg[:1].lower() + msg[1:], ""
