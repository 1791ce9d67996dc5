"""Serving profiles: replica size, requests/s per class, measured overrides and source labels.

Committed constants used by hand (archipel.perf.steptime, H100): m 0.677, γ 0.208, α′ 331 µs,
β′ 12.8 µs, η 0.873, α 148 µs, β 22 µs, s 3.87 µs; H100 facts 80 GiB, 989 TFLOP/s, 3.35 TB/s.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archipel.errors import UnknownNameError
from archipel.perf.accelerators import ACCELERATORS, Accelerator, accelerator
from archipel.perf.architecture import architecture, shaping_parameters
from archipel.perf.memory import weight_bytes
from archipel.perf.serving import (
    ServingProfile,
    accelerators_per_replica,
    node_requests_per_s,
    replica_estimate,
    serving_profile,
    weights_gib,
)
from archipel.perf.steptime import CALIBRATIONS, decode_step_time_s, prefill_time_s
from archipel.spec.models import MeasuredThroughput, ModelSpec, RequestClass

DEFAULT = RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)
CHAT = RequestClass(name="chat", share=0.5, input_tokens=1000, output_tokens=250)
RAG = RequestClass(name="rag", share=0.5, input_tokens=8000, output_tokens=100)
LLAMA2_70B = ModelSpec(
    id="llama2-70b", parameters_b=68.98, layers=80, hidden_size=8192, kv_heads=8, head_dim=128
)
M70 = ModelSpec(id="m70", parameters_b=70)


def test_weights_gib_70b_bf16() -> None:
    """70 × 10^9 × 2 bytes = 1.4 × 10^11 bytes / 2^30 = 130.385 GiB."""
    assert weights_gib(M70) == pytest.approx(130.385160446, rel=1e-9)


def test_llama2_70b_on_h100_by_hand() -> None:
    """k = 2, B = 35 (test_perf_memory), ctx = 1000 + 250/2 = 1125 tokens.

    decode: memory = (137.96e9 + 35·1125·327,680) / (2·3.35e12·0.873) = 150.8624e9 / 5.8491e12
    = 25.793 ms; compute = 35·(137.96e9 + 4·80·8192·1125) / (2·989e12·0.677) = 3.683 ms (below);
    overhead = 80·(148 + 22·1 + 3.87·35) µs = 24.436 ms → step 50.229 ms.
    prefill: (137.96e12 + 4·80·8192·1000²) / 1.339106e15 · (1 + 0.208) = 126.818 ms,
    + 80·(331 + 12.8) µs = 27.504 ms → 154.322 ms.
    T = 0.154322 + 250 · 0.050229 / 35 = 0.513101 s → 1.94893 requests/s; per accelerator
    0.97447 (k = 4 gives 3.195 / 4 = 0.799: k = 2 wins).
    """
    p = serving_profile(LLAMA2_70B, "H100", [DEFAULT])
    assert p is not None
    assert (p.accelerator, p.accelerators_per_replica, p.batch, p.source) == (
        "H100",
        2,
        35,
        "calibrated",
    )
    assert (p.min_accelerators_per_replica, p.constants_from) == (2, "H100")
    assert p.decode_step_s == pytest.approx(0.050229, rel=1e-4)
    assert p.prefill_s["default"] == pytest.approx(0.154322, rel=1e-4)
    assert p.requests_per_s_per_replica["default"] == pytest.approx(1.94893, rel=1e-4)
    assert p.requests_per_s_per_accelerator == pytest.approx(1.94893 / 2, rel=1e-4)
    # KV at the operating batch: 35 · 1250 · 327,680 B = 14.336e9 B = 13.351 GiB.
    assert p.kv_gib_per_replica == pytest.approx(14.336e9 / 2**30)


def test_rates_compose_prefill_and_shared_decode_steps() -> None:
    """requests/s of class c = 1 / (prefill(input_c) + output_c · step(B, ctx) / B), ctx the
    mix's mean context (chat and rag weighted 0.5·250 : 0.5·100 → 5/7 and 2/7)."""
    est = replica_estimate(M70, "H100", [CHAT, RAG], 4)
    assert est is not None
    arch = architecture(M70)
    c = CALIBRATIONS["H100"].constants
    acc = accelerator("H100")
    ctx = (5 * (1000 + 125) + 2 * (8000 + 50)) / 7
    step = decode_step_time_s(
        arch, shaping_parameters(M70), weight_bytes(M70), est.batch, ctx, 4, acc, c
    )
    assert est.decode_step_s == pytest.approx(step)
    for cls in (CHAT, RAG):
        prefill = prefill_time_s(arch, shaping_parameters(M70), cls.input_tokens, 4, acc, c)
        expected = 1.0 / (prefill + cls.output_tokens * step / est.batch)
        assert est.requests_per_s[cls.name] == pytest.approx(expected)
    mix = 1.0 / (0.5 / est.requests_per_s["chat"] + 0.5 / est.requests_per_s["rag"])
    assert est.mix_requests_per_s == pytest.approx(mix)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # 70B derived shape: weights 130.4 GiB, reserve 8192·2·9088·(2k + 12) B, one 8192-token
        # sequence 2.2 GiB. H100: 0.9·80 = 72 < 130.4; 2 → 144 ≥ 130.4 + 2.2 + 2.2 → 2.
        ("H100", 2),
        # H200: 0.9·141 = 126.9 < 130.4 → 2.
        ("H200", 2),
        # MI300X: 0.9·192 = 172.8 ≥ 130.4 + 2.2 + 1.9 → 1.
        ("MI300X", 1),
        # L4: 0.9·4·24 = 86.4 < 130.4; 0.9·8·24 = 172.8 ≥ 130.4 + 2.2 + 3.9 → 8.
        ("L4", 8),
        ("h100-sxm", 2),
    ],
)
def test_accelerators_per_replica_70b(name: str, expected: int) -> None:
    assert accelerators_per_replica(M70, name) == expected


