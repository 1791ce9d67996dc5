"""Serving estimates: how many accelerators hold a replica, and how many requests/s it serves.

docs/estimates.md ("Serving") states the model; in short, for a replica of k accelerators:

- memory (:mod:`archipel.perf.memory`): it fits when the weights, the activation reserve and the
  KV cache of one longest sequence fit in 90 % of its memory; its operating batch B is the
  largest (≤ 64) whose KV cache at the request-class mix fits;
- time (:mod:`archipel.perf.steptime`): a request of class c occupies the replica for
  T_c = prefill(input_c) + output_c · decode_step(B, ctx) / B seconds (prompts are prefilled one
  at a time; B sequences share each decode step; ctx is the mix's mean context), so
  requests_per_s_per_replica[c] = 1 / T_c;
- size: k is the power of two, from the smallest that fits up to 64, with the most requests/s
  per accelerator at the class mix (1 / Σ share_c · T_c / k); ties go to the smaller k.

``source`` says where the figures come from: ``"measured"`` (the spec's ``throughput`` entries),
``"calibrated"`` (A100-80GB and H100 SXM, whose constants were fitted to measurements, inside an
NVSwitch-class node) or ``"estimated"`` (other chips, with the nearest calibrated chip's
constants, and any replica whose tensor-parallel traffic crosses PCIe). All functions are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from archipel.perf.accelerators import Accelerator, accelerator, canonical_name
from archipel.perf.architecture import architecture, shaping_parameters
from archipel.perf.memory import (
    GIB_BYTES,
    MAX_BATCH,
    USABLE_FRACTION,
    mix,
    operating_batch,
    smallest_fit,
    weight_bytes,
)
from archipel.perf.steptime import (
    decode_step_time_s,
    is_calibrated,
    link_penalised,
    nearest_calibration,
    prefill_time_s,
)
from archipel.spec.models import MeasuredThroughput, ModelSpec, RequestClass

MAX_ACCELERATORS_PER_REPLICA = 64
Source = Literal["measured", "calibrated", "estimated"]


@dataclass(frozen=True)
class ServingProfile:
    """How a model is served on one accelerator type: replica size and requests/s per class."""

    accelerator: str  # canonical name (or the spec's own chip name)
    accelerators_per_replica: int
    requests_per_s_per_replica: dict[str, float]  # per request class name
    source: Source
    batch: int = 1  # operating decode batch
    kv_gib_per_replica: float = 0.0  # KV cache at that batch and the class mix
    min_accelerators_per_replica: int | None = None  # smallest k that fits (None: unknown)
    requests_per_s_per_accelerator: float = 0.0  # at the class mix
    constants_from: str = ""  # the calibrated chip whose constants the estimate used
    prefill_s: dict[str, float] = field(default_factory=dict)  # per class, estimated
    decode_step_s: float = 0.0  # at the operating batch, estimated


@dataclass(frozen=True)
class ReplicaEstimate:
    """The estimate for one replica size (module doc)."""

    accelerators: int
    batch: int
    kv_bytes: float
    prefill_s: dict[str, float]
    decode_step_s: float
    requests_per_s: dict[str, float]
    mix_requests_per_s: float
    source: Source
    constants_from: str


def weights_gib(model: ModelSpec) -> float:
    """Memory the weights take: parameters_b × 10^9 × bytes_per_parameter / 2^30 GiB."""
    return weight_bytes(model) / GIB_BYTES


def resolve(acc: Accelerator | str) -> Accelerator:
    """The accelerator itself, or the facts table's entry for a name (unknown names raise)."""
    return acc if isinstance(acc, Accelerator) else accelerator(acc)


def accelerators_per_replica(
    model: ModelSpec,
    acc: Accelerator | str,
    *,
    usable_fraction: float = USABLE_FRACTION,
    max_accelerators: int = MAX_ACCELERATORS_PER_REPLICA,
) -> int | None:
    """Smallest power of two k ≤ max_accelerators on which one sequence of
    ``context_length_tokens`` fits beside the weights and activations; None when none does."""
    chip = resolve(acc)
    return smallest_fit(
        model,
        architecture(model),
        chip,
        mix(model, ()),
        max_accelerators=max_accelerators,
        usable_fraction=usable_fraction,
    )


def mix_weights(classes: Sequence[RequestClass]) -> list[float]:
    """Each class's share of requests, normalised (equal where every share is 0)."""
    total = sum(c.share for c in classes)
    if total <= 0.0:
        return [1.0 / len(classes)] * len(classes)
    return [c.share / total for c in classes]


def replica_estimate(
    model: ModelSpec,
    acc: Accelerator | str,
    classes: Sequence[RequestClass],
    accelerators: int,
    *,
    scale_up: str = "",
    max_batch: int = MAX_BATCH,
    usable_fraction: float = USABLE_FRACTION,
) -> ReplicaEstimate | None:
    """Batch, step times and requests/s of a replica of ``accelerators`` chips (module doc);
    None when it does not fit."""
    chip = resolve(acc)
    batch = operating_batch(
        model,
        architecture(model),
        chip,
        accelerators,
        mix(model, classes),
        max_batch=max_batch,
        usable_fraction=usable_fraction,
    )
    if batch == 0:
        return None
    return _estimate(model, chip, classes, accelerators, batch, scale_up)


