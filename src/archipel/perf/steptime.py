"""Time of a prefill pass and of a decode step on a tensor-parallel replica of k accelerators.

The formulas (docs/estimates.md, "Step times"; P = active parameters, W = weight bytes, L layers,
d hidden size, peak = dense BF16 FLOP/s, BW = memory bandwidth in bytes/s, per accelerator):

    prefill(N tokens) = (2·P·N + 4·L·d·N²) / (k · peak · m) · (1 + γ·(k−1))
                        + L · (α' + β'·(k−1)) + link(N)
    decode(B, ctx)    = max((W + B·ctx·kv_bytes_per_token) / (k · BW · η),
                            B · (2·P + 4·L·d·ctx) / (k · peak · m))
                        + L · (α + β·(k−1) + B·s) + link(B)

4·L·d·N² is attention (QKᵀ and AV over N tokens, all heads). The constants (m, γ, α', β', η, α,
β, s) are fitted per accelerator to measured Llama-2-70B step times by
``tools/calibrate_serving.py`` and committed below; α, β, s and α', β' are per layer so they
carry to models of other depths. Other accelerators take the constants of the nearest calibrated
one (:func:`constants_for`).

link() is zero inside an NVSwitch-class scale-up domain (the calibration's DGX nodes). Over PCIe
(and across NVLink-bridged pairs) each layer's two all-reduces of tokens × d BF16 values move
2·(k−1)/k of their size per accelerator at the measured PCIe bus bandwidth instead of NVLink's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archipel.perf.accelerators import Accelerator
from archipel.perf.architecture import Architecture

TERA = 1e12
MICRO = 1e-6
ATTENTION_FLOPS_PER_TOKEN_PAIR_PER_D = 4  # QKᵀ and AV: 2 FLOPs per multiply-add, each N²·d
ACTIVATION_BYTES = 2  # all-reduces carry BF16 activations
ALLREDUCES_PER_LAYER = 2  # after attention and after the MLP (Megatron tensor parallelism)

# Measured all-reduce of 64 MiB (4,096 tokens × d 8,192 × 2 bytes) on 4 × A100 with nccl-tests:
# 11,369 µs over PCIe 4.0, 603 µs over NVLink 3.0; the same post measured vLLM 0.6.6 prefill of
# 4,096 tokens of Llama-3-70B at TP4 taking 878.57 ms with NVLink and 2,740.17 ms with
# NCCL_P2P_DISABLE=1 (Baobao Algorithm Notes, "Why NVLink Supercharges Llama 3 70B Inference",
# besthub.dev/articles/why-nvlink-supercharges-llama-3-70b-inference-a-deep-performance-
# breakdown-0a66f99f38b6; Chinese original at wxredian.com/art?id=8a534fbc49c04085a50a8ab73d9559fd).
# Bus bandwidth = 2·(k−1)/k · size / time.
_MEASURED_ALLREDUCE_BYTES = 4096 * 8192 * 2
_RING_SHARE_K4 = 2 * 3 / 4
PCIE_BUS_BYTES_PER_S = _RING_SHARE_K4 * _MEASURED_ALLREDUCE_BYTES / 11_369e-6  # ≈ 8.9 GB/s
NVLINK_BUS_BYTES_PER_S = _RING_SHARE_K4 * _MEASURED_ALLREDUCE_BYTES / 603e-6  # ≈ 167 GB/s

SCALE_UP_LINKS = ("nvswitch", "nvlink", "nvlink-bridge", "pcie", "neuronlink", "ici", "")


@dataclass(frozen=True, slots=True)
class ChipConstants:
    """Fitted efficiencies and overheads of one accelerator (module doc for the formulas)."""

    mfu: float  # m: achieved share of dense BF16 peak in prefill
    prefill_tp_loss: float  # γ: compute stretch per extra accelerator
    prefill_layer_us: float  # α'
    prefill_layer_per_extra_us: float  # β'
    bandwidth_efficiency: float  # η: achieved share of peak memory bandwidth in decode
    decode_layer_us: float  # α
    decode_layer_per_extra_us: float  # β
    decode_layer_per_sequence_us: float  # s


@dataclass(frozen=True, slots=True)
class Calibration:
    """Constants fitted to one accelerator's measurements, with the facts the fit used."""

    accelerator: str
    mem_gib: float
    bf16_tflops: float
    mem_bw_tb_per_s: float
    constants: ChipConstants


