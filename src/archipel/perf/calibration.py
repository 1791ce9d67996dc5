"""Calibration of the step-time constants against Splitwise's measured Llama-2-70B step times.

The measurements (Mutinifni/splitwise-sim ``data/perf_model.csv``) give, per model, hardware,
tensor parallelism k, prompt size, batch size and generated tokens, five repeats of
``prompt_time`` (the prefill pass of the batch's prompts, ms) and ``token_time`` (the mean
decode step while generating, ms). Every function here is pure: :func:`parse_splitwise` takes
the file's lines; ``tools/calibrate_serving.py`` reads the file and prints what these return.

Comparable rows: llama2-70b on ``a100-80gb`` (A100-80GB) and ``h100-80gb`` (H100 SXM), each
configuration's median over its repeats (prefill pooled over the generation lengths, which do
not change it). Not comparable, each with its reason (:func:`exclusion`):

- ``h100-80gb-pcap``: derived rows, not measurements: every prompt_time is exactly 1.3 × the
  h100-80gb row's and every token_time equals it (checked by :func:`power_capped_is_derived`).
- configurations the memory model says do not fit (weights + KV + activations above 90 % of
  memory): tensor parallel 2 at batch 64, whose prefill is 8 × faster than batch 32's.
- bloom-176b (tensor parallel 8 only): another model, kept as an out-of-sample check of the
  Llama-fitted constants, never fitted.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from archipel.perf.accelerators import accelerator
from archipel.perf.architecture import Architecture, architecture, shaping_parameters
from archipel.perf.memory import (
    GIB_BYTES,
    USABLE_FRACTION,
    activation_reserve_bytes,
    usable_bytes,
    weight_bytes,
)
from archipel.perf.steptime import (
    CALIBRATIONS,
    ChipConstants,
    decode_step_time_s,
    prefill_time_s,
)
from archipel.spec.models import ModelSpec

Phase = Literal["prefill", "decode"]

HARDWARE: dict[str, str] = {"a100-80gb": "A100-80GB", "h100-80gb": "H100"}
POWER_CAPPED = "h100-80gb-pcap"
POWER_CAP_PROMPT_FACTOR = 1.3
# Llama-2-70B's config.json (meta-llama/Llama-2-70b-hf): 80 layers, hidden 8192, 8 KV heads of
# 128; 68.98 billion parameters.
SPLITWISE_MODELS: dict[str, ModelSpec] = {
    "llama2-70b": ModelSpec(
        id="llama2-70b", parameters_b=68.98, layers=80, hidden_size=8192, kv_heads=8, head_dim=128
    ),
    # bigscience/bloom config.json: 70 layers, hidden 14336, 112 heads of 128 (no GQA).
    "bloom-176b": ModelSpec(
        id="bloom-176b",
        parameters_b=176.2,
        layers=70,
        hidden_size=14336,
        kv_heads=112,
        head_dim=128,
    ),
}
FITTED_MODEL = "llama2-70b"

# The error bands docs/estimates.md states for the committed constants over every comparable
# Llama-2-70B configuration (estimate / measurement − 1); the integration test asserts them.
STATED_BANDS: dict[Phase, tuple[float, float]] = {"prefill": (-0.31, 0.31), "decode": (-0.09, 0.09)}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the Splitwise file."""

    model: str
    hardware: str
    tensor_parallel: int
    prompt_tokens: int
    batch: int
    output_tokens: int
    prompt_ms: float
    token_ms: float


@dataclass(frozen=True, slots=True)
class Point:
    """A configuration's median measurement of one phase (output_tokens 0 for prefill)."""

    phase: Phase
    model: str
    hardware: str
    tensor_parallel: int
    prompt_tokens: int
    batch: int
    output_tokens: int
    measured_ms: float
    repeats: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """A point with the estimate for it, or the reason it is not compared."""

    point: Point
    estimated_ms: float
    excluded: str = ""  # reason; "" when compared

    @property
    def error(self) -> float:
        """estimate / measurement − 1."""
        return self.estimated_ms / self.point.measured_ms - 1.0


