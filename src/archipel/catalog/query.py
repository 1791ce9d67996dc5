"""Find offerings in a catalog: filter by accelerator, provider, region, jurisdiction, purchase
option, price, scale-out fabric and assumptions; sort by price per accelerator-hour (default) or
another key.

Every name is checked against what exists; an unknown one raises ``UnknownNameError`` with the
nearest matches, so ``--accelerator h10`` answers "Did you mean 'H100'?" instead of an empty list.
Accelerators accept any alias the facts table knows (``H100-SXM``, ``trn2``, ``tpu-v5litepod-8``).
A region is ``provider:code`` (``aws:eu-west-1``) or a bare code, which matches that code at any
provider. A jurisdiction is a tag such as ``EU`` or an ISO country code such as ``DE``; an EU/EEA
country where the catalog has no region (``PT``, ``LU``…) is a valid answer with no offerings, not
an error (:func:`empty_jurisdictions` names them so that a caller can say so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from archipel.catalog.flags import assumed
from archipel.catalog.model import Catalog, Offering, PurchaseOption, Region, suggest
from archipel.catalog.regions import EU_EEA_COUNTRIES
from archipel.errors import UnknownNameError
from archipel.perf.accelerators import ACCELERATORS, canonical_name


class SortKey(StrEnum):
    USD_PER_ACCELERATOR_HOUR = "usd-per-accelerator-hour"
    USD_PER_NODE_HOUR = "usd-per-node-hour"
    PROVIDER = "provider"
    REGION = "region"
    ACCELERATOR = "accelerator"
    ACCELERATORS_PER_NODE = "accelerators-per-node"


@dataclass(frozen=True, slots=True)
class OfferingQuery:
    """What to look for; an empty tuple or None means "any"."""

    accelerators: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    purchase_options: tuple[str, ...] = ()
    max_usd_per_accelerator_hour: float | None = None
    fabric_only: bool = False  # only instance types with a scale-out fabric
    exclude_assumed: bool = False  # leave out flagged offerings (catalog.exclude_assumed)


def find_offerings(
    catalog: Catalog,
    query: OfferingQuery,
    *,
    sort: SortKey | str = SortKey.USD_PER_ACCELERATOR_HOUR,
    descending: bool = False,
    limit: int | None = None,
) -> tuple[Offering, ...]:
    """The offerings matching ``query``, sorted (ties broken by offering id), at most ``limit``."""
    found = sort_offerings(filter_offerings(catalog, query), sort, descending=descending)
    return found if limit is None else found[: max(limit, 0)]


def filter_offerings(catalog: Catalog, query: OfferingQuery) -> tuple[Offering, ...]:
    """The offerings matching every given criterion; unknown names raise with suggestions."""
    tests: list[Callable[[Offering], bool]] = []
    if query.accelerators:
        wanted = frozenset(resolve_accelerator(a) for a in query.accelerators)
        tests.append(lambda o: o.accelerator in wanted)
    if query.providers:
        provider_ids = frozenset(catalog.provider(p).id for p in query.providers)
        tests.append(lambda o: o.provider in provider_ids)
    if query.regions:
        region_ids = frozenset(
            r.id for name in query.regions for r in resolve_regions(catalog, name)
        )
        tests.append(lambda o: o.region_id in region_ids)
    if query.jurisdictions:
        allowed = frozenset(r.id for j in query.jurisdictions for r in in_jurisdiction(catalog, j))
        tests.append(lambda o: o.region_id in allowed)
    if query.purchase_options:
        options = frozenset(resolve_purchase_option(p) for p in query.purchase_options)
        tests.append(lambda o: o.purchase_option in options)
    if query.max_usd_per_accelerator_hour is not None:
        cap = query.max_usd_per_accelerator_hour
        tests.append(lambda o: o.price_usd_per_accelerator_hour <= cap)
    if query.fabric_only:
        tests.append(lambda o: bool(o.fabric))
    if query.exclude_assumed:
        tests.append(lambda o: not assumed(o.flags))
    return tuple(o for o in catalog.offerings if all(t(o) for t in tests))


def sort_offerings(
    offerings: Iterable[Offering], key: SortKey | str, *, descending: bool = False
) -> tuple[Offering, ...]:
    """``offerings`` ordered by ``key``, then by id so that the order is always the same."""
    k = resolve_sort_key(key)
    primary: Callable[[Offering], float | str | int] = {
        SortKey.USD_PER_ACCELERATOR_HOUR: lambda o: o.price_usd_per_accelerator_hour,
        SortKey.USD_PER_NODE_HOUR: lambda o: o.price_usd_per_node_hour,
        SortKey.PROVIDER: lambda o: o.provider,
        SortKey.REGION: lambda o: o.region_id,
        SortKey.ACCELERATOR: lambda o: o.accelerator,
        SortKey.ACCELERATORS_PER_NODE: lambda o: o.accelerators_per_node,
    }[k]
    ordered = sorted(offerings, key=lambda o: o.id)  # stable secondary order
    return tuple(sorted(ordered, key=primary, reverse=descending))


def resolve_accelerator(name: str) -> str:
    """The canonical accelerator for any known alias; unknown names raise with suggestions."""
    canon = canonical_name(name)
    if canon is None:
        raise UnknownNameError("accelerator", name, suggest(name, ACCELERATORS))
    return canon


def resolve_regions(catalog: Catalog, name: str) -> tuple[Region, ...]:
    """Regions named ``provider:code`` or by a bare code (at every provider that has it)."""
    if ":" in name:
        return (catalog.region(name),)
    hits = tuple(r for r in catalog.regions if r.code.lower() == name.lower())
    if not hits:
        known = {r.code for r in catalog.regions} | {r.id for r in catalog.regions}
        raise UnknownNameError("region", name, suggest(name, known))
    return hits


def in_jurisdiction(catalog: Catalog, tag: str) -> tuple[Region, ...]:
    """Regions carrying jurisdiction ``tag`` (``EU``) or located in country ``tag`` (``DE``).

    An EU/EEA country without a catalog region gives no regions; another unknown tag raises."""
    t = tag.strip().upper()
    hits = tuple(r for r in catalog.regions if t in r.jurisdictions or r.country == t)
    if not hits and t not in EU_EEA_COUNTRIES:
        known = {j for r in catalog.regions for j in r.jurisdictions}
        known |= {r.country for r in catalog.regions} | EU_EEA_COUNTRIES
        raise UnknownNameError("jurisdiction", tag, suggest(tag, known))
    return hits


def empty_jurisdictions(catalog: Catalog, tags: Iterable[str]) -> tuple[str, ...]:
    """The valid jurisdiction tags among ``tags`` where the catalog has no region (EU/EEA
    countries without a cloud region, such as ``PT``), upper-cased."""
    return tuple(t.strip().upper() for t in tags if not in_jurisdiction(catalog, t))


def resolve_purchase_option(name: str) -> PurchaseOption:
    try:
        return PurchaseOption(name.lower().replace("-", "_"))
    except ValueError:
        raise UnknownNameError(
            "purchase option", name, suggest(name, [p.value for p in PurchaseOption])
        ) from None


def resolve_sort_key(name: SortKey | str) -> SortKey:
    try:
        return SortKey(name)
    except ValueError:
        raise UnknownNameError("sort key", str(name), suggest(str(name), list(SortKey))) from None


def sort_key_names() -> Sequence[str]:
    return [k.value for k in SortKey]
