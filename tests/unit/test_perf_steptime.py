"""Step-time formulas by hand, the PCIe penalty against its cited measurement, and the choice of
constants for chips that were not calibrated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archipel.perf.accelerators import ACCELERATORS, Accelerator, accelerator
from archipel.perf.architecture import Architecture
from archipel.perf.steptime import (
    CALIBRATIONS,
    NVLINK_BUS_BYTES_PER_S,
    PCIE_BUS_BYTES_PER_S,
    ChipConstants,
    decode_step_time_s,
    is_calibrated,
    link_penalised,
    link_time_s,
    nearest_calibration,
    prefill_time_s,
)

# Round numbers so each figure can be checked by hand.
ARCH = Architecture(layers=10, hidden_size=1000, kv_heads=1, head_dim=100, kv_bytes_per_value=2)
CHIP = Accelerator("X", "test", 80, 100, 1.0)  # 100 TFLOP/s, 1 TB/s
C = ChipConstants(
    mfu=0.5,
    prefill_tp_loss=0.1,
    prefill_layer_us=100,
    prefill_layer_per_extra_us=10,
    bandwidth_efficiency=0.5,
    decode_layer_us=100,
    decode_layer_per_extra_us=10,
    decode_layer_per_sequence_us=1,
)


def test_prefill_by_hand() -> None:
    """N = 1000 tokens, P = 1e9, k = 2: FLOPs = 2·1e9·1000 + 4·10·1000·1000² = 2.04e12;
    compute = 2.04e12 / (2 · 100e12 · 0.5) · (1 + 0.1) = 0.02244 s;
    overhead = 10 · (100 + 10) µs = 0.0011 s → 0.02354 s. No prompt: 0."""
    assert prefill_time_s(ARCH, 1e9, 1000, 2, CHIP, C) == pytest.approx(0.02354)
    assert prefill_time_s(ARCH, 1e9, 0, 2, CHIP, C) == 0.0


def test_decode_by_hand() -> None:
    """B = 10, ctx 500, W = 2e9 B, k = 2; KV 2·10·1·100·2 = 4000 B/token.
    memory = (2e9 + 10·500·4000) / (2 · 1e12 · 0.5) = 2.02e-3 s;
    compute = 10 · (2e9 + 4·10·1000·500) / (2 · 100e12 · 0.5) = 2.02e-4 s (below memory);
    overhead = 10 · (100 + 10 + 1·10) µs = 1.2e-3 s → 3.22e-3 s."""
    assert ARCH.kv_bytes_per_token == 4000
    assert decode_step_time_s(ARCH, 1e9, 2e9, 10, 500, 2, CHIP, C) == pytest.approx(3.22e-3)


def test_decode_compute_bound_when_weights_are_small() -> None:
    """W = 1e8 B, B = 100: memory = (1e8 + 100·500·4000)/1e12 = 3e-4 s; compute =
    100·2.02e9/1e14 = 2.02e-3 s binds; overhead 10·(100 + 10 + 100) µs = 2.1e-3 → 4.12e-3 s."""
    assert decode_step_time_s(ARCH, 1e9, 1e8, 100, 500, 2, CHIP, C) == pytest.approx(4.12e-3)


def test_pcie_penalty_reproduces_its_source() -> None:
    """The cited measurement: Llama-3-70B (80 layers, d 8192) at TP4, 4096-token prefill took
    2740.17 ms with NVLink disabled and 878.57 ms with it: 1861.6 ms more. The model adds
    2 · 80 · 4096 · 8192 · 2 · 1.5 B · (1/PCIe − 1/NVLink) ≈ 1.72 s: within 10 %."""
    llama3 = Architecture(80, 8192, 8, 128, 2)
    extra = link_time_s(llama3, 4096, 4, "pcie")
    assert extra == pytest.approx(1.8616, rel=0.10)
    bus = (PCIE_BUS_BYTES_PER_S, NVLINK_BUS_BYTES_PER_S)
    assert bus == pytest.approx((8.854e9, 1.669e11), rel=1e-3)


@pytest.mark.parametrize(
    ("link", "k", "penalised"),
    [
        ("pcie", 1, False),
        ("pcie", 2, True),
        ("PCIe", 8, True),
        ("nvlink-bridge", 2, False),
        ("nvlink-bridge", 4, True),
        ("nvswitch", 8, False),
        ("nvlink", 8, False),
        ("neuronlink", 16, False),
        ("ici", 8, False),
        ("", 8, False),
        ("custom", 8, False),
    ],
)
def test_which_links_are_penalised(link: str, k: int, penalised: bool) -> None:
    assert link_penalised(link, k) is penalised
    extra = link_time_s(ARCH, 100, k, link)
    assert (extra > 0) is penalised
    assert prefill_time_s(ARCH, 1e9, 100, k, CHIP, C, link) == pytest.approx(
        prefill_time_s(ARCH, 1e9, 100, k, CHIP, C) + extra
    )


def test_calibration_records_match_the_facts_table() -> None:
    """The committed constants were fitted with these facts; if the table changes, re-fit."""
    for name, cal in CALIBRATIONS.items():
        acc = accelerator(name)
        assert (acc.mem_gib, acc.bf16_tflops, acc.mem_bw_tb_per_s) == (
            cal.mem_gib,
            cal.bf16_tflops,
            cal.mem_bw_tb_per_s,
        )
        assert is_calibrated(acc)


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("H100", "H100"),
        ("A100-80GB", "A100-80GB"),
        ("H200", "H100"),  # |ln(989/989)| + |ln(4.8/3.35)| = 0.36 vs 1.15 + 0.86
        ("B200", "H100"),
        ("A100", "A100-80GB"),  # same peak, 1.555 vs 2.039 TB/s
        ("L4", "A100-80GB"),  # 0.95 + 1.92 = 2.86 vs 2.10 + 2.41
        ("TPU-v5e", "A100-80GB"),
        ("Trainium2", "H100"),  # 0.39 + 0.14 = 0.53 vs 0.76 + 0.35
        ("MI300X", "H100"),
    ],
)
def test_nearest_calibrated_chip(name: str, nearest: str) -> None:
    acc = accelerator(name)
    assert nearest_calibration(acc).accelerator == nearest
    assert is_calibrated(acc) is (name == nearest)


def test_a_chip_named_h100_with_other_facts_is_not_calibrated() -> None:
    """A spec redefining "H100" with another bandwidth gets H100's constants as an estimate."""
    fake = Accelerator("H100", "own", 80, 989, 2.0)
    assert not is_calibrated(fake)
    assert nearest_calibration(fake).accelerator == "H100"


