"""The spec's ``reservations:``: model validation and checks against the catalog, each problem
reported at the offending value with what to do."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from archipel.catalog.commitments import COMMITMENT_LEVELS, default_level
from archipel.errors import Issue, SpecError
from archipel.spec.check import check_spec, validate_text
from archipel.spec.load import parse_spec_with_positions
from archipel.spec.reservations import ReservationOption, resolve_discount

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import small_catalog

BASE = """\
horizon:
  start: 2027-01-01
  periods: 4
"""

GOOD = """\
reservations:
  - id: p5-1y
    provider: aws
    kind: reserved_instance
    regions: [aws:us-east-1]
    instance_types: [p5.48xlarge]
    term_years: 1
    discount_pct: 40
    upfront_pct: 50
    buy_from: 2027-01-01
    buy_until: 2027-07-01
    max_nodes: 8
"""


def check(extra: str, base: str = BASE) -> list[Issue]:
    spec, src = parse_spec_with_positions(base + textwrap.dedent(extra), "f.yaml")
    return check_spec(spec, small_catalog(), src)


def one(extra: str, base: str = BASE) -> Issue:
    issues = check(extra, base)
    assert len(issues) == 1, issues
    return issues[0]


def option(**fields: object) -> ReservationOption:
    base: dict[str, object] = {"id": "r", "provider": "aws", "kind": "reserved_instance"}
    return ReservationOption.model_validate({**base, **fields})


def test_a_complete_option_is_clean() -> None:
    assert check(GOOD) == []


def test_the_term_is_given_exactly_once() -> None:
    with pytest.raises(ValidationError, match="gives no term; give exactly one of term_years"):
        option(discount_pct=10)
    with pytest.raises(ValidationError, match="gives term_years and term_months; give exactly"):
        option(term_years=1, term_months=12, discount_pct=10)


def test_buy_window_and_bounds() -> None:
    with pytest.raises(ValidationError, match="buy_from 2027-07-01 is not before buy_until"):
        option(term_years=1, buy_from="2027-07-01", buy_until="2027-01-01")
    with pytest.raises(ValidationError, match="less than 100"):
        option(term_years=1, discount_pct=100)
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        option(term_years=1, upfront_pct=120)
    with pytest.raises(ValidationError, match="kind"):
        option(kind="savings_plan", term_years=1)


def test_upfront_defaults_by_kind() -> None:
    assert option(term_years=1).upfront_share == 0.0
    assert option(kind="capacity_block", term_days=14, discount_pct=30).upfront_share == 1.0
    assert option(term_years=3, upfront_pct=25).upfront_share == 0.25


def test_discount_defaults_to_the_documented_level() -> None:
    """AWS 3-year RIs: 'up to 72%' (an assumption); 1-year terms have no headline level."""
    pct, level = resolve_discount(option(term_years=3), exclude_assumed=False)
    assert (pct, level is not None and level.assumed) == (72.0, True)
    assert level is default_level("aws", "reserved_instance", 36)
    with pytest.raises(ValueError, match="no discount level is documented for aws"):
        resolve_discount(option(term_years=1), exclude_assumed=False)
    with pytest.raises(ValueError, match="'up to' level, an assumption"):
        resolve_discount(option(term_years=3), exclude_assumed=True)
    assert resolve_discount(option(term_years=1, discount_pct=31.5), True) == (31.5, None)


def test_every_level_names_its_source() -> None:
    for c in COMMITMENT_LEVELS:
        assert c.url.startswith("https://") and c.retrieved == "2026-11-30", c
        assert (c.level_pct is None) == (c.basis == "quote"), c


def test_missing_discount_is_reported_on_the_option() -> None:
    issue = one(GOOD.replace("    discount_pct: 40\n", ""))
    assert issue.path == "reservations[0].kind"
    assert "no discount level is documented for aws reserved_instance" in issue.message
    assert "give discount_pct" in issue.message


def test_unknown_names_are_reported_where_written() -> None:
    issues = check(
        GOOD.replace("[aws:us-east-1]", "[aws:us-east-9, gcp:us-east4]").replace(
            "[p5.48xlarge]", "[p5.48xlarg]"
        )
    )
    by_path = {i.path: i for i in issues}
    assert "unknown region 'aws:us-east-9'" in by_path["reservations[0].regions[0]"].message
    assert "unknown region 'gcp:us-east4'" in by_path["reservations[0].regions[1]"].message
    assert "did you mean 'p5.48xlarge'" in by_path["reservations[0].instance_types[0]"].hint
    assert len(issues) == 3  # not also "matches nothing": the unknown names say why


def test_known_names_that_match_no_on_demand_offering() -> None:
    # g2-standard-48 is sold in gcp:europe-west4 only
    issue = one(
        GOOD.replace("[p5.48xlarge]", "[g2-standard-48]")
        .replace("aws:us-east-1", "gcp:us-east4")
        .replace("aws", "gcp")
    )
    assert issue.path == "reservations[0].provider"
    assert issue.message == "the option matches no on-demand offering of gcp in the catalog"
    assert "archipel catalog offers --provider gcp" in issue.hint


def test_unknown_provider_and_accelerator() -> None:
    issue = one(GOOD.replace("provider: aws", "provider: awz"))
    assert (issue.path, issue.message) == ("reservations[0].provider", "unknown provider 'awz'")
    bad = GOOD.replace("    max_nodes: 8\n", "    max_nodes: 8\n    accelerators: [H1000]\n")
    issue = one(bad)
    assert (issue.path, issue.message) == (
        "reservations[0].accelerators[0]",
        "unknown accelerator 'H1000'",
    )


def test_buy_window_outside_the_horizon() -> None:
    issue = one(GOOD.replace("buy_from: 2027-01-01", "buy_from: 2029-01-01").replace(
        "buy_until: 2027-07-01", "buy_until: 2030-01-01"
    ))  # fmt: skip
    assert issue.path == "reservations[0].buy_from"
    assert "no period of the horizon starts inside the buy window" in issue.message


def test_reservations_need_on_demand_offerings() -> None:
    base = BASE + "catalog:\n  purchase_options: [spot]\n"
    issue = one(GOOD, base=base)
    assert issue.path == "catalog.purchase_options"
    assert "leaves on_demand out" in issue.message


def test_option_ids_are_unique_and_validation_reports_every_problem() -> None:
    twice = GOOD + GOOD.split("reservations:\n", 1)[1]
    issue = one(twice)
    assert issue.message == "duplicate id 'p5-1y' (also used by reservations[0])"
    text = BASE + textwrap.dedent(GOOD).replace("term_years: 1", "term_years: 1\n    term_days: 3")
    with pytest.raises(SpecError) as err:
        validate_text(text, "f.yaml", small_catalog())
    assert "give exactly one of term_years, term_months or term_days" in str(err.value)


def test_a_spec_with_reservations_round_trips_through_yaml() -> None:
    from archipel.spec.dump import dump_spec
    from archipel.spec.load import parse_spec

    spec = parse_spec(BASE + GOOD)
    assert parse_spec(dump_spec(spec)) == spec
    assert spec.reservations[0].buy_until is not None
