"""The Splitwise reader, exclusions and the fitter, on small synthetic files (no shared data).

The synthetic times are made up for these tests; the fitter must recover the constants that
generated them.
"""

from __future__ import annotations

import io
from dataclasses import asdict

import pytest

from archipel.perf.calibration import (
    Point,
    compare,
    estimate_ms,
    exclusion,
    fit,
    parse_splitwise,
    points,
    power_capped_is_derived,
)
from archipel.perf.steptime import ChipConstants

HEADER = (
    "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,"
    "prompt_time,token_time,e2e_time,tensor_parallel\n"
)


def _csv(*lines: str) -> io.StringIO:
    return io.StringIO(HEADER + "".join(line + "\n" for line in lines))


def test_parse_and_median_pooling() -> None:
    """Prefill is pooled over generation lengths (100, 110, 300 → median 110); decode is per
    generation length (token 128: median of 10, 12 = 11; token 256: 20)."""
    rows = parse_splitwise(
        _csv(
            "llama2-70b,h100-80gb,512,1,128,1,1,100,10,0,4",
            "llama2-70b,h100-80gb,512,1,128,1,1,110,12,0,4",
            "llama2-70b,h100-80gb,512,1,256,1,1,300,20,0,4",
        )
    )
    assert rows[0].tensor_parallel == 4 and rows[0].prompt_ms == 100.0
    pts = points(rows)
    prefill = [p for p in pts if p.phase == "prefill"]
    decode = {p.output_tokens: p.measured_ms for p in pts if p.phase == "decode"}
    assert [(p.measured_ms, p.repeats) for p in prefill] == [(110.0, 3)]
    assert decode == {128: 11.0, 256: 20.0}


def test_power_capped_rows_recognised_as_derived() -> None:
    base = "llama2-70b,h100-80gb,512,1,128,1,1,100,10,0,4"
    derived = "llama2-70b,h100-80gb-pcap,512,1,128,1,1,130,10,0,4"
    measured = "llama2-70b,h100-80gb-pcap,512,1,128,1,1,128,10.5,0,4"
    assert power_capped_is_derived(parse_splitwise(_csv(base, derived)))
    assert not power_capped_is_derived(parse_splitwise(_csv(base, measured)))
    assert not power_capped_is_derived(parse_splitwise(_csv(base)))


def _point(hw: str, k: int, n: int, b: int, o: int = 0, phase: str = "decode") -> Point:
    return Point(phase, "llama2-70b", hw, k, n, b, o, 1.0, 1)  # type: ignore[arg-type]


def test_exclusion_reasons() -> None:
    """TP2 batch 64 (512 + 128 tokens): 128.5 GiB weights + 12.5 GiB KV + 8 GiB activations
    = 149.0 GiB > 144.0 GiB usable; batch 32 needs 138.7 GiB and is compared."""
    assert exclusion(_point("a100-80gb", 2, 512, 64, 128), 128).startswith(
        "does not fit: 149.0 GiB needed, 144.0 GiB usable"
    )
    assert exclusion(_point("a100-80gb", 2, 512, 32, 128), 128) == ""
    assert exclusion(_point("h100-80gb-pcap", 8, 512, 1, 128), 128).startswith("power-capped")
    assert exclusion(_point("v100", 8, 512, 1, 128), 128).startswith("no facts")
    bloom = Point("decode", "bloom-176b", "h100-80gb", 8, 512, 1, 128, 1.0, 1)
    assert exclusion(bloom, 128).endswith("out-of-sample check, not fitted")


def test_fit_recovers_the_constants_that_generated_the_times() -> None:
    truth = {
        "A100-80GB": ChipConstants(0.70, 0.15, 400.0, 5.0, 0.90, 200.0, 30.0, 5.0),
        "H100": ChipConstants(0.65, 0.20, 300.0, 15.0, 0.85, 150.0, 20.0, 4.0),
    }
    grid: list[Point] = []
    for hw in ("a100-80gb", "h100-80gb"):
        for k in (2, 4, 8):
            for n, b in ((128, 1), (1024, 1), (8192, 1), (512, 8), (512, 32)):
                grid.append(_point(hw, k, n, b, phase="prefill"))
            for n, b, o in ((512, 1, 128), (512, 16, 128), (512, 32, 128), (4096, 1, 512)):
                grid.append(_point(hw, k, n, b, o))
    synthetic = [Point(**(asdict(p) | {"measured_ms": estimate_ms(p, truth)})) for p in grid]
    assert all(not c.excluded for c in compare(synthetic, truth))
    fitted = fit(synthetic)
    for name, c in truth.items():
        for field, value in asdict(c).items():
            assert asdict(fitted[name])[field] == pytest.approx(value, rel=1e-3), (name, field)