def parse_splitwise(lines: Iterable[str]) -> list[Row]:
    """Rows of the Splitwise CSV (header: model, hardware, prompt_size, batch_size, token_size,
    …, prompt_time, token_time, …, tensor_parallel)."""
    return [
        Row(
            r["model"],
            r["hardware"],
            int(r["tensor_parallel"]),
            int(r["prompt_size"]),
            int(r["batch_size"]),
            int(r["token_size"]),
            float(r["prompt_time"]),
            float(r["token_time"]),
        )
        for r in csv.DictReader(lines)
    ]


def power_capped_is_derived(rows: Iterable[Row]) -> bool:
    """True when every power-capped row is its h100-80gb twin with prompt_time × 1.3."""
    base: dict[tuple[str, int, int, int, int], list[Row]] = defaultdict(list)
    capped: dict[tuple[str, int, int, int, int], list[Row]] = defaultdict(list)
    for r in rows:
        key = (r.model, r.tensor_parallel, r.prompt_tokens, r.batch, r.output_tokens)
        if r.hardware == "h100-80gb":
            base[key].append(r)
        elif r.hardware == POWER_CAPPED:
            capped[key].append(r)
    if not capped or capped.keys() != base.keys():
        return False
    return all(
        len(capped[k]) == len(base[k])
        and all(
            abs(c.prompt_ms - POWER_CAP_PROMPT_FACTOR * b.prompt_ms) <= 1e-9 * c.prompt_ms
            and c.token_ms == b.token_ms
            for c, b in zip(capped[k], base[k], strict=True)
        )
        for k in capped
    )


def points(rows: Iterable[Row]) -> list[Point]:
    """Median per configuration: decode per (…, output_tokens), prefill pooled over it."""
    pre: dict[tuple[str, str, int, int, int], list[float]] = defaultdict(list)
    dec: dict[tuple[str, str, int, int, int, int], list[float]] = defaultdict(list)
    for r in rows:
        pre[(r.model, r.hardware, r.tensor_parallel, r.prompt_tokens, r.batch)].append(r.prompt_ms)
        dec[
            (r.model, r.hardware, r.tensor_parallel, r.prompt_tokens, r.batch, r.output_tokens)
        ].append(r.token_ms)
    out = [
        Point("prefill", m, h, k, n, b, 0, statistics.median(v), len(v))
        for (m, h, k, n, b), v in sorted(pre.items())
    ]
    out += [
        Point("decode", m, h, k, n, b, o, statistics.median(v), len(v))
        for (m, h, k, n, b, o), v in sorted(dec.items())
    ]
    return out


def memory_need_bytes(model: ModelSpec, arch: Architecture, p: Point, output_tokens: int) -> float:
    """Weights + KV of batch × (prompt + output) tokens + activations of batch × prompt tokens."""
    kv = p.batch * (p.prompt_tokens + output_tokens) * arch.kv_bytes_per_token
    reserve = activation_reserve_bytes(arch, p.tensor_parallel, p.batch * p.prompt_tokens)
    return weight_bytes(model) + kv + reserve


def exclusion(p: Point, longest_output: int) -> str:
    """Why ``p`` is not compared ("" when it is); ``longest_output`` for prefill points."""
    if p.hardware == POWER_CAPPED:
        return "power-capped rows are derived: prompt_time = 1.3 × h100-80gb, token_time equal"
    if p.hardware not in HARDWARE or p.model not in SPLITWISE_MODELS:
        return f"no facts for {p.model} on {p.hardware}"
    model = SPLITWISE_MODELS[p.model]
    acc = accelerator(HARDWARE[p.hardware])
    need = memory_need_bytes(model, architecture(model), p, p.output_tokens or longest_output)
    usable = usable_bytes(acc, p.tensor_parallel, USABLE_FRACTION)
    if need > usable:
        return (
            f"does not fit: {need / GIB_BYTES:.1f} GiB needed, "
            f"{usable / GIB_BYTES:.1f} GiB usable on {p.tensor_parallel} × {acc.name}"
        )
    if p.model != FITTED_MODEL:
        return f"{p.model}: out-of-sample check, not fitted"
    return ""


