"""Serving estimates: how many accelerators hold a replica, and how many requests/s it serves.

These are the reference estimates of DESIGN.md ("Reference estimates"); docs/estimates.md states
them with their defaults. Measured figures in the spec (``ModelSpec.throughput``) replace them,
and a :class:`ServingProfile` says which of the two it carries (``source``).

All functions are pure: they take spec values and accelerator facts and return numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from archipel.perf.accelerators import Accelerator, accelerator, canonical_name
from archipel.spec.models import MeasuredThroughput, ModelSpec, RequestClass

GIB_BYTES = 2**30
TERA = 1e12
DECODE_BANDWIDTH_EFFICIENCY = 0.8  # share of peak memory bandwidth a decode step achieves
DEFAULT_OVERHEAD = 0.2  # KV cache and activations, as a share of the weights
DEFAULT_USABLE = 0.9  # share of accelerator memory usable by the serving stack
DEFAULT_MAX_CHIPS = 64
DEFAULT_MFU = 0.4
DEFAULT_BATCH = 64


@dataclass(frozen=True)
class ServingProfile:
    """Accelerators per replica and requests/s per replica for each request class."""

    accelerator: str  # canonical name from the facts table
    accelerators_per_replica: int
    requests_per_s_per_replica: dict[str, float]  # per request class name
    source: Literal["measured", "roofline"]


def weights_gib(model: ModelSpec) -> float:
    """Memory the weights take: parameters_b × 10^9 × bytes_per_parameter / 2^30 GiB."""
    return weight_bytes(model) / GIB_BYTES


def weight_bytes(model: ModelSpec) -> float:
    """Bytes of all weights (every expert of a mixture of experts included)."""
    return model.parameters_b * 1e9 * model.bytes_per_parameter


def active_parameters(model: ModelSpec) -> float:
    """Parameters used per token: ``active_parameters_b`` (mixture of experts) or all, × 10^9."""
    active_b = (
        model.active_parameters_b if model.active_parameters_b is not None else model.parameters_b
    )
    return active_b * 1e9


def accelerators_per_replica(
    model: ModelSpec,
    accelerator_name: str,
    overhead: float = DEFAULT_OVERHEAD,
    usable: float = DEFAULT_USABLE,
    max_chips: int = DEFAULT_MAX_CHIPS,
) -> int | None:
    """Smallest power of two n ≤ max_chips with weights × (1 + overhead) ≤ usable × n × mem_gib.

    None when even the largest power of two not above ``max_chips`` cannot hold the model.
    """
    mem_gib = accelerator(accelerator_name).mem_gib
    need_gib = weights_gib(model) * (1.0 + overhead)
    n = 1
    while n <= max_chips:
        if need_gib <= usable * n * mem_gib:
            return n
        n *= 2
    return None


def prefill_tokens_per_s(
    active_params: float, chips: int, peak_bf16_tflops: float, mfu: float = DEFAULT_MFU
) -> float:
    """Prompt tokens/s of one replica, compute-bound: k · peak · MFU / (2 · P_active)."""
    return chips * peak_bf16_tflops * TERA * mfu / (2.0 * active_params)


def decode_tokens_per_s(
    active_params: float,
    weight_bytes_total: float,
    chips: int,
    peak_bf16_tflops: float,
    mem_bw_tb_per_s: float,
    mfu: float = DEFAULT_MFU,
    batch: int = DEFAULT_BATCH,
) -> float:
    """Generated tokens/s of one replica at batch B (roofline).

    min(k · peak · MFU / (2 · P_active), B · k · bandwidth · 0.8 / weight_bytes): a decode step
    reads every weight once (all experts of a mixture of experts) and yields B tokens.
    """
    compute_bound = chips * peak_bf16_tflops * TERA * mfu / (2.0 * active_params)
    memory_bound = (
        batch * chips * mem_bw_tb_per_s * TERA * DECODE_BANDWIDTH_EFFICIENCY / weight_bytes_total
    )
    return min(compute_bound, memory_bound)


def requests_per_s(
    input_tokens: int, output_tokens: int, prefill_tps: float, decode_tps: float
) -> float:
    """Requests/s of one replica for one class: 1 / (input / prefill_tps + output / decode_tps)."""
    return 1.0 / (input_tokens / prefill_tps + output_tokens / decode_tps)


def roofline_requests_per_s(
    model: ModelSpec,
    accelerator_name: str,
    chips: int,
    classes: Sequence[RequestClass],
    mfu: float = DEFAULT_MFU,
    batch: int = DEFAULT_BATCH,
) -> dict[str, float]:
    """Roofline requests/s per replica of ``chips`` accelerators, per request class name."""
    _check_knobs(mfu, batch)
    acc = accelerator(accelerator_name)
    p_active = active_parameters(model)
    prefill = prefill_tokens_per_s(p_active, chips, acc.bf16_tflops, mfu)
    decode = decode_tokens_per_s(
        p_active, weight_bytes(model), chips, acc.bf16_tflops, acc.mem_bw_tb_per_s, mfu, batch
    )
    return {
        c.name: requests_per_s(c.input_tokens, c.output_tokens, prefill, decode) for c in classes
    }


def serving_profile(
    model: ModelSpec,
    accelerator_name: str,
    classes: Sequence[RequestClass],
    mfu: float = DEFAULT_MFU,
    batch: int = DEFAULT_BATCH,
) -> ServingProfile | None:
    """How ``model`` is served on ``accelerator_name`` (any alias), per request class.

    Roofline (source ``"roofline"``), with P = (active_parameters_b or parameters_b) × 10^9,
    k = :func:`accelerators_per_replica`, peak = BF16 TFLOP/s × 10^12, bandwidth = TB/s × 10^12,
    weight_bytes = parameters_b × 10^9 × bytes_per_parameter (all weights are read per decode
    step, even for a mixture of experts):

    - prefill_tps = k · peak · MFU / (2 · P)  (compute-bound, 2 · P FLOPs per prompt token);
    - decode_tps = min(k · peak · MFU / (2 · P), B · k · bandwidth · 0.8 / weight_bytes);
    - a request of class c occupies the replica's aggregate throughput for
      input_c / prefill_tps + output_c / decode_tps seconds, so
      requests_per_s_per_replica[c] = 1 / (input_c / prefill_tps + output_c / decode_tps).

    Measured (source ``"measured"``): the entries of ``model.throughput`` whose accelerator has
    the same canonical name and whose ``request_class`` is None (every class) or one of
    ``classes``. The first such entry (spec order) fixes k; entries with another k are ignored.
    A class takes the rate of its own entry, else of a class-wide entry; a class no entry covers
    gets the roofline rate at that measured k. A measured k is trusted even where the memory
    estimate would not fit the model.

    None when nothing is measured for this accelerator and the model does not fit on
    ``DEFAULT_MAX_CHIPS`` of them.
    """
    _check_knobs(mfu, batch)
    acc = accelerator(accelerator_name)
    measured = _matching_measurements(model, acc, classes)
    if measured:
        k = measured[0].accelerators_per_replica
        same_k = [m for m in measured if m.accelerators_per_replica == k]
        rates = roofline_requests_per_s(model, acc.name, k, classes, mfu, batch)
        class_wide = [m for m in same_k if m.request_class is None]
        for c in classes:
            own = [m for m in same_k if m.request_class == c.name]
            chosen = own or class_wide
            if chosen:
                rates[c.name] = chosen[0].requests_per_s_per_replica
        return ServingProfile(acc.name, k, rates, "measured")
    k_fit = accelerators_per_replica(model, acc.name)
    if k_fit is None:
        return None
    rates = roofline_requests_per_s(model, acc.name, k_fit, classes, mfu, batch)
    return ServingProfile(acc.name, k_fit, rates, "roofline")


def node_requests_per_s(profile: ServingProfile, accelerators_per_node: int) -> dict[str, float]:
    """Requests/s one node serves per class: (accelerators_per_node / k) × rate per replica."""
    replicas = accelerators_per_node / profile.accelerators_per_replica
    return {name: replicas * rate for name, rate in profile.requests_per_s_per_replica.items()}


def _matching_measurements(
    model: ModelSpec, acc: Accelerator, classes: Sequence[RequestClass]
) -> list[MeasuredThroughput]:
    names = {c.name for c in classes}
    return [
        m
        for m in model.throughput
        if (canonical_name(m.accelerator) or m.accelerator) == acc.name
        and (m.request_class is None or m.request_class in names)
    ]


def _check_knobs(mfu: float, batch: int) -> None:
    if not 0.0 < mfu <= 1.0:
        raise ValueError(f"mfu must be in (0, 1], got {mfu}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