def test_model_too_big_for_any_replica() -> None:
    """1000B BF16 = 1862.6 GiB; 64 L4 hold 0.9·64·24 = 1382.4 GiB → no replica, no profile."""
    big = ModelSpec(id="big", parameters_b=1000)
    assert accelerators_per_replica(big, "L4") is None
    assert serving_profile(big, "L4", [DEFAULT]) is None
    assert accelerators_per_replica(big, "L4", max_accelerators=4) is None


def test_max_accelerators_per_replica_caps_the_size() -> None:
    """Llama-2-70B needs 2 H100: a cap of 1 leaves no profile; a cap of 2 gives k = 2."""
    assert serving_profile(LLAMA2_70B, "H100", [DEFAULT], max_accelerators_per_replica=1) is None
    capped = serving_profile(LLAMA2_70B, "H100", [DEFAULT], max_accelerators_per_replica=2)
    assert capped is not None
    assert capped.accelerators_per_replica == 2


def test_source_labels() -> None:
    """H100 and A100-80GB are calibrated; H200 borrows H100's constants (estimated); a PCIe
    node makes a multi-accelerator replica estimated; a one-accelerator replica is not affected."""
    labels = {}
    for name in ("H100", "A100-80GB", "H200", "B200", "L4"):
        p = serving_profile(M70, name, [DEFAULT])
        assert p is not None
        labels[name] = (p.source, p.constants_from)
    assert labels == {
        "H100": ("calibrated", "H100"),
        "A100-80GB": ("calibrated", "A100-80GB"),
        "H200": ("estimated", "H100"),
        "B200": ("estimated", "H100"),
        "L4": ("estimated", "A100-80GB"),
    }
    pcie = serving_profile(M70, "H100", [DEFAULT], scale_up="pcie")
    assert pcie is not None
    assert pcie.source == "estimated"
    small = ModelSpec(id="small", parameters_b=8)
    single = serving_profile(small, "H100", [DEFAULT], scale_up="pcie")
    assert single is not None
    assert (single.accelerators_per_replica, single.source) == (1, "calibrated")


