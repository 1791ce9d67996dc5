"""Trace loading and transforms. The real traces live in ../shared/data: those tests skip where
it is absent; the transforms are also checked on synthetic traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archipel.sim.traces import (
    RateWindows,
    RequestClass,
    Trace,
    assign_classes,
    load_azure,
    load_mooncake,
    load_servegen,
    mean_rate,
    scale_to_rate,
    split_geographies,
    synthesize,
)

CLASSES = (RequestClass("short", 300, 50), RequestClass("long", 4000, 300))


@pytest.mark.shared_data
def test_azure_counts_and_transforms(shared_data: Path) -> None:
    conv = load_azure("conv", shared_data)
    assert conv.size == 19_366
    assert load_azure("code", shared_data).size == 8_819
    assert conv.arrival_s[0] == 0.0 and np.all(np.diff(conv.arrival_s) >= 0)
    assert 3000 < conv.arrival_s[-1] < 4000  # about an hour
    scaled = scale_to_rate(conv, 50.0)
    assert mean_rate(scaled.arrival_s) == pytest.approx(50.0, rel=1e-9)
    assert len(scaled.transforms) == 2 and "50 requests/s" in scaled.transforms[1]
    split = split_geographies(scaled, {"eu": 0.7, "us": 0.2, "apac": 0.1}, seed=3)
    share = np.bincount(split.index, minlength=3) / conv.size
    np.testing.assert_allclose(share, [0.7, 0.2, 0.1], atol=0.015)  # > 4 sigma at n = 19,366
    again = split_geographies(scaled, {"eu": 0.7, "us": 0.2, "apac": 0.1}, seed=3)
    assert np.array_equal(split.index, again.index)
    classes = assign_classes(conv, CLASSES)
    assert set(np.unique(classes.index).tolist()) == {0, 1}


@pytest.mark.shared_data
def test_mooncake_and_servegen(shared_data: Path) -> None:
    mc = load_mooncake(shared_data)
    assert mc.size == 12_031
    assert 3000 < mc.arrival_s[-1] < 3600
    sg = load_servegen("language_m-large", shared_data)
    assert sg.window_s == 600.0
    assert 13 * 86400 < sg.start_s[-1] - sg.start_s[0] < 15 * 86400
    assert sg.requests > 1e6


def synthetic() -> Trace:
    return Trace(
        "synthetic",
        np.array([0.0, 1.0, 2.0, 4.0]),
        np.array([250, 5000, 1000, 3000]),
        np.array([40, 200, 60, 1000]),
    )


def test_scale_split_and_classes_on_synthetic() -> None:
    tr = synthetic()
    assert mean_rate(tr.arrival_s) == pytest.approx(0.75)
    assert scale_to_rate(tr, 3.0).arrival_s.tolist() == [0.0, 0.25, 0.5, 1.0]
    # nearest in log space: (1000, 60) is closer to short (300, 50) than to long (4000, 300)
    assert assign_classes(tr, CLASSES).index.tolist() == [0, 1, 0, 1]
    a = split_geographies(tr, {"eu": 1.0, "us": 0.0}, seed=1)
    assert a.index.tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError):
        split_geographies(tr, {"eu": -1.0}, seed=1)


def test_synthesize_from_rate_windows() -> None:
    win = RateWindows("w", np.array([0.0, 600.0, 1200.0]), np.array([2.0, 0.0, 5.0]), 600.0)
    tr = synthesize(win, synthetic(), seed=4)
    assert np.all(np.diff(tr.arrival_s) >= 0) and tr.arrival_s[-1] < 1800.0
    per_window = np.bincount((tr.arrival_s // 600).astype(int), minlength=3)
    assert per_window[1] == 0
    # Poisson counts: 1200 and 3000 expected, within 5 standard deviations
    assert abs(per_window[0] - 1200) < 5 * 1200**0.5 and abs(per_window[2] - 3000) < 5 * 3000**0.5
    assert set(zip(tr.input_tokens.tolist(), tr.output_tokens.tolist(), strict=True)) <= {
        (250, 40), (5000, 200), (1000, 60), (3000, 1000)
    }  # fmt: skip
    assert np.array_equal(tr.arrival_s, synthesize(win, synthetic(), seed=4).arrival_s)
    part = synthesize(win, synthetic(), seed=4, start_s=300.0, end_s=900.0, rate_scale=0.5)
    assert part.arrival_s.max() < 600.0 and abs(part.size - 300) < 5 * 300**0.5
    assert "synthesized" in part.transforms[-1]
