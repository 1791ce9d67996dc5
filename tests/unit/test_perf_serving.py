"""Serving estimates, with the numbers worked out by hand in each test's docstring.

Facts used (archipel.perf.accelerators): H100 80 GiB, 989 TFLOP/s, 3.35 TB/s; H200 141 GiB,
989 TFLOP/s, 4.8 TB/s; MI300X 192 GiB; L4 24 GiB, 121 TFLOP/s, 0.3 TB/s; TPU-v5e 16 GiB.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.errors import UnknownNameError
from archipel.perf.accelerators import ACCELERATORS
from archipel.perf.serving import (
    ServingProfile,
    accelerators_per_replica,
    decode_tokens_per_s,
    node_requests_per_s,
    prefill_tokens_per_s,
    roofline_requests_per_s,
    serving_profile,
    weights_gib,
)
from archipel.spec.models import MeasuredThroughput, ModelSpec, RequestClass

DEFAULT = RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)
CHAT = RequestClass(name="chat", share=0.5, input_tokens=1000, output_tokens=250)
RAG = RequestClass(name="rag", share=0.5, input_tokens=8000, output_tokens=100)
LLAMA70 = ModelSpec(id="llama-70b", parameters_b=70)


def test_weights_gib_70b_bf16() -> None:
    """70 × 10^9 × 2 bytes = 1.4 × 10^11 bytes / 2^30 = 130.385 GiB."""
    assert weights_gib(LLAMA70) == pytest.approx(130.385160446, rel=1e-9)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # 130.385 × 1.2 = 156.46 GiB. H100: 0.9·2·80 = 144 < 156.46 ≤ 0.9·4·80 = 288 → 4.
        ("H100", 4),
        # H200: 0.9·141 = 126.9 < 156.46 ≤ 0.9·2·141 = 253.8 → 2.
        ("H200", 2),
        # MI300X: 0.9·192 = 172.8 ≥ 156.46 → 1.
        ("MI300X", 1),
        # L4: 0.9·8·24 = 172.8 ≥ 156.46 and 0.9·4·24 = 86.4 < 156.46 → 8.
        ("L4", 8),
        # Aliases resolve to the same chip.
        ("h100-sxm", 4),
        ("tpu-v5litepod-8", 16),  # TPU-v5e: 0.9·16·16 = 230.4 ≥ 156.46, 0.9·8·16 = 115.2 < → 16
    ],
)
def test_accelerators_per_replica_70b(name: str, expected: int) -> None:
    """Smallest power of two n with 156.46 GiB ≤ 0.9 · n · mem_gib (see each case)."""
    assert accelerators_per_replica(LLAMA70, name) == expected


def test_accelerators_per_replica_does_not_fit() -> None:
    """A 1000B model needs 1862.6 × 1.2 = 2235.2 GiB; 4 L4 hold 86.4 GiB → None at max_chips=4.

    With the default max of 64: 0.9 · 64 · 24 = 1382.4 < 2235.2 → still None.
    """
    big = ModelSpec(id="big", parameters_b=1000)
    assert accelerators_per_replica(big, "L4", max_chips=4) is None
    assert accelerators_per_replica(big, "L4") is None
    assert serving_profile(big, "L4", [DEFAULT]) is None


def test_accelerators_per_replica_knobs() -> None:
    """Overhead 0 and all memory usable: 130.385 ≤ 2·80 = 160 → 2 H100 (not 4)."""
    assert accelerators_per_replica(LLAMA70, "H100", overhead=0.0, usable=1.0) == 2


def test_roofline_70b_on_h100() -> None:
    """70B dense, bf16, k = 4 H100, MFU 0.4, batch 64.

    prefill = 4 · 989e12 · 0.4 / (2 · 70e9) = 1.5824e15 / 1.4e11 = 11302.857 tokens/s.
    decode  = min(11302.857, 64 · 4 · 3.35e12 · 0.8 / 1.4e11 = 4900.571) = 4900.571 tokens/s.
    default class (1000 in, 250 out): 1 / (1000/11302.857 + 250/4900.571)
            = 1 / (0.0884730 + 0.0510146) = 1 / 0.1394876 = 7.16909 requests/s.
    rag class (8000 in, 100 out): 1 / (0.7077856 + 0.0204058) = 1 / 0.7281914 = 1.373265.
    """
    profile = serving_profile(LLAMA70, "H100", [DEFAULT, RAG])
    assert profile is not None
    assert (profile.accelerator, profile.accelerators_per_replica, profile.source) == (
        "H100",
        4,
        "roofline",
    )
    assert profile.requests_per_s_per_replica == pytest.approx(
        {"default": 7.16909273, "rag": 1.373265}
    )
    assert prefill_tokens_per_s(70e9, 4, 989) == pytest.approx(11302.857142857)
    assert decode_tokens_per_s(70e9, 140e9, 4, 989, 3.35) == pytest.approx(4900.571428571)


def test_roofline_70b_on_h200() -> None:
    """k = 2 H200: prefill = 2 · 989e12 · 0.4 / 1.4e11 = 5651.429 tokens/s;
    decode = min(5651.429, 64 · 2 · 4.8e12 · 0.8 / 1.4e11 = 3510.857) = 3510.857 tokens/s;
    default: 1 / (1000/5651.429 + 250/3510.857) = 1 / (0.176946 + 0.071208) = 4.02975 requests/s.
    """
    profile = serving_profile(LLAMA70, "h200-sxm", [DEFAULT])
    assert profile is not None
    assert profile.accelerator == "H200"
    assert profile.accelerators_per_replica == 2
    assert profile.requests_per_s_per_replica["default"] == pytest.approx(4.0297542)


def test_decode_compute_bound_at_large_batch() -> None:
    """Dense model on H100: memory bound > compute bound when B > 989·0.4·2 / (1.6·3.35) = 147.6.

    At B = 256 decode = compute bound = 1 · 989e12 · 0.4 / (2 · 8e9) = 24725 tokens/s.
    """
    assert decode_tokens_per_s(8e9, 16e9, 1, 989, 3.35, batch=256) == pytest.approx(24725.0)
    assert decode_tokens_per_s(8e9, 16e9, 1, 989, 3.35, batch=64) == pytest.approx(
        64 * 3.35e12 * 0.8 / 16e9
    )


def test_mixture_of_experts_uses_active_parameters_for_compute() -> None:
    """47B total / 13B active, bf16 on H100. Weights 94e9 B = 87.544 GiB, × 1.2 = 105.05 GiB:
    0.9·80 = 72 < 105.05 ≤ 144 → k = 2 (memory by total parameters).

    prefill = 2 · 989e12 · 0.4 / (2 · 13e9) = 30430.77 tokens/s (compute by active parameters);
    decode = min(30430.77, 64 · 2 · 3.35e12 · 0.8 / 94e9 = 3649.36) = 3649.36 tokens/s
    (every expert's weights are read per step).
    default: 1 / (1000/30430.77 + 250/3649.36) = 1 / (0.032862 + 0.068505) = 9.86518 requests/s.
    """
    moe = ModelSpec(id="moe", parameters_b=47, active_parameters_b=13)
    profile = serving_profile(moe, "H100", [DEFAULT])
    assert profile is not None
    assert profile.accelerators_per_replica == 2
    assert profile.requests_per_s_per_replica["default"] == pytest.approx(9.8651818)
    dense = ModelSpec(id="dense", parameters_b=47)
    dense_profile = serving_profile(dense, "H100", [DEFAULT])
    assert dense_profile is not None
    assert (
        profile.requests_per_s_per_replica["default"]
        > (dense_profile.requests_per_s_per_replica["default"])
    )


def test_measured_overrides_roofline_for_every_class() -> None:
    """A class-wide measurement on 'H100-SXM' (alias) applies to both classes on 'h100-80gb'."""
    model = LLAMA70.model_copy(
        update={
            "throughput": [
                MeasuredThroughput(
                    accelerator="H100-SXM",
                    accelerators_per_replica=8,
                    requests_per_s_per_replica=20,
                )
            ]
        }
    )
    profile = serving_profile(model, "h100-80gb", [CHAT, RAG])
    assert profile == ServingProfile("H100", 8, {"chat": 20.0, "rag": 20.0}, "measured")
    # Another accelerator is not affected.
    other = serving_profile(model, "H200", [CHAT])
    assert other is not None
    assert other.source == "roofline"


def test_measured_partial_classes_use_roofline_at_measured_k() -> None:
    """chat is measured at 3.5 requests/s on k = 8 H100; rag is not measured, so it gets the
    roofline at k = 8 (twice the k = 4 rate: both prefill and decode bounds scale with k):
    2 × 1.373265 = 2.746531 requests/s.
    """
    model = LLAMA70.model_copy(
        update={
            "throughput": [
                MeasuredThroughput(
                    accelerator="H100",
                    accelerators_per_replica=8,
                    request_class="chat",
                    requests_per_s_per_replica=3.5,
                )
            ]
        }
    )
    profile = serving_profile(model, "H100", [CHAT, RAG])
    assert profile is not None
    assert profile.source == "measured"
    assert profile.accelerators_per_replica == 8
    assert profile.requests_per_s_per_replica["chat"] == 3.5
    assert profile.requests_per_s_per_replica["rag"] == pytest.approx(2.746531)


def test_measured_class_specific_beats_class_wide() -> None:
    """A class's own entry wins over a class-wide one; a class-wide entry fills the rest."""
    model = LLAMA70.model_copy(
        update={
            "throughput": [
                MeasuredThroughput(
                    accelerator="H100", accelerators_per_replica=4, requests_per_s_per_replica=9
                ),
                MeasuredThroughput(
                    accelerator="H100",
                    accelerators_per_replica=4,
                    request_class="rag",
                    requests_per_s_per_replica=1.5,
                ),
            ]
        }
    )
    profile = serving_profile(model, "H100", [CHAT, RAG])
    assert profile == ServingProfile("H100", 4, {"chat": 9.0, "rag": 1.5}, "measured")


def test_measured_for_another_class_is_ignored() -> None:
    """A measurement for a class the service does not have leaves the roofline in place."""
    model = LLAMA70.model_copy(
        update={
            "throughput": [
                MeasuredThroughput(
                    accelerator="H100",
                    accelerators_per_replica=8,
                    request_class="batch",
                    requests_per_s_per_replica=3.5,
                )
            ]
        }
    )
    profile = serving_profile(model, "H100", [DEFAULT])
    assert profile is not None
    assert profile.source == "roofline"
    assert profile.accelerators_per_replica == 4


def test_measured_k_trusted_where_memory_estimate_does_not_fit() -> None:
    """A 70B model at 4-bit (35e9 B = 32.6 GiB × 1.2 = 39.1 GiB) does not fit 0.9 · 24 = 21.6
    GiB on one L4 by the estimate (k = 2), but a measured k = 1 is taken as given."""
    model = LLAMA70.model_copy(
        update={
            "bytes_per_parameter": 0.5,
            "throughput": [
                MeasuredThroughput(
                    accelerator="L4", accelerators_per_replica=1, requests_per_s_per_replica=0.4
                )
            ],
        }
    )
    assert accelerators_per_replica(model, "L4") == 2
    assert serving_profile(model, "L4", [DEFAULT]) == ServingProfile(
        "L4", 1, {"default": 0.4}, "measured"
    )


def test_node_requests_per_s() -> None:
    """8 accelerators per node, k = 4 → 2 replicas: 2 × 7.16909 = 14.33818 requests/s;
    k = 4 on a 2-accelerator node (a replica spans nodes) → 0.5 × 7.16909 = 3.58455."""
    profile = ServingProfile("H100", 4, {"default": 7.16909}, "roofline")
    assert node_requests_per_s(profile, 8) == {"default": pytest.approx(14.33818)}
    assert node_requests_per_s(profile, 2) == {"default": pytest.approx(3.584545)}


def test_unknown_accelerator_and_bad_knobs() -> None:
    with pytest.raises(UnknownNameError):
        serving_profile(LLAMA70, "H1000", [DEFAULT])
    with pytest.raises(ValueError, match="mfu"):
        serving_profile(LLAMA70, "H100", [DEFAULT], mfu=0.0)
    with pytest.raises(ValueError, match="batch"):
        serving_profile(LLAMA70, "H100", [DEFAULT], batch=0)


def test_zero_input_tokens() -> None:
    """No prompt: the rate is decode-only, 4900.571 / 250 = 19.60229 requests/s (70B, 4 H100)."""
    gen = RequestClass(name="gen", share=1.0, input_tokens=0, output_tokens=250)
    rates = roofline_requests_per_s(LLAMA70, "H100", 4, [gen])
    assert rates["gen"] == pytest.approx(19.602285714)


# --------------------------------------------------------------------------- properties

models = st.builds(
    lambda p, frac, b: ModelSpec(
        id="m", parameters_b=p, active_parameters_b=p * frac, bytes_per_parameter=b
    ),
    st.floats(0.1, 2000.0),
    st.floats(0.01, 1.0),
    st.sampled_from([0.5, 1.0, 2.0, 4.0]),
)
classes = st.builds(
    lambda i, o: RequestClass(name="c", share=1.0, input_tokens=i, output_tokens=o),
    st.integers(0, 100_000),
    st.integers(1, 10_000),
)
accelerator_names = st.sampled_from(sorted(ACCELERATORS))


@given(models, accelerator_names, classes, st.integers(0, 5), st.integers(1, 1024))
def test_more_chips_never_lower_replica_throughput(
    model: ModelSpec, name: str, cls: RequestClass, log2_k: int, batch: int
) -> None:
    k = 2**log2_k
    fewer = roofline_requests_per_s(model, name, k, [cls], batch=batch)["c"]
    more = roofline_requests_per_s(model, name, 2 * k, [cls], batch=batch)["c"]
    assert more >= fewer * (1 - 1e-12)


@given(
    st.floats(1e8, 1e13),
    st.floats(1e8, 1e13),
    st.integers(1, 64),
    st.floats(1.0, 5000.0),
    st.floats(0.1, 10.0),
    st.floats(0.0, 10.0),
    st.integers(1, 1024),
)
def test_more_bandwidth_never_lowers_decode_rate(
    active: float, wbytes: float, k: int, peak: float, bw: float, extra: float, batch: int
) -> None:
    slow = decode_tokens_per_s(active, wbytes, k, peak, bw, batch=batch)
    fast = decode_tokens_per_s(active, wbytes, k, peak, bw + extra, batch=batch)
    assert fast >= slow


@given(models, classes)
def test_every_accelerator_gives_finite_positive_rate_when_model_fits(
    model: ModelSpec, cls: RequestClass
) -> None:
    for name in ACCELERATORS:
        profile = serving_profile(model, name, [cls])
        if profile is None:
            assert accelerators_per_replica(model, name) is None
            continue
        assert profile.source == "roofline"
        assert profile.accelerators_per_replica & (profile.accelerators_per_replica - 1) == 0
        rate = profile.requests_per_s_per_replica["c"]
        assert math.isfinite(rate)
        assert rate > 0


def test_small_model_fits_everywhere() -> None:
    """An 8B bf16 model (14.9 GiB × 1.2 = 17.9 GiB) fits on every accelerator in the table."""
    small = ModelSpec(id="small", parameters_b=8)
    for name in ACCELERATORS:
        profile = serving_profile(small, name, [DEFAULT])
        assert profile is not None, name
        assert profile.requests_per_s_per_replica["default"] > 0