def test_pcie_never_raises_throughput() -> None:
    nvswitch = serving_profile(M70, "H100", [DEFAULT], scale_up="nvswitch")
    pcie = serving_profile(M70, "H100", [DEFAULT], scale_up="pcie")
    assert nvswitch is not None and pcie is not None
    assert pcie.requests_per_s_per_accelerator < nvswitch.requests_per_s_per_accelerator


def test_a_spec_declared_chip_is_used_as_given() -> None:
    """An Accelerator object (e.g. from the spec's accelerators:) needs no facts-table entry."""
    own = Accelerator("LabChip", "own", 96, 700, 3.0, "asic")
    p = serving_profile(M70, own, [DEFAULT])
    assert p is not None
    assert (p.accelerator, p.source, p.constants_from) == ("LabChip", "estimated", "H100")


def test_mixture_of_experts_prefills_by_active_parameters() -> None:
    """47B total / 13B active: the same memory as a 47B dense model, far less prefill compute."""
    moe = ModelSpec(id="moe", parameters_b=47, active_parameters_b=13)
    dense = ModelSpec(id="dense", parameters_b=47)
    p_moe = replica_estimate(moe, "H100", [DEFAULT], 2)
    p_dense = replica_estimate(dense, "H100", [DEFAULT], 2)
    assert p_moe is not None and p_dense is not None
    assert p_moe.prefill_s["default"] < p_dense.prefill_s["default"]
    assert p_moe.requests_per_s["default"] > p_dense.requests_per_s["default"]


def test_zero_input_tokens_is_decode_only() -> None:
    gen = RequestClass(name="gen", share=1.0, input_tokens=0, output_tokens=250)
    est = replica_estimate(M70, "H100", [gen], 2)
    assert est is not None
    assert est.prefill_s["gen"] == 0.0
    assert est.requests_per_s["gen"] == pytest.approx(est.batch / (250 * est.decode_step_s))


# --------------------------------------------------------------------------- measured


def _measured(*entries: MeasuredThroughput) -> ModelSpec:
    return M70.model_copy(update={"throughput": list(entries)})


def test_measured_overrides_the_estimate_for_every_class() -> None:
    """A class-wide measurement on 'H100-SXM' (alias) applies to both classes on 'h100-80gb'."""
    model = _measured(
        MeasuredThroughput(
            accelerator="H100-SXM", accelerators_per_replica=8, requests_per_s_per_replica=20
        )
    )
    p = serving_profile(model, "h100-80gb", [CHAT, RAG])
    assert p is not None
    assert (p.accelerator, p.accelerators_per_replica, p.source) == ("H100", 8, "measured")
    assert p.requests_per_s_per_replica == {"chat": 20.0, "rag": 20.0}
    assert p.requests_per_s_per_accelerator == pytest.approx(20.0 / 8)
    other = serving_profile(model, "H200", [CHAT])
    assert other is not None
    assert other.source == "estimated"


def test_measured_partial_classes_use_the_estimate_at_the_measured_k() -> None:
    model = _measured(
        MeasuredThroughput(
            accelerator="H100",
            accelerators_per_replica=8,
            request_class="chat",
            requests_per_s_per_replica=3.5,
        )
    )
    p = serving_profile(model, "H100", [CHAT, RAG])
    est = replica_estimate(M70, "H100", [CHAT, RAG], 8)
    assert p is not None and est is not None
    assert (p.source, p.accelerators_per_replica) == ("measured", 8)
    assert p.requests_per_s_per_replica["chat"] == 3.5
    assert p.requests_per_s_per_replica["rag"] == pytest.approx(est.requests_per_s["rag"])


