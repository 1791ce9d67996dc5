"""Fuzzing plan files: a tampered plan loads as a plan or raises PlanFileError, nothing else.

The base is a real plan (tests/corpus/plans/small-plan.json, written by ``archipel plan
examples/small.yaml --out``). Hypothesis deletes fields, replaces values by other types,
non-finite or huge numbers, long or control-character texts, deep nesting, and cuts or
corrupts the text. A loaded plan holds only finite numbers; whether they make sense is for the
verifier. Derandomized and bounded: the run is the same each time and takes about a second.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archipel.errors import PlanFileError
from archipel.plan.result import Plan
from archipel.report.planfile import load_plan

BASE_TEXT = (
    Path(__file__).resolve().parents[1] / "corpus" / "plans" / "small-plan.json"
).read_text(encoding="utf-8")
BASE = json.loads(BASE_TEXT)

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out: list[tuple[str | int, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for k, v in items:
        out.append((*prefix, k))
        if len(prefix) < 6:  # not into the deep values a mutation put there
            out.extend(paths(v, (*prefix, k)))
    return out


def deep(n: int) -> Any:
    value: Any = 0
    for _ in range(n):
        value = [value]
    return value


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**30, -(10**30), 2**64, 1e308, -1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["x" * 50_000, "a\x1b[2Jb", "\u202e", "\x00", "\ud800"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.floats(), max_size=2),
    st.integers(min_value=50, max_value=3000).map(deep),
)


def dump(data: Any) -> str:
    try:
        return json.dumps(data, indent=1)
    except (RecursionError, ValueError):
        return "{"


@st.composite
def tampered(draw: st.DrawFn) -> bytes:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        where = paths(data)
        if not where:
            break
        path = draw(st.sampled_from(where))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(VALUES)
    text = dump(data)
    how = draw(st.sampled_from(["as is", "cut", "byte", "big number"]))
    if how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "big number":
        text = text.replace("4", "4" * draw(st.sampled_from([400, 5000])), 1)
    raw = text.encode("utf-8", "surrogatepass")
    if how == "byte":
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b"\xff", b"\x00", b"\x1b", b"\\", b'"'])) + raw[i:]
    return raw


def finite_numbers(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return True


@FUZZ
@given(tampered())
def test_a_tampered_plan_loads_or_raises_a_plan_file_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        path.write_bytes(raw)
        try:
            plan = load_plan(path)
        except PlanFileError as exc:
            assert str(exc).startswith(str(path))
            assert len(str(exc)) < 5_000
            return
    assert isinstance(plan, Plan)
    assert finite_numbers(plan.model_dump())


def test_the_base_plan_loads() -> None:
    assert load_plan(Path(__file__).resolve().parents[1] / "corpus/plans/small-plan.json")
