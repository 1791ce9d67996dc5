"""How reports write figures: money, fractions, counts, rates and bound labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.report.fmt import (
    bound_label,
    format_fraction,
    format_gap,
    format_number,
    format_rate,
    format_seconds,
    format_signed_number,
    format_usd,
    option_label,
    period_year,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "$0"),
        (950.0, "$950"),
        (12_345.0, "$12.3K"),
        (1_234_567.0, "$1.23M"),
        (4.5e9, "$4.5B"),
        (999_999.0, "$1M"),
        (999.6, "$1K"),
        (-2_500_000.0, "-$2.5M"),
        (0.12, "$0.12"),
        (0.0078125, "$7.8e-3"),
        (3.0e12, "$3T"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_format_usd(value: float | None, text: str) -> None:
    assert format_usd(value) == text


def test_format_usd_signed() -> None:
    assert format_usd(250_000.0, signed=True) == "+$250K"
    assert format_usd(-250_000.0, signed=True) == "-$250K"
    assert format_usd(0.0, signed=True) == "$0"


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_format_usd_is_short(value: float) -> None:
    text = format_usd(value, signed=True)
    assert text.lstrip("+-").startswith("$")
    assert len(text) <= (8 if abs(value) >= 1e-9 or value == 0 else 10)
    assert "e" not in text or abs(value) < 0.01


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.5, "12.5"), (0.375, "0.375"), (6.5, "6.5"), (11.0, "11"), (0.8, "0.8"),
     (1234.4, "1,234"), (1.625, "1.62"), (0.0, "0"), (None, "—")],
)  # fmt: skip
def test_format_rate_three_significant_digits(value: float | None, text: str) -> None:
    assert format_rate(value) == text


def test_fractions_counts_and_durations() -> None:
    assert format_fraction(0.1234) == "12.3%"
    assert format_fraction(-0.05, signed=True) == "-5.0%"
    assert format_fraction(None) == "—"
    assert format_gap(0.00049) == "0.05%"
    assert format_number(57_017.0) == "57,017"
    assert format_number(82.3125) == "82.31"
    assert format_signed_number(224_000.0) == "+224,000"
    assert format_signed_number(-64_000.0) == "-64,000"
    assert format_signed_number(0.2) == "0"
    assert format_seconds(0.04) == "0.04 s"
    assert format_seconds(46.53) == "46.5 s"
    assert format_seconds(200.0) == "3 min 20 s"


def test_labels() -> None:
    assert bound_label("lp_relaxation") == "LP relaxation bound"
    assert bound_label("mip_bound") == "MIP bound"
    assert bound_label("lp_optimum") == "LP optimum"
    assert bound_label("none") == "lower bound"
    assert option_label("on_demand") == "on-demand"
    assert option_label("on_demand", short=True) == "OD"
    assert option_label("reserved", short=True) == "resv"
    assert option_label("savings_plan") == "savings_plan"  # unknown options pass through
    assert period_year("2027-Q1") == 2027
    assert period_year("#3") is None