def test_measured_class_specific_beats_class_wide() -> None:
    model = _measured(
        MeasuredThroughput(
            accelerator="H100", accelerators_per_replica=4, requests_per_s_per_replica=9
        ),
        MeasuredThroughput(
            accelerator="H100",
            accelerators_per_replica=4,
            request_class="rag",
            requests_per_s_per_replica=1.5,
        ),
    )
    p = serving_profile(model, "H100", [CHAT, RAG])
    assert p is not None
    assert p.requests_per_s_per_replica == {"chat": 9.0, "rag": 1.5}


def test_measured_for_another_class_is_ignored() -> None:
    model = _measured(
        MeasuredThroughput(
            accelerator="H100",
            accelerators_per_replica=8,
            request_class="batch",
            requests_per_s_per_replica=3.5,
        )
    )
    p = serving_profile(model, "H100", [DEFAULT])
    assert p is not None
    assert (p.source, p.accelerators_per_replica) == ("calibrated", 2)


def test_measured_k_trusted_where_the_memory_model_does_not_fit() -> None:
    """70B at 4 bits (32.6 GiB) does not fit one L4 (0.9 · 24 = 21.6 GiB), but a measured k = 1
    is taken as given; an unmeasured class would get the estimate at batch 1."""
    model = _measured(
        MeasuredThroughput(
            accelerator="L4", accelerators_per_replica=1, requests_per_s_per_replica=0.4
        )
    ).model_copy(update={"bytes_per_parameter": 0.5})
    assert accelerators_per_replica(model, "L4") == 2
    p = serving_profile(model, "L4", [DEFAULT])
    assert p is not None
    assert (p.accelerators_per_replica, p.requests_per_s_per_replica, p.source, p.batch) == (
        1,
        {"default": 0.4},
        "measured",
        1,
    )


def test_unknown_accelerator_and_bad_knobs() -> None:
    with pytest.raises(UnknownNameError):
        serving_profile(M70, "H1000", [DEFAULT])
    with pytest.raises(ValueError, match="max_batch"):
        serving_profile(M70, "H100", [DEFAULT], max_batch=0)
    with pytest.raises(ValueError, match="usable_fraction"):
        serving_profile(M70, "H100", [DEFAULT], usable_fraction=1.5)
    with pytest.raises(ValueError, match="max_accelerators_per_replica"):
        serving_profile(M70, "H100", [DEFAULT], max_accelerators_per_replica=0)


def test_profile_keeps_the_old_four_field_shape() -> None:
    """Callers that build a profile by hand (accelerator, k, rates, source) still can."""
    p = ServingProfile("H100", 4, {"default": 7.0}, "measured")
    assert (p.batch, p.min_accelerators_per_replica) == (1, None)


# --------------------------------------------------------------------------- properties

models = st.builds(
    lambda p, frac, b: ModelSpec(
        id="m", parameters_b=p, active_parameters_b=p * frac, bytes_per_parameter=b
    ),
    st.floats(0.5, 2000.0),
    st.floats(0.05, 1.0),
    st.sampled_from([0.5, 1.0, 2.0]),
)
inputs = st.integers(0, 30_000)
outputs = st.integers(1, 4_000)
chips = st.sampled_from(sorted(ACCELERATORS))
links = st.sampled_from(["", "nvswitch", "pcie", "nvlink-bridge"])


def _one(i: int, o: int) -> list[RequestClass]:
    return [RequestClass(name="c", share=1.0, input_tokens=i, output_tokens=o)]


@settings(max_examples=60)
@given(models, chips, inputs, st.integers(1, 5_000), outputs, links)
def test_more_input_tokens_never_raise_requests_per_s(
    model: ModelSpec, name: str, i: int, more: int, o: int, link: str
) -> None:
    """Per accelerator at the chosen k, and per replica at every fixed k."""
    few = serving_profile(model, name, _one(i, o), scale_up=link)
    many = serving_profile(model, name, _one(i + more, o), scale_up=link)
    if many is not None:
        assert few is not None
        assert many.requests_per_s_per_accelerator <= few.requests_per_s_per_accelerator * (
            1 + 1e-9
        )
    for k in (1, 2, 4, 8):
        a = replica_estimate(model, name, _one(i, o), k, scale_up=link)
        b = replica_estimate(model, name, _one(i + more, o), k, scale_up=link)
        if b is not None:
            assert a is not None
            assert b.requests_per_s["c"] <= a.requests_per_s["c"] * (1 + 1e-9)


