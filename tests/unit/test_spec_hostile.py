"""Hostile or broken YAML: each class of input is refused with a position, never a traceback.

Each test names the class of input it makes safe; the fuzz test (test_fuzz_spec.py) and the
corpus (tests/corpus/specs) cover their combinations.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from archipel.errors import Issue, SpecError, UserError
from archipel.spec.load import load_spec, parse_spec
from archipel.spec.yaml_reader import MAX_ALIAS_VALUES, MAX_DEPTH

GOOD = """\
horizon:
  start: 2027-01-01
  periods: 2
geographies:
  - {id: eu, lat: 48.9, lon: 2.4, country: FR}
models:
  - id: m
    parameters_b: 70
services:
  - id: chat
    model: m
    demand:
      kind: table
      by_geography:
        eu: [10, 20]
"""


def problems(text: str) -> list[Issue]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "f.yaml")
    assert all(i.line >= 1 and i.column >= 1 for i in info.value.issues)
    return list(info.value.issues)


def only(text: str) -> Issue:
    issues = problems(text)
    assert len(issues) == 1, issues
    return issues[0]


@pytest.mark.parametrize(
    ("char", "name"), [("\x00", "U+0000 (NUL)"), ("\x7f", "U+007F (DEL)"), ("\x1b", "U+001B (ESC)")]
)
def test_characters_yaml_forbids_are_each_placed(char: str, name: str) -> None:
    issues = problems(GOOD.replace("id: chat", f"id: ch{char}at").replace("m\n", f"m{char}\n"))
    assert [(i.line, i.column) for i in issues] == [(7, 10), (10, 11), (11, 13)]
    assert issues[0].message == f"the file contains the character {name}, which YAML does not allow"


def test_many_forbidden_characters_are_listed_up_to_a_limit() -> None:
    issues = problems("name: " + "\x00" * 1000 + "\n")
    assert len(issues) == 21
    assert issues[-1].message == "more such characters follow"


@pytest.mark.parametrize(
    ("written", "shown"),
    [(r'"a\0b"', "U+0000 (NUL)"), (r'"\e[2J"', "U+001B (ESC)"), (r'"x\u202ey"', "U+202E")],
)
def test_control_characters_written_as_escapes_are_refused(written: str, shown: str) -> None:
    issue = only(GOOD + f"name: {written}\n")
    assert (issue.line, issue.column, issue.path) == (16, 7, "name")
    assert issue.message == f"the text contains the control character {shown}"


def test_a_control_character_in_a_key_is_refused() -> None:
    issue = only(GOOD + '"na\\x07me": x\n')
    assert (issue.line, issue.message) == (
        16,
        "the key contains the control character U+0007 (BEL)",
    )


@pytest.mark.parametrize(
    "deep",
    [
        "x: " + "[" * 5000 + "]" * 5000 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        "x: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
    ],
)
def test_deep_nesting_is_refused_where_it_gets_too_deep(deep: str) -> None:
    issue = only(deep)
    assert issue.message == f"the data is nested more than {MAX_DEPTH} levels deep"


def test_nesting_up_to_the_limit_is_read() -> None:
    issues = problems("x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    assert "nested" not in " ".join(i.message for i in issues)


@pytest.mark.parametrize("text", ["x: &a [1, *a]\n", "x: &a {y: *a}\n", "x: &a {<<: *a}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(text: str) -> None:
    issue = only(text)
    assert issue.message.startswith("the alias *a is inside the value of its own anchor &a")


def billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_the_alias_that_explodes() -> None:
    text = billion_laughs()
    assert len(text) < 500  # ~10^9 values once expanded
    issue = only(text)
    assert issue.message.startswith(f"aliases expand the file to more than {MAX_ALIAS_VALUES:,}")
    assert issue.line == 6  # the first alias of a5: a4 stands for 66,430 values


def test_a_merge_key_bomb_is_refused() -> None:
    lines = ["m0: &m0 {x: 1}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], y{i}: 1}}" for i in range(1, 60)]
    issue = only("\n".join(lines) + "\n")
    assert issue.message.startswith("aliases expand the file")


def test_merge_keys_follow_yaml_own_keys_win_and_are_not_duplicates() -> None:
    text = GOOD.replace(
        "  - id: m\n    parameters_b: 70\n",
        "  - &base {id: m, parameters_b: 70, bytes_per_parameter: 1}\n"
        "  - <<: *base\n    id: m2\n    bytes_per_parameter: 2\n",
    )
    spec = parse_spec(text)
    assert [(m.id, m.parameters_b, m.bytes_per_parameter) for m in spec.models] == [
        ("m", 70, 1),
        ("m2", 70, 2),
    ]


def test_a_merge_of_something_else_than_a_mapping_is_placed() -> None:
    issues = problems(GOOD + "name:\n  <<: [1, 2]\n")
    merge = [(i.line, i.column) for i in issues if i.message.startswith("bad merge key")]
    assert merge == [(17, 8), (17, 11)]


@pytest.mark.parametrize(
    ("date", "why"),
    [("0000-01-01", "year 0 is out of range"), ("2027-02-30", "day is out of range for month")],
)
def test_dates_that_do_not_exist_are_refused(date: str, why: str) -> None:
    issue = only(GOOD.replace("2027-01-01", date))
    assert (issue.line, issue.column, issue.path) == (2, 10, "horizon.start")
    assert issue.message == f"'{date}' is not a real date ({why})"


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("9999-12-31", "must be ≤ 2200-01-01, got 9999-12-31"),
        ("0001-01-01", "must be ≥ 2000-01-01, got 0001-01-01"),
        ("10000-01-01", "expected a date like 2027-01-01, got '10000-01-01'"),
    ],
)
def test_dates_far_out_give_the_allowed_range(date: str, message: str) -> None:
    assert only(GOOD.replace("2027-01-01", date)).message == message


def test_an_integer_of_thousands_of_digits_is_refused() -> None:
    issue = only(GOOD.replace("periods: 2", "periods: " + "9" * 5000))
    assert issue.message == "a number 5,000 characters long cannot be read"


def test_a_huge_integer_for_a_number_field_is_too_large_and_is_shown_short() -> None:
    issue = only(GOOD.replace("parameters_b: 70", "parameters_b: " + "9" * 400))
    assert issue.message == "the number is too large (a number of about 401 digits)"


@pytest.mark.parametrize("written", [".inf", "-.inf", ".nan", ".NaN", "1.0e+999"])
def test_infinite_and_nan_numbers_are_refused(written: str) -> None:
    issue = only(GOOD.replace("lat: 48.9", f"lat: {written}"))
    assert (issue.path, issue.message) == (
        "geographies[0].lat",
        f"'{written}' is not a finite number",
    )


@pytest.mark.parametrize("written", ["'nan'", "1.0e999", "'-inf'"])
def test_text_that_reads_as_infinite_or_nan_is_refused_by_the_bounds(written: str) -> None:
    """YAML 1.1 reads 1.0e999 (no exponent sign) as text; pydantic then makes it a float."""
    issue = only(GOOD.replace("parameters_b: 70", f"parameters_b: {written}"))
    assert issue.path == "models[0].parameters_b"
    assert issue.message.startswith("must be")


def test_binary_and_tagged_collections_are_refused() -> None:
    issues = problems(GOOD + "name: !!binary AA==\ncatalog: !!set {a, b}\n")
    assert [i.message for i in issues] == [
        "binary data (!!binary) is not part of the spec language",
        "cannot read this value: the tag tag:yaml.org,2002:set is not supported",
    ]


def test_a_very_long_value_is_quoted_short() -> None:
    issue = only(GOOD.replace("model: m\n", f"model: {'x' * 9_000}\n"))
    assert len(issue.message) < 200


def test_a_spec_file_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        os.truncate(f.fileno(), 65 * 2**20)  # sparse: no 65 MiB written
    with pytest.raises(UserError, match="the limit is 64 MiB"):
        load_spec(path)


def test_the_examples_mistakes_never_reach_python_errors() -> None:
    """A spec mixing several of the above: every problem is listed, in file order."""
    text = textwrap.dedent(
        """\
        horizon: {start: 2027-02-30, periods: .inf}
        name: "\\0"
        models: &m [*m]
        """
    )
    issue = only(text)
    assert issue.message.startswith("the alias *m is inside")


def test_a_text_value_of_megabytes_is_refused() -> None:
    issue = only(GOOD + f"name: {'x' * 20_000}\n")
    assert (issue.path, issue.message) == ("name", "this text is 20,000 characters long")
