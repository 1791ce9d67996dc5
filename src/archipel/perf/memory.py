"""Memory of a serving replica: weights, key/value cache, activations, and the batch that fits.

A replica of k accelerators fits when

    weights + KV cache of its sequences + activation reserve ≤ usable = k · mem_gib · 2^30 · 0.9

with at least one sequence of the longest length it must serve (``context_length_tokens``, or a
request class's input + output if longer). Its operating batch is the largest B ≤ 64 whose KV
cache at the request-class mix fits. docs/estimates.md ("Memory") states each default's reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from archipel.perf.accelerators import Accelerator
from archipel.perf.architecture import Architecture
from archipel.spec.models import ModelSpec, RequestClass

GIB_BYTES = 2**30
USABLE_FRACTION = 0.9  # vLLM's default gpu_memory_utilization: CUDA context, NCCL, fragmentation
MAX_BATCH = 64  # the largest batch measured in the calibration data (Splitwise)
# Tokens per forward pass: vLLM's default max_num_batched_tokens for its OpenAI server on GPUs of
# 70 GiB or more (vllm/engine/arg_utils.py; 2048 below that).
PREFILL_CHUNK_TOKENS = 8192
ACTIVATION_BYTES = 2  # BF16 activations
# Activations live per token of a forward pass: the residual stream and its normalised copy on
# every accelerator (replicated under tensor parallelism), and about 12·d values shared out
# among them (q/k/v ≈ 1.25·d, attention output d, MLP gate, up and product ≈ 3 × 3.5·d).
ACTIVATION_REPLICATED_PER_ACCELERATOR = 2
ACTIVATION_SHARDED = 12


@dataclass(frozen=True, slots=True)
class Mix:
    """What the KV cache holds at a request-class mix.

    A class's sequences stay in the decode batch for as many steps as they generate tokens, so
    the batch holds classes in proportion to share × output_tokens (the weights w_c).
    """

    resident_tokens: float  # Σ w_c · (input_c + output_c): KV a sequence reserves, at the mix
    decode_context_tokens: float  # Σ w_c · (input_c + output_c / 2): KV a decode step reads
    longest_tokens: int  # max(context_length_tokens, input_c + output_c): must fit once


def mix(model: ModelSpec, classes: Sequence[RequestClass]) -> Mix:
    """The mix of ``classes``; where every share is 0, classes weigh by output tokens alone.

    Without classes, one sequence of ``context_length_tokens`` stands for the mix.
    """
    n = model.context_length_tokens
    if not classes:
        return Mix(float(n), float(n), n)
    weights = [c.share * c.output_tokens for c in classes]
    if sum(weights) <= 0.0:
        weights = [float(c.output_tokens) for c in classes]
    total = sum(weights)
    pairs = list(zip(weights, classes, strict=True))
    resident = sum(w * (c.input_tokens + c.output_tokens) for w, c in pairs) / total
    context = sum(w * (c.input_tokens + c.output_tokens / 2) for w, c in pairs) / total
    longest = max([n, *(c.input_tokens + c.output_tokens for c in classes)])
    return Mix(resident, context, longest)


def weight_bytes(model: ModelSpec) -> float:
    """Bytes of all weights (every expert of a mixture of experts included)."""
    return model.parameters_b * 1e9 * model.bytes_per_parameter


def activation_reserve_bytes(arch: Architecture, accelerators: int, tokens: int) -> float:
    """Activations of one forward pass of ``tokens`` tokens on ``accelerators`` accelerators.

    tokens · 2 bytes · d · (2 · k + 12) (module constants).
    """
    per_token = ACTIVATION_REPLICATED_PER_ACCELERATOR * accelerators + ACTIVATION_SHARDED
    return float(tokens) * ACTIVATION_BYTES * arch.hidden_size * per_token


def usable_bytes(acc: Accelerator, accelerators: int, usable_fraction: float) -> float:
    """k · mem_gib · 2^30 · usable_fraction."""
    return accelerators * acc.mem_gib * GIB_BYTES * usable_fraction


def kv_free_bytes(
    model: ModelSpec,
    arch: Architecture,
    acc: Accelerator,
    accelerators: int,
    *,
    forward_tokens: int = PREFILL_CHUNK_TOKENS,
    usable_fraction: float = USABLE_FRACTION,
) -> float:
    """Memory left for the KV cache: usable − weights − activation reserve (may be negative)."""
    return (
        usable_bytes(acc, accelerators, usable_fraction)
        - weight_bytes(model)
        - activation_reserve_bytes(arch, accelerators, forward_tokens)
    )


def operating_batch(
    model: ModelSpec,
    arch: Architecture,
    acc: Accelerator,
    accelerators: int,
    at: Mix,
    *,
    max_batch: int = MAX_BATCH,
    usable_fraction: float = USABLE_FRACTION,
) -> int:
    """Largest B ≤ max_batch with B · resident_tokens · kv_bytes_per_token ≤ the free memory.

    0 when the replica does not fit: when one sequence of ``longest_tokens`` does not.
    """
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, got {max_batch}")
    free = kv_free_bytes(model, arch, acc, accelerators, usable_fraction=usable_fraction)
    per_token = arch.kv_bytes_per_token
    if free < at.longest_tokens * per_token:
        return 0
    if at.resident_tokens <= 0.0:
        return max_batch
    return max(1, min(max_batch, math.floor(free / (at.resident_tokens * per_token))))


def smallest_fit(
    model: ModelSpec,
    arch: Architecture,
    acc: Accelerator,
    at: Mix,
    *,
    max_accelerators: int,
    usable_fraction: float = USABLE_FRACTION,
) -> int | None:
    """Smallest power of two k ≤ max_accelerators whose replica fits; None when none does."""
    k = 1
    while k <= max_accelerators:
        if operating_batch(model, arch, acc, k, at, usable_fraction=usable_fraction) > 0:
            return k
        k *= 2
    return None
