"""Training estimates: work per accelerator-hour, FLOPs of a run, and spot's useful fraction.

These are the reference estimates of DESIGN.md ("Reference estimates"); docs/estimates.md states
them with their defaults. Pure functions: spec values and accelerator facts in, numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping

from archipel.perf.accelerators import Accelerator, accelerator
from archipel.spec.models import WorkAcceleratorHours, WorkFlops

TERA = 1e12
SECONDS_PER_HOUR = 3600.0
DEFAULT_MFU = 0.4


def _facts(acc: Accelerator | str, known: Mapping[str, Accelerator] | None = None) -> Accelerator:
    if isinstance(acc, Accelerator):
        return acc
    if known is not None and acc in known:
        return known[acc]
    return accelerator(acc)


def flops_per_accelerator_hour(acc: Accelerator | str, mfu: float = DEFAULT_MFU) -> float:
    """FLOPs one accelerator does in an hour: bf16 TFLOP/s × 10^12 × MFU × 3600."""
    if not 0.0 < mfu <= 1.0:
        raise ValueError(f"mfu must be in (0, 1], got {mfu}")
    return _facts(acc).bf16_tflops * TERA * mfu * SECONDS_PER_HOUR


def work_per_accelerator_hour(
    work: WorkAcceleratorHours | WorkFlops,
    acc: Accelerator | str,
    known: Mapping[str, Accelerator] | None = None,
) -> float:
    """Units of ``work`` one hour of ``acc`` does (``known``: declared accelerators by name).

    ``accelerator_hours`` work: bf16(a) / bf16(reference) reference-hours per hour.
    ``flops`` work: bf16(a) × 10^12 × work.mfu × 3600 FLOPs per hour.
    """
    if isinstance(work, WorkAcceleratorHours):
        ref = _facts(work.reference_accelerator, known).bf16_tflops
        return _facts(acc, known).bf16_tflops / ref
    return flops_per_accelerator_hour(_facts(acc, known), work.mfu)


def spot_useful_fraction(
    interruptions_per_hour: float, checkpoint_interval_h: float, restart_h: float
) -> float:
    """Share of spot hours that advance the work: max(0, 1 − λ · (interval / 2 + restart)).

    Each interruption loses on average half a checkpoint interval of work plus the restart.
    """
    if interruptions_per_hour < 0 or checkpoint_interval_h < 0 or restart_h < 0:
        raise ValueError(
            "interruptions_per_hour, checkpoint_interval_h and restart_h must be non-negative, "
            f"got {interruptions_per_hour}, {checkpoint_interval_h}, {restart_h}"
        )
    lost = interruptions_per_hour * (checkpoint_interval_h / 2.0 + restart_h)
    return max(0.0, 1.0 - lost)


def training_flops(parameters_b: float, tokens: float) -> float:
    """FLOPs of a dense training run: 6 · parameters · tokens (parameters = parameters_b × 10^9)."""
    return 6.0 * parameters_b * 1e9 * tokens


def accelerator_hours(flops: float, accelerator_name: str, mfu: float = DEFAULT_MFU) -> float:
    """Hours of ``accelerator_name`` that ``flops`` take: flops / (bf16 × 10^12 × MFU × 3600)."""
    return flops / flops_per_accelerator_hour(accelerator_name, mfu)
