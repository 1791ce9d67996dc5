"""Fuzzing the front door: mutated example specs are accepted or refused with positions.

Each example is a shipped spec (examples/*.yaml) mutated by hypothesis — keys deleted or
duplicated, values replaced by other types, huge/tiny/negative/infinite/NaN numbers, very long
texts, control characters, deep nesting, aliases (bombs included), dates out of range, names one
letter away from known ones — and then validated against the built-in catalog. The invariant:
``validate_text`` returns a spec or raises a :class:`SpecError` whose issues all carry a
positive line and column inside the file; any other exception is a bug. Examples are
derandomized and few, so the run is the same every time and takes about a second; the nastiest
finds are kept as files in tests/corpus/specs (test_fuzz_corpus.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archipel.catalog.model import Catalog
from archipel.catalog.snapshot import load_builtin
from archipel.errors import SpecError
from archipel.spec.check import validate_text

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLES}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Path_ = tuple[str | int, ...]


def paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every path into a YAML value, six levels deep at most (the root excluded)."""
    out: list[Path_] = []
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


def get(value: Any, path: Path_) -> Any:
    for part in path:
        value = value[part]
    return value


def near_name(text: str, i: int, ch: str) -> str:
    """A name one edit away: a letter dropped, doubled or replaced."""
    if not text:
        return ch
    i %= len(text)
    return [text[:i] + text[i + 1 :], text[:i] + text[i] + text[i:], text[:i] + ch + text[i + 1 :]][
        i % 3
    ]


def deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


NASTY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, -(10**30), 10**30, 10**400, 2**63, 1e308, -1e308, 5e-324, 1e-320]),
    st.sampled_from([float("inf"), float("-inf"), float("nan")]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(["x" * 20_000, "a\x00b", "\x7f", "\x1b[2J", "\u202egnp.exe", "\ufeff", ""]),
    st.sampled_from(
        [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1999, 12, 31), dt.date(2200, 1, 2)]
    ),
    st.just(dt.datetime(2027, 1, 1, 12, 30, tzinfo=dt.UTC)),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(min_value=60, max_value=400).map(deep),
)


@st.composite
def mutated_tree(draw: st.DrawFn) -> str:
    """An example spec with 1–4 structural mutations, dumped back to YAML."""
    name = draw(st.sampled_from(sorted(DATA)))
    data = yaml.safe_load(TEXTS[name])
    for _ in range(draw(st.integers(1, 4))):
        all_paths = paths(data)
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent, key = get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["delete", "replace", "near", "duplicate"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(NASTY_VALUES)
        elif action == "near" and isinstance(parent[key], str):
            parent[key] = near_name(parent[key], draw(st.integers(0, 99)), draw(st.characters()))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(parent[key])
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """An example spec's text with a line duplicated, a character inserted, a cut, or an
    alias construct appended."""
    text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
    lines = text.splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["dup", "char", "cut", "alias", "indent"]))
    if action == "dup":
        lines.insert(i, lines[i])
    elif action == "char":
        pos = draw(st.integers(0, len(lines[i])))
        ch = draw(st.sampled_from(["\x00", "\x7f", "\x1b", "\t", "'", '"', "[", "{", "&", "*"]))
        lines[i] = lines[i][:pos] + ch + lines[i][pos:]
    elif action == "cut":
        lines = [*lines[:i], lines[i][: draw(st.integers(0, len(lines[i])))]]
    elif action == "indent":
        lines[i] = " " * draw(st.integers(1, 7)) + lines[i]
    else:
        lines.append(
            draw(
                st.sampled_from(
                    [
                        "x: &a [*a]\n",
                        "x: &a {<<: *a}\n",
                        "x: *undefined\n",
                        "<<: {horizon: 3}\n",
                        "a0: &a0 [1,1,1,1,1,1,1,1,1]\n"
                        + "".join(
                            f"a{k}: &a{k} [{','.join([f'*a{k - 1}'] * 9)}]\n" for k in range(1, 9)
                        ),
                    ]
                )
            )
        )
    return "".join(lines)


def assert_accepted_or_placed(text: str, catalog: Catalog) -> None:
    try:
        validate_text(text, "fuzz.yaml", catalog)
    except SpecError as exc:
        assert exc.issues, "a SpecError lists at least one issue"
        last_line = text.count("\n") + 2
        for issue in exc.issues:
            assert 1 <= issue.line <= last_line, issue
            assert issue.column >= 1, issue
            assert issue.file == "fuzz.yaml"
            assert issue.message


CATALOG = load_builtin()


@FUZZ
@given(mutated_tree())
def test_mutated_spec_values_are_accepted_or_refused_with_positions(text: str) -> None:
    assert_accepted_or_placed(text, CATALOG)


@FUZZ
@given(mutated_text())
def test_mutated_spec_text_is_accepted_or_refused_with_positions(text: str) -> None:
    assert_accepted_or_placed(text, CATALOG)


def test_the_examples_themselves_are_valid() -> None:
    for name, text in TEXTS.items():
        assert validate_text(text, name, CATALOG).horizon.periods >= 1
