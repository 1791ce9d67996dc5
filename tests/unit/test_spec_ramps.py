"""Spec errors of capacity over time: each at its value.

The base spec and catalog are those of test_spec_check (horizon 2027-Q1 to 2027-Q4; aws with
us-east-1 and eu-west-1, nebius with eu-north1; service chat).
"""

from __future__ import annotations

import textwrap

import pytest
from test_spec_check import BASE, small_catalog

from archipel.errors import Issue, SpecError
from archipel.spec.check import check_spec, validate_text
from archipel.spec.dump import dump_spec
from archipel.spec.load import parse_spec, parse_spec_with_positions


def check(extra: str) -> list[Issue]:
    spec, src = parse_spec_with_positions(BASE + textwrap.dedent(extra), "f.yaml")
    return check_spec(spec, small_catalog(), src)


def errors(extra: str) -> list[tuple[str, str]]:
    """(path, message) of every problem validation finds, model and semantic checks both."""
    with pytest.raises(SpecError) as info:
        validate_text(BASE + textwrap.dedent(extra), "f.yaml", small_catalog())
    return [(i.path, i.message) for i in info.value.issues]


RAMP = """\
providers:
  - id: aws
    capacity:
      - accelerator: H100
        instance_type: p5.48xlarge
        available_from: 2027-04-01
        until: 2028-01-01
        max_accelerators: 64
        steps: [{start: 2027-10-01, max_accelerators: 128}]
"""


def test_a_clean_capacity_schedule_validates_and_round_trips() -> None:
    spec = validate_text(BASE + RAMP, "f.yaml", small_catalog())
    assert spec.providers[0].capacity[0].steps[0].max_accelerators == 128
    assert parse_spec(dump_spec(spec)) == spec


def test_capacity_steps_out_of_date_order_are_an_error_at_the_steps() -> None:
    bad = RAMP.replace(
        "steps: [{start: 2027-10-01, max_accelerators: 128}]",
        "steps: [{start: 2027-10-01, max_accelerators: 128}, {start: 2027-05-01, max_accelerators: 8}]",
    )
    assert errors(bad) == [
        (
            "providers[0].capacity[0].steps",
            "steps[1] starts on 2027-05-01, not after steps[0] (2027-10-01); list the steps in "
            "date order, one per date",
        )
    ]


def test_capacity_window_dates_are_checked() -> None:
    backwards = RAMP.replace("until: 2028-01-01", "until: 2027-04-01")
    assert errors(backwards) == [
        ("providers[0].capacity[0]", "available_from 2027-04-01 is not before until 2027-04-01")
    ]
    late_step = RAMP.replace("start: 2027-10-01, max", "start: 2028-01-01, max")
    assert errors(late_step) == [
        (
            "providers[0].capacity[0]",
            "steps[0] starts on 2028-01-01, not before until 2028-01-01: it would never apply",
        )
    ]
    empty = "providers: [{id: aws, capacity: [{region: aws:us-east-1}]}]\n"
    assert errors(empty) == [
        ("providers[0].capacity[0]", "give max_accelerators, steps, available_from or until")
    ]


def test_an_unknown_instance_type_is_named_with_a_suggestion() -> None:
    issues = check(RAMP.replace("instance_type: p5.48xlarge", "instance_type: p5.48xlarg"))
    assert [(i.path, i.message, i.hint) for i in issues] == [
        (
            "providers[0].capacity[0].instance_type",
            "unknown instance type of aws 'p5.48xlarg'",
            "did you mean 'p5.48xlarge'?",
        ),
    ]
