"""Plan JSON files: the only file I/O of the reports.

``save_plan`` writes a plan as indented JSON (atomically: a reader never sees half a file);
``load_plan`` reads one back and raises :class:`~archipel.errors.PlanFileError` with the file,
what is wrong and where — the line and column of bad JSON, or the field path of every value
that does not match the plan model (``allocations[3].nodes``).

A tampered file never gets past the loader as a traceback nor as a number that is not one:
NaN, ``Infinity`` and numbers too large for a float (``1e999``) are refused wherever they are,
with their field path; so are texts holding control characters (an ESC sequence in a workload
name would reach the terminal through ``verify``, ``diff`` and ``show``), integers of thousands
of digits, and nesting too deep to parse (a plan is four levels deep; a deep value where the
plan has a number or a text is a validation error like any other). Whether the numbers make
sense (negative nodes, a bound above the objective) is the verifier's question, not the
loader's.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from archipel.errors import PlanFileError
from archipel.plan.result import Plan

MAX_LISTED_ERRORS = 10
_FIX = (
    "To fix: write the file again with `archipel plan SPEC --out PLAN.json`, or repair it by hand."
)


# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; and the
# bidirectional overrides and isolates. Written into a plan file, they reach the terminal
# through verify, diff and show (an ESC can rewrite what the screen says).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``allocations[3].nodes``; control characters in keys are shown as ``\\u001b``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", part)
            out += f".{text}" if out else text
    return out or "(the whole file)"


class _NonFinite(float):
    """A number the JSON wrote as NaN, Infinity or too large for a float; keeps its text."""

    text: str

    def __new__(cls, text: str) -> _NonFinite:
        number = super().__new__(cls, float(text))
        number.text = text
        return number


class _RefusedAt(Exception):
    """The first value of a plan file the loader refuses, its field path and why."""

    def __init__(self, path: tuple[int | str, ...], why: str) -> None:
        super().__init__(why)
        self.path = path
        self.why = why


def _refused(value: Any) -> str | None:
    if isinstance(value, _NonFinite):
        shown = (
            value.text
            if len(value.text) <= 30
            else f"{value.text[:12]}…({len(value.text)} characters)"
        )
        return f"{shown} is not a finite number; every number of a plan is"
    if isinstance(value, str):
        bad = _CONTROL.search(value)
        if bad:
            return f"the text contains the control character U+{ord(bad[0]):04X}"
    return None


def _parse(text: str) -> Any:
    """JSON text → data; the first refused value (a non-finite number, a text with a control
    character), in file order, raises :class:`_RefusedAt` with its field path."""
    found: list[_NonFinite] = []

    def non_finite(number: str) -> float:
        found.append(_NonFinite(number))
        return found[-1]

    def parse_float(number: str) -> float:
        value = float(number)
        return value if math.isfinite(value) else non_finite(number)

    data = json.loads(text, parse_float=parse_float, parse_constant=non_finite)
    escaped = "\\u" in text or "\\b" in text or "\\f" in text or _CONTROL.search(text)
    if found or escaped:  # rare: walk the data to say where
        stack: list[tuple[tuple[int | str, ...], Any]] = [((), data)]
        while stack:
            path, value = stack.pop()
            why = _refused(value)
            if why is not None:
                raise _RefusedAt(path, why)
            if isinstance(value, dict):
                for k in value:
                    why = _refused(k)
                    if why is not None:
                        raise _RefusedAt((*path, k), why.replace("the text", "the key", 1))
                stack.extend(((*path, k), v) for k, v in reversed(value.items()))
            elif isinstance(value, list):
                stack.extend(((*path, k), v) for k, v in reversed(list(enumerate(value))))
    return data


def _short(value: Any) -> str:
    """A value as shown in a message: scalars as JSON, containers by their kind only."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        value = value[:60]
    return json.dumps(value, default=str)[:60]


def _validation_message(path: Path, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    n = len(errors)
    lines = [f"{path}: {n} value{'s' if n != 1 else ''} do not match the plan model:"]
    for e in errors[:MAX_LISTED_ERRORS]:
        got = "" if e["type"] == "missing" else f" (got {_short(e.get('input'))})"
        lines.append(f"  {_field_path(tuple(e['loc']))}: {e['msg']}{got}")
    if n > MAX_LISTED_ERRORS:
        lines.append(f"  … and {n - MAX_LISTED_ERRORS} more")
    lines.append(_FIX)
    return "\n".join(lines)


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """The plan stored at ``path``; PlanFileError says precisely why when it cannot be read."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PlanFileError(f"{p}: no such plan file. {_FIX}") from None
    except IsADirectoryError:
        raise PlanFileError(f"{p}: is a directory, not a plan file.") from None
    except OSError as exc:
        raise PlanFileError(f"{p}: cannot be read: {exc.strerror or exc}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFileError(
            f"{p}: not UTF-8 text (bad byte at offset {exc.start}); a plan file is JSON."
        ) from None
    try:
        data = _parse(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{p}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}. {_FIX}"
        ) from None
    except _RefusedAt as exc:
        raise PlanFileError(f"{p}: {_field_path(exc.path)}: {exc.why}. {_FIX}") from None
    except ValueError:  # an integer of thousands of digits
        raise PlanFileError(f"{p}: holds a number too long to read. {_FIX}") from None
    except RecursionError:
        raise PlanFileError(
            f"{p}: the data is nested far too deep for a plan file (a plan is four levels "
            f"deep). {_FIX}"
        ) from None
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(_validation_message(p, exc)) from None
    except RecursionError:
        raise PlanFileError(
            f"{p}: the data is nested far too deep for a plan file. {_FIX}"
        ) from None


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write ``plan`` to ``path`` as indented JSON, replacing any file there in one step."""
    p = Path(path)
    if not p.name or p.is_dir():
        raise PlanFileError(
            f"{p}: is a directory; give the plan a file name, e.g. {p / 'plan.json'}."
        )
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        tmp.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlanFileError(f"{p}: cannot be written: {exc.strerror or exc}.") from exc