# --------------------------------------------------------------------------- properties

chips = st.sampled_from(sorted(ACCELERATORS))


@given(
    chips,
    st.floats(0.0, 5.0),
    st.integers(1, 512),
    st.floats(0.0, 200_000.0),
    st.integers(0, 6),
    st.sampled_from(["", "pcie", "nvlink-bridge"]),
)
def test_more_bandwidth_never_slows_a_decode_step(
    name: str, extra_tb_per_s: float, batch: int, ctx: float, log2_k: int, link: str
) -> None:
    acc = accelerator(name)
    faster = Accelerator(
        acc.name, acc.vendor, acc.mem_gib, acc.bf16_tflops, acc.mem_bw_tb_per_s + extra_tb_per_s
    )
    c = nearest_calibration(acc).constants
    arch = Architecture(80, 8192, 8, 128, 2)
    k = 2**log2_k
    slow = decode_step_time_s(arch, 70e9, 140e9, batch, ctx, k, acc, c, link)
    fast = decode_step_time_s(arch, 70e9, 140e9, batch, ctx, k, faster, c, link)
    assert fast <= slow


@given(chips, st.integers(1, 256), st.floats(0.0, 100_000.0), st.integers(0, 6))
def test_time_per_sequence_never_rises_with_the_batch(
    name: str, batch: int, ctx: float, log2_k: int
) -> None:
    """decode_step(B) / B is non-increasing in B: each term is a + b·B over B."""
    acc = accelerator(name)
    c = nearest_calibration(acc).constants
    arch = Architecture(80, 8192, 8, 128, 2)
    k = 2**log2_k
    one = decode_step_time_s(arch, 70e9, 140e9, batch, ctx, k, acc, c) / batch
    more = decode_step_time_s(arch, 70e9, 140e9, batch + 1, ctx, k, acc, c) / (batch + 1)
    assert more <= one * (1 + 1e-12)


@given(chips, st.integers(1, 200_000), st.integers(1, 10_000), st.integers(0, 6))
def test_longer_prompts_never_prefill_faster(name: str, n: int, extra: int, log2_k: int) -> None:
    acc = accelerator(name)
    c = nearest_calibration(acc).constants
    arch = Architecture(80, 8192, 8, 128, 2)
    k = 2**log2_k
    assert prefill_time_s(arch, 70e9, n + extra, k, acc, c) > prefill_time_s(
        arch, 70e9, n, k, acc, c
    )
