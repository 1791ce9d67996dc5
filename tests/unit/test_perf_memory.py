"""The replica memory model, with each figure worked out by hand in the docstrings.

Facts: A100-80GB and H100 80 GiB, H200 141 GiB (archipel.perf.accelerators). Usable memory is
k · mem_gib · 2^30 · 0.9; the activation reserve is 8192 tokens · 2 B · d · (2·k + 12).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.perf.accelerators import ACCELERATORS, Accelerator, accelerator
from archipel.perf.architecture import architecture
from archipel.perf.memory import (
    MAX_BATCH,
    activation_reserve_bytes,
    kv_free_bytes,
    mix,
    operating_batch,
    smallest_fit,
)
from archipel.spec.models import ModelSpec, RequestClass

LLAMA2_70B = ModelSpec(
    id="llama2-70b", parameters_b=68.98, layers=80, hidden_size=8192, kv_heads=8, head_dim=128
)
DEFAULT = RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)
CHAT = RequestClass(name="chat", share=0.8, input_tokens=1500, output_tokens=300)
AGENT = RequestClass(name="agent", share=0.2, input_tokens=12000, output_tokens=800)
FRONTIER = ModelSpec(
    id="frontier-x", parameters_b=400, bytes_per_parameter=1, context_length_tokens=131072
)


def test_mix_weights_classes_by_decode_time() -> None:
    """chat 0.8 × 300 = 240, agent 0.2 × 800 = 160 → weights 0.6 / 0.4.
    resident = 0.6 · 1800 + 0.4 · 12800 = 6200 tokens; decode context = 0.6 · 1650 + 0.4 · 12400
    = 5950; longest = max(131072, 1800, 12800) = 131072."""
    at = mix(FRONTIER, [CHAT, AGENT])
    assert at.resident_tokens == pytest.approx(6200)
    assert at.decode_context_tokens == pytest.approx(5950)
    assert at.longest_tokens == 131072


def test_mix_longest_class_beyond_context_length() -> None:
    """A class of 9000 + 500 tokens on an 8192-token model must still fit once: 9500."""
    long = RequestClass(name="long", share=1.0, input_tokens=9000, output_tokens=500)
    assert mix(LLAMA2_70B, [long]).longest_tokens == 9500


@pytest.mark.parametrize(
    ("k", "batch"),
    [
        # usable 0.9·80·2^30 = 77.31e9 < weights 137.96e9 → does not fit.
        (1, 0),
        # usable 154,618,822,656; reserve 8192·2·8192·16 = 2,147,483,648;
        # free = 154,618,822,656 − 137,960,000,000 − 2,147,483,648 = 14,511,339,008 B ≥ one
        # 8192-token sequence (8192 · 327,680 = 2,684,354,560 B);
        # B = floor(14,511,339,008 / (1250 · 327,680 = 409,600,000)) = floor(35.43) = 35.
        (2, 35),
        # free = 309,237,645,312 − 137.96e9 − 2,684,354,560 = 168,593,290,752 → 411 → cap 64.
        (4, 64),
        (8, 64),
    ],
)
def test_llama2_70b_on_80gb(k: int, batch: int) -> None:
    for name in ("A100-80GB", "H100"):
        acc = accelerator(name)
        at = mix(LLAMA2_70B, [DEFAULT])
        assert operating_batch(LLAMA2_70B, architecture(LLAMA2_70B), acc, k, at) == batch


def test_llama2_70b_free_memory_by_hand() -> None:
    """The k = 2 figure of the parametrized test, exactly."""
    acc = accelerator("H100")
    arch = architecture(LLAMA2_70B)
    assert activation_reserve_bytes(arch, 2, 8192) == 2_147_483_648
    assert kv_free_bytes(LLAMA2_70B, arch, acc, 2) == pytest.approx(14_511_339_008)


def test_llama2_70b_smallest_fit_is_two_on_80gb() -> None:
    at = mix(LLAMA2_70B, [DEFAULT])
    arch = architecture(LLAMA2_70B)
    for name in ("A100-80GB", "H100"):
        assert smallest_fit(LLAMA2_70B, arch, accelerator(name), at, max_accelerators=64) == 2


def test_400b_fp8_131k_context_on_8_h100() -> None:
    """frontier-x: derived L = 127, d = 16256, 8 KV heads of 128 → 520,192 B per token.
    8 × H100: usable 618,475,290,624; reserve 8192 · 2 · 16256 · 28 = 7,457,472,512;
    free = 618,475,290,624 − 400e9 − 7,457,472,512 = 211,017,818,112 B.
    One 131,072-token sequence takes 68,182,605,824 B: fits.
    B = floor(211,017,818,112 / (6200 · 520,192 = 3,225,190,400)) = floor(65.4) → cap 64.
    4 × H100: usable 309.2e9 < 400e9 weights → does not fit."""
    arch = architecture(FRONTIER)
    assert arch.kv_bytes_per_token == 520_192
    h100 = accelerator("H100")
    at = mix(FRONTIER, [CHAT, AGENT])
    assert kv_free_bytes(FRONTIER, arch, h100, 8) == pytest.approx(211_017_818_112)
    assert operating_batch(FRONTIER, arch, h100, 8, at) == 64
    assert operating_batch(FRONTIER, arch, h100, 4, at) == 0
    assert smallest_fit(FRONTIER, arch, h100, at, max_accelerators=64) == 8


def test_long_context_alone_can_refuse_a_replica() -> None:
    """frontier-x with a 1M-token context: one sequence is 1,048,576 · 520,192 = 545.5e9 B,
    more than the 211.0e9 B free on 8 × H100 → no fit, though the mix would fit 65 sequences."""
    model = FRONTIER.model_copy(update={"context_length_tokens": 1_048_576})
    arch = architecture(model)
    assert operating_batch(model, arch, accelerator("H100"), 8, mix(model, [CHAT, AGENT])) == 0


def test_max_batch_knob() -> None:
    at = mix(LLAMA2_70B, [DEFAULT])
    acc = accelerator("H100")
    arch = architecture(LLAMA2_70B)
    assert operating_batch(LLAMA2_70B, arch, acc, 4, at, max_batch=16) == 16
    with pytest.raises(ValueError, match="max_batch"):
        operating_batch(LLAMA2_70B, arch, acc, 4, at, max_batch=0)


# --------------------------------------------------------------------------- properties

models = st.builds(
    lambda p, b, ctx: ModelSpec(
        id="m", parameters_b=p, bytes_per_parameter=b, context_length_tokens=ctx
    ),
    st.floats(0.5, 2000.0),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.integers(1024, 262_144),
)
request_classes = st.builds(
    lambda i, o: RequestClass(name="c", share=1.0, input_tokens=i, output_tokens=o),
    st.integers(0, 50_000),
    st.integers(1, 5_000),
)
chips = st.sampled_from(sorted(ACCELERATORS))


@given(models, request_classes, chips, st.integers(0, 6))
def test_operating_batch_is_the_largest_that_fits(
    model: ModelSpec, cls: RequestClass, name: str, log2_k: int
) -> None:
    """B sequences fit and B + 1 do not (unless B is the cap); 0 exactly when one longest
    sequence does not fit."""
    k = 2**log2_k
    acc = accelerator(name)
    arch = architecture(model)
    at = mix(model, [cls])
    b = operating_batch(model, arch, acc, k, at)
    free = kv_free_bytes(model, arch, acc, k)
    per_seq = at.resident_tokens * arch.kv_bytes_per_token
    if b == 0:
        assert free < at.longest_tokens * arch.kv_bytes_per_token
        return
    assert b * per_seq <= free * (1 + 1e-12)
    assert b == MAX_BATCH or (b + 1) * per_seq > free


@given(models, request_classes, chips, st.floats(1.0, 4.0))
def test_more_memory_never_needs_more_accelerators(
    model: ModelSpec, cls: RequestClass, name: str, factor: float
) -> None:
    acc = accelerator(name)
    bigger = Accelerator("bigger", acc.vendor, acc.mem_gib * factor, acc.bf16_tflops, 1.0)
    arch = architecture(model)
    at = mix(model, [cls])
    small_k = smallest_fit(model, arch, acc, at, max_accelerators=64)
    big_k = smallest_fit(model, arch, bigger, at, max_accelerators=64)
    if small_k is not None:
        assert big_k is not None
        assert big_k <= small_k
        assert operating_batch(model, arch, bigger, small_k, at) >= operating_batch(
            model, arch, acc, small_k, at
        )