# Fitted by `python tools/calibrate_serving.py` on 2026-11-30 to
# /work/shared/data/perf/splitwise/perf_model.csv (Mutinifni/splitwise-sim @ 8f99e7dc,
# data/perf_model.csv, MIT): llama2-70b on DGX-A100 (a100-80gb) and DGX-H100 (h100-80gb),
# tensor parallel 2/4/8, median of the repeats of each configuration.
CALIBRATION_SOURCE = "Mutinifni/splitwise-sim @ 8f99e7dc, data/perf_model.csv"
CALIBRATION_DATE = "2026-11-30"
CALIBRATIONS: dict[str, Calibration] = {
    c.accelerator: c
    for c in (
        Calibration(
            "A100-80GB",
            80,
            312,
            2.039,
            ChipConstants(0.734, 0.142, 382.0, 1.97, 0.912, 220.6, 31.3, 4.66),
        ),
        Calibration(
            "H100",
            80,
            989,
            3.35,
            ChipConstants(0.677, 0.208, 331.0, 12.8, 0.873, 148.0, 22.0, 3.87),
        ),
    )
}


def is_calibrated(acc: Accelerator) -> bool:
    """True when ``acc`` is a calibrated chip with the same facts the fit used."""
    cal = CALIBRATIONS.get(acc.name)
    return cal is not None and (cal.mem_gib, cal.bf16_tflops, cal.mem_bw_tb_per_s) == (
        acc.mem_gib,
        acc.bf16_tflops,
        acc.mem_bw_tb_per_s,
    )


def nearest_calibration(acc: Accelerator) -> Calibration:
    """The calibrated chip nearest ``acc``: least |ln(peak ratio)| + |ln(bandwidth ratio)|."""
    if is_calibrated(acc):
        return CALIBRATIONS[acc.name]

    def distance(cal: Calibration) -> float:
        return abs(math.log(acc.bf16_tflops / cal.bf16_tflops)) + abs(
            math.log(acc.mem_bw_tb_per_s / cal.mem_bw_tb_per_s)
        )

    return min(CALIBRATIONS.values(), key=lambda c: (distance(c), c.accelerator))


def link_penalised(scale_up: str, accelerators: int) -> bool:
    """Whether tensor-parallel traffic crosses PCIe: ``pcie`` with k ≥ 2, ``nvlink-bridge`` with
    k > 2 (pairs are bridged); every other link (NVSwitch, NVLink, NeuronLink, ICI, unknown) is
    taken as the calibration's NVSwitch."""
    link = scale_up.strip().lower()
    if link == "pcie":
        return accelerators >= 2
    if link == "nvlink-bridge":
        return accelerators > 2
    return False


def link_time_s(arch: Architecture, tokens: float, accelerators: int, scale_up: str) -> float:
    """Extra all-reduce time over PCIe for one forward pass of ``tokens`` tokens (module doc)."""
    if not link_penalised(scale_up, accelerators):
        return 0.0
    k = accelerators
    moved = ALLREDUCES_PER_LAYER * arch.layers * tokens * arch.hidden_size * ACTIVATION_BYTES
    moved *= 2.0 * (k - 1) / k
    return moved * (1.0 / PCIE_BUS_BYTES_PER_S - 1.0 / NVLINK_BUS_BYTES_PER_S)


def prefill_time_s(
    arch: Architecture,
    active_params: float,
    tokens: float,
    accelerators: int,
    acc: Accelerator,
    c: ChipConstants,
    scale_up: str = "",
) -> float:
    """Seconds of one prefill pass over ``tokens`` tokens (0 for none); module doc formula."""
    if tokens <= 0:
        return 0.0
    k = accelerators
    flops = 2.0 * active_params * tokens + (
        ATTENTION_FLOPS_PER_TOKEN_PAIR_PER_D * arch.layers * arch.hidden_size * tokens**2
    )
    compute = flops / (k * acc.bf16_tflops * TERA * c.mfu) * (1.0 + c.prefill_tp_loss * (k - 1))
    overhead = arch.layers * (c.prefill_layer_us + c.prefill_layer_per_extra_us * (k - 1)) * MICRO
    return compute + overhead + link_time_s(arch, tokens, k, scale_up)


def decode_step_time_s(
    arch: Architecture,
    active_params: float,
    weight_bytes: float,
    batch: int,
    context_tokens: float,
    accelerators: int,
    acc: Accelerator,
    c: ChipConstants,
    scale_up: str = "",
) -> float:
    """Seconds of one decode step of ``batch`` sequences of ``context_tokens`` tokens each."""
    k = accelerators
    kv = batch * context_tokens * arch.kv_bytes_per_token
    memory = (weight_bytes + kv) / (k * acc.mem_bw_tb_per_s * TERA * c.bandwidth_efficiency)
    flops = batch * (
        2.0 * active_params
        + ATTENTION_FLOPS_PER_TOKEN_PAIR_PER_D * arch.layers * arch.hidden_size * context_tokens
    )
    compute = flops / (k * acc.bf16_tflops * TERA * c.mfu)
    per_layer = (
        c.decode_layer_us
        + c.decode_layer_per_extra_us * (k - 1)
        + c.decode_layer_per_sequence_us * batch
    )
    overhead = arch.layers * per_layer * MICRO
    return max(memory, compute) + overhead + link_time_s(arch, batch, k, scale_up)
