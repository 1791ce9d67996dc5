"""Annotate offerings with what the price lists do not say: topology, spot terms and flags.

:func:`annotate` gives an offering its instance type's topology (:mod:`archipel.catalog.topology`)
and, when it is spot, its availability and interruption rate (:mod:`archipel.catalog.spot`); every
assumption behind those figures becomes a flag (:mod:`archipel.catalog.flags`). Flags already on
the offering (such as ``availability-assumed`` from a build) are kept. Pure: offerings in,
offerings out.
"""

from __future__ import annotations

from dataclasses import replace

from archipel.catalog.flags import FLAG_SPOT_RATES_ASSUMED, FLAG_SPOT_RATES_PROXY
from archipel.catalog.model import Offering, PurchaseOption
from archipel.catalog.spot import spot_terms
from archipel.catalog.topology import FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN, topology_for
from archipel.perf.accelerators import ACCELERATORS

# Flags this module decides (and so replaces when it annotates again).
_OWN_FLAGS = frozenset(
    (FLAG_TOPOLOGY_ASSUMED, FLAG_TOPOLOGY_UNKNOWN, FLAG_SPOT_RATES_ASSUMED, FLAG_SPOT_RATES_PROXY)
)


def annotate(offering: Offering) -> Offering:
    """The offering with its topology, spot availability and interruption rate, and flags."""
    topology, flags = topology_for(offering.provider, offering.instance_type)
    availability, interruptions = 1.0, 0.0
    if offering.purchase_option is PurchaseOption.SPOT:
        chip = ACCELERATORS.get(offering.accelerator)
        kind = chip.kind if chip is not None else ""
        availability, interruptions, spot_flag = spot_terms(
            offering.provider, offering.region, kind, offering.accelerators_per_node
        )
        flags = (*flags, spot_flag)
    kept = tuple(f for f in offering.flags if f not in _OWN_FLAGS)
    return replace(
        offering,
        scale_up=topology.scale_up,
        fabric=topology.fabric,
        fabric_gbps=float(topology.fabric_gbps),
        availability=availability,
        interruptions_per_hour=interruptions,
        flags=merge_flags(kept, flags),
    )


def merge_flags(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """The union of flag tuples, sorted (a row's flags are a set, rendered in one order)."""
    return tuple(sorted({f for g in groups for f in g}))
