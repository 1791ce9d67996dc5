"""The catalog's data model: providers, regions, offerings and the snapshot that holds them.

A catalog is a versioned snapshot: a manifest (source, capture date, schema version, content
hash) and three tables. Offerings are one row per (provider, region, instance type, purchase
option); an instance with both an on-demand and a spot price gives two offerings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from archipel.errors import UnknownNameError

SCHEMA_VERSION = 2


class PurchaseOption(StrEnum):
    ON_DEMAND = "on_demand"
    SPOT = "spot"
    RESERVED = "reserved"
    OWNED = "owned"  # capacity of the spec's own (``offerings:``), priced per node-hour used


@dataclass(frozen=True, slots=True)
class Provider:
    """A cloud provider. ``cloud_act`` is True when it is subject to the US CLOUD Act."""

    id: str
    name: str
    hq_country: str  # ISO-3166 alpha-2
    cloud_act: bool


@dataclass(frozen=True, slots=True)
class Region:
    """A provider's region, ``id`` is ``provider:code`` (e.g. ``aws:eu-west-1``)."""

    provider: str
    code: str
    city: str
    country: str  # ISO-3166 alpha-2
    continent: str
    lat: float
    lon: float
    jurisdictions: tuple[str, ...] = ()  # e.g. ("EU",) for EU/EEA member states

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.code}"


@dataclass(frozen=True, slots=True)
class Offering:
    """One way to rent accelerators: a node of ``instance_type`` in a region, at a price."""

    provider: str
    region: str  # region code, without the provider prefix
    instance_type: str
    accelerator: str  # canonical accelerator name (see archipel.perf.accelerators)
    accelerators_per_node: int
    purchase_option: PurchaseOption
    price_usd_per_node_hour: float
    interruptions_per_hour: float = 0.0  # spot only; 0 for on-demand and reserved
    max_nodes: float | None = None  # capacity per period; None = unbounded
    # topology (archipel.catalog.topology): the link inside a node and the fabric between nodes
    scale_up: str = ""  # nvswitch, nvlink, pcie, neuronlink, ici, …; "" unknown
    fabric: str = ""  # efa, infiniband, roce, gpudirect-tcpx, ici, …; "" = none
    fabric_gbps: float = 0.0  # scale-out bandwidth per node, Gbit/s; 0 = none
    availability: float = 1.0  # spot: expected share of time a node is up; 1 otherwise
    flags: tuple[str, ...] = ()  # assumptions behind this row (catalog report); () = known

    @property
    def region_id(self) -> str:
        return f"{self.provider}:{self.region}"

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.region}:{self.instance_type}:{self.purchase_option}"

    @property
    def price_usd_per_accelerator_hour(self) -> float:
        return self.price_usd_per_node_hour / self.accelerators_per_node


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A source row the importer rejected, where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class FoldedName:
    """A source accelerator name folded onto a canonical chip (``H100-MEGA`` → ``H100``), with
    the instance types it was read on and the rows it covered."""

    provider: str
    source_name: str
    accelerator: str
    instance_types: tuple[str, ...]
    rows: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """Where a snapshot came from and how to tell it apart from another.

    ``rejected`` and ``folded`` record what the build rejected from its sources and which source
    accelerator names it folded onto which chips (``archipel catalog report``)."""

    source: str
    captured: str  # ISO date
    schema_version: int
    content_sha256: str
    notes: str = ""
    rejected: tuple[RejectedRow, ...] = ()
    folded: tuple[FoldedName, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """An immutable snapshot. Lookups by id are dictionaries built once at construction."""

    manifest: Manifest
    providers: tuple[Provider, ...]
    regions: tuple[Region, ...]
    offerings: tuple[Offering, ...]
    _provider_by_id: dict[str, Provider] = field(init=False, repr=False, compare=False)
    _region_by_id: dict[str, Region] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_provider_by_id", {p.id: p for p in self.providers})
        object.__setattr__(self, "_region_by_id", {r.id: r for r in self.regions})

    def provider(self, provider_id: str) -> Provider:
        try:
            return self._provider_by_id[provider_id]
        except KeyError:
            raise UnknownNameError(
                "provider", provider_id, suggest(provider_id, self._provider_by_id)
            ) from None

    def region(self, region_id: str) -> Region:
        """Look a region up by ``provider:code``."""
        try:
            return self._region_by_id[region_id]
        except KeyError:
            raise UnknownNameError(
                "region", region_id, suggest(region_id, self._region_by_id)
            ) from None

    def has_region(self, region_id: str) -> bool:
        return region_id in self._region_by_id

    def accelerators(self) -> tuple[str, ...]:
        return tuple(sorted({o.accelerator for o in self.offerings}))

    def with_offerings(self, offerings: Iterable[Offering]) -> Catalog:
        """A copy holding other offerings (the manifest is kept; callers describe the change)."""
        return Catalog(self.manifest, self.providers, self.regions, tuple(offerings))


def suggest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Near matches for ``name`` among ``known``, case-insensitively, best first."""
    pool: Sequence[str] = sorted(set(known))
    lowered = {k.lower(): k for k in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]