def estimate_ms(p: Point, constants: Mapping[str, ChipConstants]) -> float:
    """The step-time model's figure for ``p`` (NVSwitch DGX nodes, as measured)."""
    model = SPLITWISE_MODELS[p.model]
    arch = architecture(model)
    acc = accelerator(HARDWARE[p.hardware])
    c = constants[acc.name]
    active = shaping_parameters(model)
    k = p.tensor_parallel
    if p.phase == "prefill":
        # The measured stack's batched prefill costs as if attention spanned the batch's tokens.
        return 1e3 * prefill_time_s(arch, active, p.batch * p.prompt_tokens, k, acc, c)
    ctx = p.prompt_tokens + p.output_tokens / 2
    return 1e3 * decode_step_time_s(arch, active, weight_bytes(model), p.batch, ctx, k, acc, c)


def compare(
    pts: Iterable[Point], constants: Mapping[str, ChipConstants] | None = None
) -> list[Comparison]:
    """Every point with its estimate (committed constants by default) or exclusion reason."""
    table = constants or {name: cal.constants for name, cal in CALIBRATIONS.items()}
    pts = list(pts)
    longest: dict[tuple[str, str, int, int, int], int] = defaultdict(int)
    for p in pts:
        key = (p.model, p.hardware, p.tensor_parallel, p.prompt_tokens, p.batch)
        longest[key] = max(longest[key], p.output_tokens)
    out = []
    for p in pts:
        why = exclusion(
            p, longest[(p.model, p.hardware, p.tensor_parallel, p.prompt_tokens, p.batch)]
        )
        est = estimate_ms(p, table) if not why.startswith(("power", "no facts")) else float("nan")
        out.append(Comparison(p, est, why))
    return out


def band(comparisons: Iterable[Comparison], phase: Phase) -> tuple[float, float]:
    """(lowest, highest) error of the compared points of ``phase``."""
    errors = [c.error for c in comparisons if not c.excluded and c.point.phase == phase]
    return min(errors), max(errors)


# --------------------------------------------------------------------------- fitting

_PREFILL_START = (0.6, 0.1, 300.0, 10.0)
_DECODE_START = (0.8, 150.0, 30.0, 4.0)


def fit(pts: Iterable[Point]) -> dict[str, ChipConstants]:
    """Least-squares fit of each calibrated chip's constants on log(estimate / measurement).

    Prefill first (m, γ, α', β'), then decode (η, α, β, s) with that m for the compute bound.
    """
    from scipy.optimize import least_squares

    compared = [c.point for c in compare(pts) if not c.excluded]
    base = ChipConstants(*_PREFILL_START, *_DECODE_START)
    fitted: dict[str, ChipConstants] = {}
    for hw, name in HARDWARE.items():
        pre = [p for p in compared if p.hardware == hw and p.phase == "prefill"]
        dec = [p for p in compared if p.hardware == hw and p.phase == "decode"]
        r = least_squares(
            _residuals, _PREFILL_START, args=(name, base, pre, False), bounds=(0.0, np.inf)
        )
        prefill_fitted = _with(base, r.x, decode=False)
        r = least_squares(
            _residuals, _DECODE_START, args=(name, prefill_fitted, dec, True), bounds=(0.0, np.inf)
        )
        fitted[name] = _with(prefill_fitted, r.x, decode=True)
    return fitted


def _residuals(
    x: np.ndarray, name: str, base: ChipConstants, chosen: list[Point], decode: bool
) -> np.ndarray:
    """log(estimate / measurement) of ``chosen`` with the four constants of one phase set to x."""
    c = _with(base, x, decode)
    return np.array([np.log(estimate_ms(p, {name: c}) / p.measured_ms) for p in chosen])


def _with(c: ChipConstants, x: np.ndarray, decode: bool) -> ChipConstants:
    a, b, g, d = (float(v) for v in x)
    if decode:
        return replace(
            c,
            bandwidth_efficiency=a,
            decode_layer_us=b,
            decode_layer_per_extra_us=g,
            decode_layer_per_sequence_us=d,
        )
    return replace(c, mfu=a, prefill_tp_loss=b, prefill_layer_us=g, prefill_layer_per_extra_us=d)
