"""Plan JSON files: the only file I/O of the reports.

``save_plan`` writes a plan as indented JSON (atomically: a reader never sees half a file);
``load_plan`` reads one back and raises :class:`~archipel.errors.PlanFileError` with the file,
what is wrong and where — the line and column of bad JSON, or the field path of every value
that does not match the plan model (``allocations[3].nodes``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from archipel.errors import PlanFileError
from archipel.plan.result import Plan

MAX_LISTED_ERRORS = 10
_FIX = (
    "To fix: write the file again with `archipel plan SPEC --out PLAN.json`, or repair it by hand."
)


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the whole file)"


def _validation_message(path: Path, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    n = len(errors)
    lines = [f"{path}: {n} value{'s' if n != 1 else ''} do not match the plan model:"]
    for e in errors[:MAX_LISTED_ERRORS]:
        got = (
            ""
            if e["type"] == "missing"
            else f" (got {json.dumps(e.get('input'), default=str)[:60]})"
        )
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
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{p}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}. {_FIX}"
        ) from None
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(_validation_message(p, exc)) from None


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write ``plan`` to ``path`` as indented JSON, replacing any file there in one step."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        tmp.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PlanFileError(f"{p}: cannot be written: {exc.strerror or exc}.") from exc
