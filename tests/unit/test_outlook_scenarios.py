"""Scenario sampling (archipel.outlook.scenarios) and the scenarios file (spec.uncertainty)."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from archipel.errors import SpecError
from archipel.outlook.scenarios import Frame, sample
from archipel.spec.uncertainty import (
    Generation,
    GrowthOption,
    GrowthOptions,
    LognormalGrowth,
    Outage,
    PriceDecline,
    ServiceDemand,
    Uncertainty,
    check_names,
    load_uncertainty,
)

D = dt.datetime


def frame(quarters: int = 8) -> Frame:
    starts = [D(2027 + q // 4, 3 * (q % 4) + 1, 1) for q in range(quarters + 1)]
    return Frame(
        period_start=tuple(starts[:-1]),
        period_end=tuple(starts[1:]),
        services=("chat", "api"),
        plan_growth_pct=(45.0, 0.0),
        accelerators=("B200", "H100"),
        providers=("aws", "oci"),
    )


def seed(n: int = 0) -> np.random.SeedSequence:
    return np.random.SeedSequence(n)


def test_the_same_seed_draws_the_same_scenarios_and_another_seed_others() -> None:
    u = Uncertainty(prices=[PriceDecline(accelerator="B200", high_pct_per_year=20)])
    a, b, c = (sample(u, frame(), seed(s), 500) for s in (1, 1, 2))
    assert np.array_equal(a.demand, b.demand) and np.array_equal(a.price, b.price)
    assert not np.array_equal(a.demand, c.demand)


def test_no_spread_around_the_planned_growth_is_the_plan_itself() -> None:
    """Median = the spec's growth and spread 0: every multiplier is 1."""
    u = Uncertainty(default_demand=LognormalGrowth(spread=0.0))
    sc = sample(u, frame(), seed(), 50)
    assert np.allclose(sc.demand, 1.0)
    assert np.all(sc.price == 1.0) and not sc.lost.any()


def test_a_higher_median_compounds_over_the_years() -> None:
    """api planned flat, median +21 % a year, no spread: after two years (end of Q4 2028,
    731 days = 2.0014 years of 365.25 days) demand is 1.21^2.0014 of the plan's."""
    u = Uncertainty(
        demand=[
            ServiceDemand(service="api", growth=LognormalGrowth(median_pct_per_year=21, spread=0))
        ]
    )
    sc = sample(u, frame(), seed(), 3)
    years = (D(2029, 1, 1) - D(2027, 1, 1)).days / 365.25
    assert sc.demand[0, 1, -1] == pytest.approx(1.21**years, rel=1e-9)
    assert sc.demand[0, 1, 3] == pytest.approx(
        1.21 ** ((D(2028, 1, 1) - D(2027, 1, 1)).days / 365.25)
    )


def test_growth_options_are_drawn_by_weight_and_held_for_the_horizon() -> None:
    opts = GrowthOptions(
        options=[
            GrowthOption(growth_pct_per_year=0, weight=3),
            GrowthOption(growth_pct_per_year=100, weight=1),
        ]
    )
    u = Uncertainty(demand=[ServiceDemand(service="api", growth=opts)])
    sc = sample(u, frame(4), seed(3), 20_000)
    end = sc.demand[:, 1, -1]
    flat = np.isclose(end, 1.0)
    doubled = np.isclose(end, 2.0 ** ((D(2028, 1, 1) - D(2027, 1, 1)).days / 365.25))
    assert np.all(flat | doubled)
    assert flat.mean() == pytest.approx(0.75, abs=0.015)


def test_full_correlation_moves_services_together() -> None:
    u = Uncertainty(
        correlation=1.0, default_demand=LognormalGrowth(median_pct_per_year=10, spread=0.3)
    )
    sc = sample(u, frame(), seed(), 200)
    # the same yearly shocks: the ratio between the services is the planned-growth gap only
    ratio = sc.demand[:, 0, :] / sc.demand[:, 1, :]
    assert np.allclose(ratio, ratio[0])


