"""Flags: the assumptions behind an offering row, each visible and each avoidable.

An offering with no flags rests on documented facts (a list price from the source, a documented
topology). A flagged one rests on at least one assumption, named here with what it means and how
to plan without it. Every flagged row can be left out: ``catalog.exclude_assumed: true`` in a
spec, or ``--exclude-assumed`` on ``archipel catalog offers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from archipel.catalog.topology import FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN

FLAG_AVAILABILITY_ASSUMED = "availability-assumed"
FLAG_SPOT_RATES_ASSUMED = "spot-rates-assumed"
FLAG_SPOT_RATES_PROXY = "spot-rates-proxy"

EXCLUDE_HINT = (
    "leave flagged rows out with `catalog.exclude_assumed: true` in a spec or "
    "`--exclude-assumed` on `archipel catalog offers`"
)


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
