"""Spec errors of capacity over time, traffic ramps and migration limits: each at its value.

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
rules:
  - kind: traffic_ramp
    service: chat
    provider: nebius
    steps:
      - {start: 2027-01-01, max_share: 0.05}
      - {start: 2027-07-01, min_share: 0.25, max_share: 0.5}
  - {kind: migration_limit, max_shift: 0.25, services: [chat]}
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


def test_a_clean_ramp_spec_validates_and_round_trips() -> None:
    spec = validate_text(BASE + RAMP, "f.yaml", small_catalog())
    assert [r.kind for r in spec.rules] == ["traffic_ramp", "migration_limit"]
    assert spec.providers[0].capacity[0].steps[0].max_accelerators == 128
    assert parse_spec(dump_spec(spec)) == spec


def test_steps_out_of_date_order_are_an_error_at_the_steps() -> None:
    bad = RAMP.replace("2027-07-01, min_share", "2026-07-01, min_share")
    assert errors(bad) == [
        (
            "rules[0].steps",
            "steps[1] starts on 2026-07-01, not after steps[0] (2027-01-01); list the steps in "
            "date order, one per date",
        )
    ]


def test_capacity_steps_out_of_date_order_are_an_error_at_the_steps() -> None:
    bad = RAMP.replace(
        "steps: [{start: 2027-10-01, max_accelerators: 128}]",
        "steps: [{start: 2027-10-01, max_accelerators: 128}, "
        "{start: 2027-05-01, max_accelerators: 8}]",
    )
    assert errors(bad) == [
        (
            "providers[0].capacity[0].steps",
            "steps[1] starts on 2027-05-01, not after steps[0] (2027-10-01); list the steps in "
            "date order, one per date",
        )
    ]


def test_shares_out_of_order_or_range_are_errors() -> None:
    swapped = RAMP.replace("min_share: 0.25, max_share: 0.5", "min_share: 0.5, max_share: 0.25")
    assert errors(swapped) == [("rules[0].steps[1]", "min_share 0.5 is above max_share 0.25")]
    assert errors(RAMP.replace("max_share: 0.05", "max_share: 5"))[0] == (
        "rules[0].steps[0].max_share",
        "must be ≤ 1, got 5",
    )


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


def test_unknown_service_provider_and_instance_type_are_named_with_a_suggestion() -> None:
    typos = (
        RAMP.replace("service: chat", "service: caht")
        .replace("provider: nebius", "provider: nebuis")
        .replace("services: [chat]", "services: [chta]")
        .replace("instance_type: p5.48xlarge", "instance_type: p5.48xlarg")
    )
    issues = check(typos)
    assert [(i.path, i.message, i.hint) for i in issues] == [
        ("rules[0].service", "unknown service 'caht'", "did you mean 'chat'?"),
        ("rules[0].provider", "unknown provider 'nebuis'", "did you mean 'nebius'?"),
        ("rules[1].services[0]", "unknown service 'chta'", "did you mean 'chat'?"),
        (
            "providers[0].capacity[0].instance_type",
            "unknown instance type of aws 'p5.48xlarg'",
            "did you mean 'p5.48xlarge'?",
        ),
    ]
    assert issues[0].line == 20


def test_an_empty_service_list_selects_nothing() -> None:
    issues = check(RAMP.replace("services: [chat]", "services: []"))
    assert [(i.path, i.message) for i in issues] == [
        ("rules[1].services", "an empty list selects nothing here")
    ]


def test_ramps_that_cannot_all_hold_are_errors_once() -> None:
    """nebius ≥ 70 % and aws ≥ 50 % from 2027-07-01 (Q3 and Q4): 1.2 of the demand; and a
    second nebius ramp capping it at 60 % contradicts the first from Q3 on."""
    more = """\
      - kind: traffic_ramp
        service: chat
        provider: aws
        steps: [{start: 2027-07-01, min_share: 0.5}]
      - kind: traffic_ramp
        service: chat
        provider: nebius
        steps: [{start: 2027-01-01, max_share: 0.6}]
    """
    text = RAMP.replace("min_share: 0.25, max_share: 0.5", "min_share: 0.7").replace(
        "providers:\n", textwrap.indent(textwrap.dedent(more), "  ") + "providers:\n", 1
    )
    assert [(i.path, i.message) for i in check(text)] == [
        (
            "rules[0].steps[1].min_share",
            "in 2027-Q3, service 'chat' needs at least 0.7 of its demand on 'nebius' here, but "
            "rules[3].steps[0] allows at most 0.6",
        ),
        (
            "rules[2].steps[0].min_share",
            "in 2027-Q3, the traffic ramps of service 'chat' need min shares summing to 1.2 "
            "('aws' 0.5 (rules[2].steps[0]), 'nebius' 0.7 (rules[0].steps[1])); at most 1 of "
            "the demand can be split",
        ),
    ]


def test_a_ramp_after_the_horizon_is_an_error() -> None:
    late = RAMP.replace("2027-01-01, max_share", "2028-01-01, max_share").replace(
        "2027-07-01, min", "2028-07-01, min"
    )
    assert [(i.path, i.message) for i in check(late)] == [
        (
            "rules[0].steps[0].start",
            "the ramp starts on 2028-01-01, when the horizon has ended (2028-01-01): it "
            "constrains nothing",
        )
    ]