@settings(max_examples=60)
@given(models, chips, inputs, outputs, st.integers(1, 2_000))
def test_more_output_tokens_never_raise_requests_per_s(
    model: ModelSpec, name: str, i: int, o: int, more: int
) -> None:
    few = serving_profile(model, name, _one(i, o))
    many = serving_profile(model, name, _one(i, o + more))
    if many is not None:
        assert few is not None
        assert many.requests_per_s_per_accelerator <= few.requests_per_s_per_accelerator * (
            1 + 1e-9
        )


@settings(max_examples=60)
@given(models, inputs, outputs, st.floats(0.0, 10.0), st.integers(0, 4))
def test_more_memory_bandwidth_never_lowers_throughput(
    model: ModelSpec, i: int, o: int, extra_tb_per_s: float, log2_k: int
) -> None:
    """An H100 with more bandwidth keeps H100's constants (it stays the nearest chip)."""
    h100 = accelerator("H100")
    faster = Accelerator("H100-fast", "test", 80, 989, 3.35 + extra_tb_per_s)
    k = 2**log2_k
    base = replica_estimate(model, h100, _one(i, o), k)
    fast = replica_estimate(model, faster, _one(i, o), k)
    assert (base is None) == (fast is None)
    if base is not None and fast is not None:
        assert fast.constants_from == "H100"
        assert fast.requests_per_s["c"] >= base.requests_per_s["c"] * (1 - 1e-12)


@settings(max_examples=40)
@given(models, chips, inputs, outputs, links)
def test_chosen_size_is_the_best_per_accelerator(
    model: ModelSpec, name: str, i: int, o: int, link: str
) -> None:
    """k is a power of two ≥ the smallest fit, ≤ 64, and no fitting size serves more requests/s
    per accelerator; rates are finite and positive; labels are the three public ones."""
    p = serving_profile(model, name, _one(i, o), scale_up=link)
    if p is None:
        assert accelerators_per_replica(model, name) is None or i + o > model.context_length_tokens
        return
    k = p.accelerators_per_replica
    assert k & (k - 1) == 0
    assert p.min_accelerators_per_replica is not None
    assert p.min_accelerators_per_replica <= k <= 64
    assert p.source in ("calibrated", "estimated")
    assert (p.source == "calibrated") <= (name in CALIBRATIONS)
    rate = p.requests_per_s_per_replica["c"]
    assert math.isfinite(rate) and rate > 0
    for e in range(7):
        other = replica_estimate(model, name, _one(i, o), 2**e, scale_up=link)
        if other is not None:
            assert other.mix_requests_per_s / 2**e <= p.requests_per_s_per_accelerator * (1 + 1e-9)


def test_small_model_fits_everywhere() -> None:
    """An 8B BF16 model (14.9 GiB) fits on every accelerator in the table."""
    small = ModelSpec(id="small", parameters_b=8)
    for name in ACCELERATORS:
        p = serving_profile(small, name, [DEFAULT])
        assert p is not None, name
        assert p.requests_per_s_per_replica["default"] > 0


@pytest.mark.parametrize(
    ("per_node", "replicas"),
    [(8, 2), (4, 1), (6, 1), (2, 0), (1, 0)],  # floor(n / 4) whole replicas
)
def test_node_hosts_whole_replicas(per_node: int, replicas: int) -> None:
    """k = 4 at 1.5 requests/s per replica: a node serves floor(n / 4) × 1.5 requests/s; a
    node smaller than a replica serves nothing (a replica never spans a fraction of a node)."""
    profile = ServingProfile("H100", 4, {"default": 1.5}, "calibrated")
    assert node_requests_per_s(profile, per_node) == {"default": pytest.approx(1.5 * replicas)}
