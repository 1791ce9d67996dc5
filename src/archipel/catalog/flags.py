"""Flags: the assumptions behind an offering row, each visible and each avoidable.

An offering with no flags rests on documented facts (a list price from the source, a documented
topology). A flagged one rests on at least one assumption, named here with what it means and how
to plan without it. Every flagged row can be left out: ``catalog.exclude_assumed: true`` in a
spec, or ``--exclude-assumed`` on ``archipel catalog offers``.

``accelerator-declared`` marks the rows of a chip that :mod:`archipel.perf.accelerators` lacks,
imported with ``archipel catalog import --accelerator NAME``: the snapshot holds its prices, the
spec that plans with it must hold its facts. It is the only way a snapshot row may name a chip
that is not built in (:mod:`archipel.catalog.snapshot`). It is no assumption: excluding assumed
rows keeps it (:func:`assumed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archipel.catalog.topology import FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN
from archipel.perf.accelerators import ACCELERATORS, canonical_name

FLAG_ACCELERATOR_DECLARED = "accelerator-declared"
FLAG_AVAILABILITY_ASSUMED = "availability-assumed"
FLAG_DISCOUNT_ASSUMED = "discount-assumed"
FLAG_SPOT_RATES_ASSUMED = "spot-rates-assumed"
FLAG_SPOT_RATES_PROXY = "spot-rates-proxy"

# What a spec's `accelerators:` accepts as a chip's name (archipel.spec.models.AcceleratorDecl).
DECLARED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
DECLARED_NAME_MAX = 64

EXCLUDE_HINT = (
    "leave flagged rows out with `catalog.exclude_assumed: true` in a spec or "
    "`--exclude-assumed` on `archipel catalog offers`"
)


def assumed(flags: tuple[str, ...]) -> bool:
    """Whether a row rests on an assumption: any flag but ``accelerator-declared`` (a declared
    chip's prices come from the source and its facts from the spec: nothing is assumed)."""
    return any(f != FLAG_ACCELERATOR_DECLARED for f in flags)


@dataclass(frozen=True, slots=True)
class FlagInfo:
    name: str
    meaning: str
    remedy: str  # besides excluding the row


FLAGS: dict[str, FlagInfo] = {
    f.name: f
    for f in (
        FlagInfo(
            FLAG_TOPOLOGY_ASSUMED,
            "the scale-up link or fabric is inferred from a family rule or a sibling type, not "
            "documented for this exact instance type (archipel.catalog.topology)",
            "check the provider's page for the instance type; declare the capacity under "
            "`offerings:` with its scale_up and fabric",
        ),
        FlagInfo(
            FLAG_TOPOLOGY_UNKNOWN,
            "the instance type has no topology entry: scale-up link unknown, no fabric assumed",
            "declare the capacity under `offerings:` with its scale_up and fabric",
        ),
        FlagInfo(
            FLAG_AVAILABILITY_ASSUMED,
            "the price is a list price copied from another region (OCI publishes one price "
            "block); that the shape is sold in this region is assumed, not known",
            "limit `catalog.providers`/regions to where you hold capacity, or declare it under "
            "`offerings:`",
        ),
        FlagInfo(
            FLAG_SPOT_RATES_ASSUMED,
            "spot availability and interruptions per hour are the documented defaults "
            "(archipel.catalog.spot), not measured for this provider, region or instance type",
            "give measured figures under `spot:` (availability, interruptions_per_hour)",
        ),
        FlagInfo(
            FLAG_ACCELERATOR_DECLARED,
            "the chip is not in Archipel's facts table; it was imported as a chip of your own "
            "(`archipel catalog import --accelerator NAME`), so its facts (memory, BF16 "
            "TFLOP/s, bandwidth) must come from the spec that uses this snapshot: offerings of "
            "a chip the spec does not declare cannot be planned on",
            "declare the chip under the spec's `accelerators:` (name, memory_gib, bf16_tflops, "
            "memory_bandwidth_tb_per_s), with its data sheet or measured figures",
        ),
        FlagInfo(
            FLAG_DISCOUNT_ASSUMED,
            "a reservation option (spec `reservations:`) gave no discount_pct and took the "
            "provider's headline 'up to' level (archipel.catalog.commitments): the best case it "
            "advertises, not a rate known for this instance type and term",
            "give the option's discount_pct from the provider's price list or your quote",
        ),
        FlagInfo(
            FLAG_SPOT_RATES_PROXY,
            "spot availability and interruptions per hour were measured in this region on "
            "another instance type (AWS p3 V100 traces, NSDI '24) and applied to this one",
            "give measured figures under `spot:` (availability, interruptions_per_hour)",
        ),
    )
}


def check_flags(flags: tuple[str, ...]) -> str | None:
    """The reason ``flags`` are invalid (unknown or repeated), or None."""
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        return f"unknown flag(s) {', '.join(unknown)}; known: {', '.join(FLAGS)}"
    if len(set(flags)) != len(flags):
        return f"flags repeat: {';'.join(flags)}"
    return None


def check_accelerator(name: str, flags: tuple[str, ...]) -> str | None:
    """The reason ``name`` cannot be the accelerator of a row with ``flags``, or None: a
    canonical built-in name, or a declarable name no built-in name or alias resolves to on a row
    flagged ``accelerator-declared``."""
    declared = FLAG_ACCELERATOR_DECLARED in flags
    builtin = canonical_name(name)
    if declared:
        if builtin is not None:
            return (
                f"accelerator {name!r} is built in (as {builtin!r}) but flagged "
                f"{FLAG_ACCELERATOR_DECLARED}; write {builtin!r} and drop the flag"
            )
        if not DECLARED_NAME.match(name) or len(name) > DECLARED_NAME_MAX:
            return (
                f"accelerator {name!r} (flagged {FLAG_ACCELERATOR_DECLARED}) is not a name a "
                f"spec can declare: 1 to {DECLARED_NAME_MAX} letters, digits, '.', '_' or '-'"
            )
        return None
    if name in ACCELERATORS:
        return None
    if builtin is not None:
        return f"accelerator {name!r} is not a canonical name; write {builtin!r}"
    return (
        f"accelerator {name!r} is not a canonical chip name (archipel.perf.accelerators) and the "
        f"row is not flagged {FLAG_ACCELERATOR_DECLARED}; a chip of your own is imported with "
        f"`archipel catalog import FILES --accelerator {name or 'NAME'}`, which flags its rows, "
        "and declared in the spec's `accelerators:`"
    )