def _estimate(
    model: ModelSpec,
    chip: Accelerator,
    classes: Sequence[RequestClass],
    accelerators: int,
    batch: int,
    scale_up: str,
) -> ReplicaEstimate:
    arch = architecture(model)
    at = mix(model, classes)
    cal = nearest_calibration(chip)
    active = shaping_parameters(model)
    step = decode_step_time_s(
        arch,
        active,
        weight_bytes(model),
        batch,
        at.decode_context_tokens,
        accelerators,
        chip,
        cal.constants,
        scale_up,
    )
    prefill = {
        c.name: prefill_time_s(
            arch, active, c.input_tokens, accelerators, chip, cal.constants, scale_up
        )
        for c in classes
    }
    seconds = {c.name: prefill[c.name] + c.output_tokens * step / batch for c in classes}
    calibrated = is_calibrated(chip) and not link_penalised(scale_up, accelerators)
    return ReplicaEstimate(
        accelerators=accelerators,
        batch=batch,
        kv_bytes=batch * at.resident_tokens * arch.kv_bytes_per_token,
        prefill_s=prefill,
        decode_step_s=step,
        requests_per_s={name: 1.0 / s for name, s in seconds.items()},
        mix_requests_per_s=_mix_rate(classes, {n: 1.0 / s for n, s in seconds.items()}),
        source="calibrated" if calibrated else "estimated",
        constants_from=cal.accelerator,
    )


def _mix_rate(classes: Sequence[RequestClass], rates: dict[str, float]) -> float:
    """Requests/s at the class mix: 1 / Σ w_c / rate_c (0 without classes)."""
    if not classes:
        return 0.0
    return 1.0 / sum(w / rates[c.name] for w, c in zip(mix_weights(classes), classes, strict=True))


def serving_profile(
    model: ModelSpec,
    acc: Accelerator | str,
    classes: Sequence[RequestClass],
    *,
    scale_up: str = "",
    max_accelerators_per_replica: int = MAX_ACCELERATORS_PER_REPLICA,
    max_batch: int = MAX_BATCH,
    usable_fraction: float = USABLE_FRACTION,
) -> ServingProfile | None:
    """How ``model`` is served on ``acc`` (an Accelerator, or any name of a known chip).

    ``scale_up`` is the node's link (nvswitch, nvlink, nvlink-bridge, pcie, neuronlink, ici, or
    "" unknown); ``max_accelerators_per_replica`` caps k (e.g. at a node's size).

    Measured (source ``"measured"``): the entries of ``model.throughput`` whose accelerator has
    the same canonical name and whose ``request_class`` is None (every class) or one of
    ``classes``. The first such entry (spec order) fixes k; entries with another k are ignored.
    A class takes the rate of its own entry, else of a class-wide entry; a class no entry covers
    gets the estimate at that k. A measured k is trusted even where the memory model would not
    fit the model.

    Else the estimate of the module doc. None when no replica of at most
    ``max_accelerators_per_replica`` accelerators fits.
    """
    _check_knobs(max_accelerators_per_replica, max_batch, usable_fraction)
    chip = resolve(acc)
    arch = architecture(model)
    at = mix(model, classes)
    k_min = smallest_fit(
        model,
        arch,
        chip,
        at,
        max_accelerators=max_accelerators_per_replica,
        usable_fraction=usable_fraction,
    )
    measured = _matching_measurements(model, chip, classes)
    if measured:
        k = measured[0].accelerators_per_replica
        fitting = operating_batch(
            model, arch, chip, k, at, max_batch=max_batch, usable_fraction=usable_fraction
        )
        est = _estimate(model, chip, classes, k, max(1, fitting), scale_up)
        rates = dict(est.requests_per_s)
        same_k = [m for m in measured if m.accelerators_per_replica == k]
        class_wide = [m for m in same_k if m.request_class is None]
        for c in classes:
            chosen = [m for m in same_k if m.request_class == c.name] or class_wide
            if chosen:
                rates[c.name] = chosen[0].requests_per_s_per_replica
        return _profile(chip, classes, est, k_min, "measured", rates)
    if k_min is None:
        return None
    candidates = [
        replica_estimate(
            model,
            chip,
            classes,
            2**e,
            scale_up=scale_up,
            max_batch=max_batch,
            usable_fraction=usable_fraction,
        )
        for e in range(k_min.bit_length() - 1, max_accelerators_per_replica.bit_length())
    ]
    fitting_estimates = [e for e in candidates if e is not None]
    best = max(
        fitting_estimates, key=lambda e: (e.mix_requests_per_s / e.accelerators, -e.accelerators)
    )
    return _profile(chip, classes, best, k_min, best.source, best.requests_per_s)


def node_requests_per_s(profile: ServingProfile, accelerators_per_node: int) -> dict[str, float]:
    """Requests/s one node serves per class: floor(accelerators_per_node / k) whole replicas ×
    the rate per replica (0 when the node has fewer accelerators than a replica)."""
    replicas = accelerators_per_node // profile.accelerators_per_replica
    return {name: replicas * rate for name, rate in profile.requests_per_s_per_replica.items()}


def _profile(
    chip: Accelerator,
    classes: Sequence[RequestClass],
    est: ReplicaEstimate,
    k_min: int | None,
    source: Source,
    rates: dict[str, float],
) -> ServingProfile:
    return ServingProfile(
        accelerator=chip.name,
        accelerators_per_replica=est.accelerators,
        requests_per_s_per_replica=rates,
        source=source,
        batch=est.batch,
        kv_gib_per_replica=est.kv_bytes / GIB_BYTES,
        min_accelerators_per_replica=k_min,
        requests_per_s_per_accelerator=_mix_rate(classes, rates) / est.accelerators,
        constants_from=est.constants_from,
        prefill_s=est.prefill_s,
        decode_step_s=est.decode_step_s,
    )


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


def _check_knobs(max_accelerators: int, max_batch: int, usable_fraction: float) -> None:
    if max_accelerators < 1:
        raise ValueError(f"max_accelerators_per_replica must be at least 1, got {max_accelerators}")
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, got {max_batch}")
    if not 0.0 < usable_fraction <= 1.0:
        raise ValueError(f"usable_fraction must be in (0, 1], got {usable_fraction}")