def test_prices_fall_and_a_new_generation_cuts_them_from_its_arrival() -> None:
    gen = Generation(
        name="next",
        earliest=dt.date(2028, 1, 1),
        latest=dt.date(2028, 1, 1),
        price_cut_pct=30,
        replaces=["H100"],
    )
    u = Uncertainty(
        prices=[PriceDecline(accelerator="B200", low_pct_per_year=10, high_pct_per_year=10)],
        generations=[gen],
    )
    sc = sample(u, frame(), seed(), 10)
    b200, h100 = sc.price[:, 0, :], sc.price[:, 1, :]
    assert np.all(np.diff(b200, axis=1) < 0) and np.all(b200 < 1.0)
    mid = ((D(2027, 4, 1) - D(2027, 1, 1)) / 2) / dt.timedelta(hours=8766)
    assert b200[0, 0] == pytest.approx(0.9**mid)
    assert np.all(h100[:, :4] == 1.0) and np.allclose(h100[:, 4:], 0.7)


def test_an_outage_takes_a_provider_for_whole_periods() -> None:
    """Six months of quarters: two periods, from a start uniform over the horizon (cut at its
    end)."""
    u = Uncertainty(
        outages=[Outage(provider="oci", probability=1.0, months=6, replacement_price_factor=1.5)]
    )
    sc = sample(u, frame(), seed(), 400)
    down = sc.lost[:, 1, :]
    assert not sc.lost[:, 0, :].any()
    lengths = down.sum(axis=1)
    first = down.argmax(axis=1)
    assert np.all(lengths == np.minimum(2, 8 - first))
    assert set(first.tolist()) == set(range(8))
    assert sc.replacement.tolist() == [1.0, 1.5]
    none = sample(
        u.model_copy(update={"outages": [u.outages[0].model_copy(update={"probability": 0.0})]}),
        frame(),
        seed(),
        50,
    )
    assert not none.lost.any()


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "risk.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_a_scenarios_file_reads_and_its_mistakes_are_located(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        """\
        seed: 7
        scenarios: 1000
        demand:
          - service: chat
            growth: {kind: lognormal, median_pct_per_year: 30, spread: 0.2}
        funding:
          - {year: 2027, usd: 1000000}
        """,
    )
    u, _ = load_uncertainty(good)
    assert u.seed == 7 and u.demand[0].growth.kind == "lognormal"
    bad = write(
        tmp_path,
        """\
        seed: 7
        demand:
          - service: chat
            growth: {kind: lognormal, spread: -1}
        outages:
          - {provider: oci, probability: 2, months: 6}
        """,
    )
    with pytest.raises(SpecError) as err:
        load_uncertainty(bad)
    text = str(err.value)
    assert f"{bad}:4:" in text and f"{bad}:6:" in text


def test_unknown_names_are_reported_at_their_lines(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """\
        demand:
          - service: chat
            growth: {kind: lognormal}
          - service: chta
            growth: {kind: lognormal}
        outages:
          - {provider: nowhere, probability: 0.1, months: 3}
        """,
    )
    u, source = load_uncertainty(p)
    with pytest.raises(SpecError) as err:
        check_names(u, source, {"chat"}, {"H100"}, {"aws"})
    lines = str(err.value).splitlines()
    assert any(line.startswith(f"{p}:4:") and "chta" in line for line in lines)
    assert any(line.startswith(f"{p}:7:") and "nowhere" in line for line in lines)


def test_listing_a_service_twice_is_refused() -> None:
    g = LognormalGrowth()
    with pytest.raises(ValueError, match="more than once"):
        Uncertainty(
            demand=[ServiceDemand(service="a", growth=g), ServiceDemand(service="a", growth=g)]
        )
    assert math.isfinite(Uncertainty().correlation)
