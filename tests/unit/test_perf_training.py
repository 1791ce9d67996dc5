"""Training estimates, with the numbers worked out by hand in each test's docstring.

Facts used (archipel.perf.accelerators): BF16 dense peak H100 989, A100 312, B200 2250,
Trainium2 667 TFLOP/s.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.errors import UnknownNameError
from archipel.perf.accelerators import ACCELERATORS
from archipel.perf.training import (
    accelerator_hours,
    flops_per_accelerator_hour,
    spot_useful_fraction,
    training_flops,
    work_per_accelerator_hour,
)
from archipel.spec.models import WorkAcceleratorHours, WorkFlops


def test_accelerator_hours_work_scales_by_bf16_peak() -> None:
    """Work in H100-hours: an A100 hour does 312/989 = 0.315470 H100-hours, a B200 hour
    2250/989 = 2.275025, an H100 hour (any alias) exactly 1."""
    work = WorkAcceleratorHours(reference_accelerator="H100", accelerator_hours=1000)
    assert work_per_accelerator_hour(work, "A100") == pytest.approx(0.3154701)
    assert work_per_accelerator_hour(work, "B200") == pytest.approx(2.2750253)
    assert work_per_accelerator_hour(work, "h100-sxm") == 1.0


def test_flops_work_per_hour() -> None:
    """FLOPs work at MFU 0.4: an H100 hour does 989e12 · 0.4 · 3600 = 1.42416e18 FLOPs;
    at MFU 0.5 a Trainium2 hour does 667e12 · 0.5 · 3600 = 1.2006e18 FLOPs."""
    assert work_per_accelerator_hour(WorkFlops(flops=1e24), "H100") == pytest.approx(1.42416e18)
    assert work_per_accelerator_hour(WorkFlops(flops=1e24, mfu=0.5), "trn2") == pytest.approx(
        1.2006e18
    )
    assert flops_per_accelerator_hour("H100") == pytest.approx(1.42416e18)


def test_training_flops_and_hours_7b_on_1t_tokens() -> None:
    """7B parameters, 10^12 tokens: 6 · 7e9 · 1e12 = 4.2e22 FLOPs;
    on H100 at MFU 0.4: 4.2e22 / 1.42416e18 = 29491.07 accelerator-hours;
    at MFU 0.5: 4.2e22 / 1.7802e18 = 23592.85."""
    flops = training_flops(7, 1e12)
    assert flops == pytest.approx(4.2e22)
    assert accelerator_hours(flops, "H100") == pytest.approx(29491.068419)
    assert accelerator_hours(flops, "H100", mfu=0.5) == pytest.approx(23592.854735)


def test_spot_useful_fraction_examples() -> None:
    """λ = 0.1/h, checkpoint every 1 h, restart 0.25 h: 1 − 0.1 · (0.5 + 0.25) = 0.925.
    λ = 0 → 1. λ = 2/h, interval 1 h, restart 0.25 h: 1 − 2 · 0.75 = −0.5 → clamped to 0."""
    assert spot_useful_fraction(0.1, 1.0, 0.25) == pytest.approx(0.925)
    assert spot_useful_fraction(0.0, 1.0, 0.25) == 1.0
    assert spot_useful_fraction(2.0, 1.0, 0.25) == 0.0


def test_errors() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        spot_useful_fraction(-0.1, 1.0, 0.25)
    with pytest.raises(ValueError, match="mfu"):
        accelerator_hours(1e20, "H100", mfu=0.0)
    with pytest.raises(UnknownNameError):
        work_per_accelerator_hour(WorkFlops(flops=1e20), "H1000")
    with pytest.raises(UnknownNameError):
        work_per_accelerator_hour(
            WorkAcceleratorHours(reference_accelerator="H1000", accelerator_hours=1), "H100"
        )


@given(st.floats(0.0, 100.0), st.floats(0.0, 1000.0), st.floats(0.0, 1000.0))
def test_useful_fraction_in_unit_interval(rate: float, interval_h: float, restart_h: float) -> None:
    fraction = spot_useful_fraction(rate, interval_h, restart_h)
    assert 0.0 <= fraction <= 1.0


@given(st.floats(0.0, 10.0), st.floats(0.01, 100.0), st.floats(0.0, 10.0), st.floats(0.0, 10.0))
def test_useful_fraction_never_rises_with_interruptions(
    rate: float, interval_h: float, restart_h: float, extra: float
) -> None:
    assert spot_useful_fraction(rate + extra, interval_h, restart_h) <= spot_useful_fraction(
        rate, interval_h, restart_h
    )


@given(
    st.sampled_from(sorted(ACCELERATORS)),
    st.floats(1e15, 1e27),
    st.floats(0.01, 1.0),
)
def test_hours_times_rate_gives_back_flops(name: str, flops: float, mfu: float) -> None:
    hours = accelerator_hours(flops, name, mfu)
    assert math.isfinite(hours)
    assert hours > 0
    rate = work_per_accelerator_hour(WorkFlops(flops=flops, mfu=mfu), name)
    assert hours * rate == pytest.approx(flops)
