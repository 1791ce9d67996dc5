"""The spec loader: every problem is reported at once, at file:line:column, in plain English."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from archipel.errors import Issue, SpecError, UserError
from archipel.spec.load import (
    SourceMap,
    format_path,
    load_spec,
    load_spec_with_positions,
    parse_spec,
    parse_spec_with_positions,
)
from archipel.spec.models import DemandTable

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
        parse_spec(textwrap.dedent(text), "f.yaml")
    return list(info.value.issues)


def only(text: str) -> Issue:
    issues = problems(text)
    assert len(issues) == 1, issues
    return issues[0]


def test_a_good_spec_loads_with_dates_and_positions() -> None:
    spec, src = parse_spec_with_positions(GOOD, "f.yaml")
    assert spec.horizon.start == dt.date(2027, 1, 1)
    assert isinstance(spec.services[0].demand, DemandTable)
    assert spec.services[0].demand.by_geography == {"eu": [10.0, 20.0]}
    assert src.at(("services", 0, "demand", "by_geography", "eu")) == (15, 13)
    assert src.key_at(("services", 0, "demand", "by_geography", "eu")) == (15, 9)
    assert src.at(("services", 0, "demand", "by_geography", "eu", 1)) == (15, 18)
    # a path that is not in the file falls back to its nearest enclosing value
    assert src.at(("services", 0, "latency_slo_rtt_ms")) == (10, 5)


def test_unknown_field_points_at_the_key_and_suggests_the_near_name() -> None:
    issue = only(GOOD + "    laytency_slo_rtt_ms: 50\n")
    assert issue == Issue(
        "f.yaml",
        16,
        5,
        "services[0]",
        "unknown field 'laytency_slo_rtt_ms'",
        "did you mean 'latency_slo_rtt_ms'?",
    )
    assert str(issue) == (
        "f.yaml:16:5: services[0]: unknown field 'laytency_slo_rtt_ms'"
        " — did you mean 'latency_slo_rtt_ms'?"
    )


def test_unknown_field_without_a_near_name_lists_the_allowed_ones() -> None:
    issue = only(GOOD.replace("  periods: 2\n", "  periods: 2\n  zzz: 1\n"))
    assert (issue.line, issue.column, issue.path) == (4, 3, "horizon")
    assert issue.message == "unknown field 'zzz'"
    assert issue.hint == "allowed here: start, granularity, periods"


def test_missing_field_points_at_the_parent_mapping() -> None:
    issue = only(GOOD.replace("    parameters_b: 70\n", ""))
    assert issue == Issue(
        "f.yaml",
        7,
        5,
        "models[0]",
        "missing required field 'parameters_b'",
        "add 'parameters_b: …' here (total parameters, in billions)",
    )


def test_wrong_type_says_what_was_expected_and_what_was_given() -> None:
    issue = only(GOOD.replace("parameters_b: 70", "parameters_b: abc"))
    assert (issue.line, issue.column, issue.path) == (8, 19, "models[0].parameters_b")
    assert issue.message == "expected a number, got 'abc'"
    whole = only(GOOD.replace("periods: 2", "periods: 2.5"))
    assert (whole.path, whole.message) == ("horizon.periods", "expected a whole number, got 2.5")


def test_out_of_range_value_gives_the_bound() -> None:
    issue = only(GOOD.replace("eu: [10, 20]", "eu: [10, -20]"))
    assert issue == Issue(
        "f.yaml",
        15,
        18,
        "services[0].demand.by_geography.eu[1]",
        "must be ≥ 0, got -20",
        "change the value to lie in the allowed range",
    )


def test_unquoted_norway_is_a_boolean_and_the_hint_says_quote_it() -> None:
    issue = only(GOOD.replace("country: FR", "country: NO"))
    assert issue.message == "expected text, got false"
    assert issue.hint.startswith("put it in quotes")


def test_bad_discriminator_lists_the_allowed_kinds() -> None:
    issue = only(GOOD.replace("kind: table", "kind: tabel"))
    assert issue == Issue(
        "f.yaml",
        13,
        7,
        "services[0].demand",
        "unknown kind 'tabel'",
        "did you mean 'table'? allowed kinds: table, growth",
    )
    missing = only(GOOD.replace("      kind: table\n", ""))
    assert (missing.path, missing.message) == ("services[0].demand", "missing 'kind'")
    assert missing.hint == "add 'kind:' with one of: table, growth"


def test_rule_kinds_are_not_part_of_the_path() -> None:
    text = GOOD + "rules:\n  - kind: residency\n    data_class: x\n    jurisdictoins: [EU]\n"
    issue = only(text)
    assert (issue.line, issue.column, issue.path) == (19, 5, "rules[0]")
    assert issue.hint == "did you mean 'jurisdictions'?"


def test_literal_choice_suggests_the_near_value() -> None:
    issue = only(GOOD.replace("  periods: 2\n", "  periods: 2\n  granularity: quater\n"))
    assert issue.path == "horizon.granularity"
    assert issue.message == "expected one of 'month', 'quarter' or 'hour', got 'quater'"
    assert issue.hint == "did you mean 'quarter'? use one of: month, quarter, hour"


def test_model_level_rule_is_reported_on_its_mapping() -> None:
    issue = only(GOOD.replace("start: 2027-01-01", "start: 2027-02-01"))
    assert (issue.line, issue.column, issue.path) == (2, 3, "horizon")
    assert issue.message.startswith("a quarterly horizon must start in January")


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        GOOD.replace("periods: 2", "periods: two")
        .replace("parameters_b: 70", "parameters_b: 0")
        .replace("kind: table", "kind: tabel")
    )
    issues = problems(text)
    assert [(i.line, i.path) for i in issues] == [
        (3, "horizon.periods"),
        (8, "models[0].parameters_b"),
        (13, "services[0].demand"),
    ]


def test_yaml_syntax_errors_have_positions_and_hints() -> None:
    tab = only("horizon:\n\tstart: 2027-01-01\n")
    assert (tab.line, tab.column) == (2, 1)
    assert tab.hint == "indent with spaces, never tabs"
    quote = only("name: 'abc\nhorizon: {start: 2027-01-01, periods: 1}\n")
    assert (quote.line, quote.column) == (1, 7)
    assert quote.message == "YAML syntax error: a quoted text is never closed"
    indent = only("horizon:\n  start: 2027-01-01\n    periods: 4\n")
    assert (indent.line, indent.column) == (3, 12)
    assert indent.message == "YAML syntax error: mapping values are not allowed here"


def test_duplicate_keys_are_detected() -> None:
    issue = only(GOOD.replace("  periods: 2\n", "  periods: 2\n  periods: 2\n"))
    assert issue == Issue(
        "f.yaml",
        4,
        3,
        "horizon",
        "duplicate key 'periods' (first given at line 3, column 3)",
        "give each key once; YAML would silently keep only the last one",
    )


def test_empty_file_and_non_mapping_top_level() -> None:
    empty = only("# nothing but a comment\n")
    assert (empty.line, empty.column, empty.message) == (1, 1, "the file is empty")
    listed = only("- horizon: 1\n")
    assert listed.message == "the top level must be a mapping of fields, got a list"
    scalar = only("\n\nhello\n")
    assert (scalar.line, scalar.message) == (
        3,
        "the top level must be a mapping of fields, got a single value",
    )


def test_unknown_yaml_tag_is_one_problem_not_two() -> None:
    issue = only("horizon: !foo 3\n")
    assert issue.message.startswith("cannot read this value")


def test_keys_are_text_even_when_yaml_would_read_them_otherwise() -> None:
    spec = parse_spec(GOOD.replace("id: eu", "id: 'no'").replace("eu:", "no:"))
    assert spec.geographies[0].id == "no"
    assert isinstance(spec.services[0].demand, DemandTable)
    assert list(spec.services[0].demand.by_geography) == ["no"]


def test_files_missing_or_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(UserError, match="not a file"):
        load_spec(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: ok\nname2: \xff\n")
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    assert info.value.issues[0].line == 2
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    spec, src = load_spec_with_positions(good)
    assert spec.name == "fleet"
    assert src.file == str(good)


def test_paths_format_like_the_yaml_reads() -> None:
    assert format_path(("services", 1, "demand", "by_geography", "eu")) == (
        "services[1].demand.by_geography.eu"
    )
    assert format_path(("a", "b.c")) == 'a["b.c"]'
    renumbered = SourceMap("f", {("services", 3): (9, 5)}, {}, {"services": (0, 3)})
    assert renumbered.issue(("services", 1), "m").path == "services[3]"
    assert renumbered.at(("services", 1)) == (9, 5)
