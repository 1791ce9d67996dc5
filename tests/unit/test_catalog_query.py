"""Filtering and sorting offerings; unknown names answer with suggestions."""

from __future__ import annotations

import pytest

from archipel.catalog.model import Catalog, Offering, Provider, PurchaseOption, Region
from archipel.catalog.query import (
    OfferingQuery,
    SortKey,
    filter_offerings,
    find_offerings,
    in_jurisdiction,
    resolve_accelerator,
    resolve_regions,
    sort_offerings,
)
from archipel.catalog.snapshot import build_catalog
from archipel.errors import UnknownNameError

OD, SPOT = PurchaseOption.ON_DEMAND, PurchaseOption.SPOT


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    providers = [Provider("aws", "AWS", "US", True), Provider("nebius", "Nebius", "NL", False)]
    regions = [
        Region("aws", "us-east-1", "Ashburn", "US", "North America", 39.0, -77.5),
        Region("aws", "eu-central-1", "Frankfurt", "DE", "Europe", 50.1, 8.7, ("EU",)),
        Region("nebius", "eu-north1", "Mäntsälä", "FI", "Europe", 60.6, 25.3, ("EU",)),
        Region("nebius", "us-east-1", "Nowhere", "US", "North America", 40.0, -75.0),
    ]
    offerings = [
        Offering("aws", "us-east-1", "p5.48xlarge", "H100", 8, OD, 55.04),
        Offering("aws", "us-east-1", "p5.48xlarge", "H100", 8, SPOT, 20.0, 0.05),
        Offering("aws", "eu-central-1", "p5.48xlarge", "H100", 8, OD, 64.0),
        Offering("aws", "us-east-1", "trn2.48xlarge", "Trainium2", 16, OD, 46.0),
        Offering("nebius", "eu-north1", "gpu-h100-sxm_8gpu", "H100", 8, OD, 23.6),
        Offering("nebius", "eu-north1", "gpu-h200-sxm_1gpu", "H200", 1, OD, 3.5),
        Offering("nebius", "us-east-1", "gpu-h200-sxm_1gpu", "H200", 1, OD, 3.6),
    ]
    return build_catalog(providers, regions, offerings, source="test", captured="2026-01-01")


def ids(offerings: tuple[Offering, ...]) -> list[str]:
    return [o.id for o in offerings]


def test_default_order_is_cheapest_per_accelerator_hour(catalog: Catalog) -> None:
    found = find_offerings(catalog, OfferingQuery())
    prices = [o.price_usd_per_accelerator_hour for o in found]
    assert prices == sorted(prices)
    assert found[0].id == "aws:us-east-1:p5.48xlarge:spot"  # 2.5 USD per H100-hour


def test_accelerator_aliases_and_several_values(catalog: Catalog) -> None:
    trn = find_offerings(catalog, OfferingQuery(accelerators=("trn2",)))
    assert ids(trn) == ["aws:us-east-1:trn2.48xlarge:on_demand"]
    both = find_offerings(catalog, OfferingQuery(accelerators=("H100-SXM", "h200")))
    assert len(both) == 6


def test_provider_region_jurisdiction_option_and_price_cap(catalog: Catalog) -> None:
    eu = filter_offerings(catalog, OfferingQuery(jurisdictions=("EU",)))
    assert {o.region_id for o in eu} == {"aws:eu-central-1", "nebius:eu-north1"}
    assert {
        o.region_id for o in filter_offerings(catalog, OfferingQuery(jurisdictions=("de",)))
    } == {"aws:eu-central-1"}
    bare = filter_offerings(catalog, OfferingQuery(regions=("us-east-1",)))
    assert {o.provider for o in bare} == {"aws", "nebius"}  # a bare code matches every provider
    one = filter_offerings(catalog, OfferingQuery(regions=("nebius:us-east-1",)))
    assert ids(one) == ["nebius:us-east-1:gpu-h200-sxm_1gpu:on_demand"]
    spot = filter_offerings(catalog, OfferingQuery(purchase_options=("spot",)))
    assert ids(spot) == ["aws:us-east-1:p5.48xlarge:spot"]
    cheap = filter_offerings(
        catalog, OfferingQuery(providers=("aws",), max_usd_per_accelerator_hour=3.0)
    )
    assert sorted(o.price_usd_per_accelerator_hour for o in cheap) == [2.5, 2.875]


def test_other_sort_keys_descending_and_limit(catalog: Catalog) -> None:
    by_node = find_offerings(catalog, OfferingQuery(), sort=SortKey.USD_PER_NODE_HOUR, limit=2)
    assert [o.price_usd_per_node_hour for o in by_node] == [3.5, 3.6]
    top = find_offerings(catalog, OfferingQuery(), sort="usd-per-node-hour", descending=True)
    assert top[0].price_usd_per_node_hour == 64.0
    by_region = sort_offerings(catalog.offerings, SortKey.REGION)
    assert [o.region_id for o in by_region][:2] == ["aws:eu-central-1", "aws:us-east-1"]
    assert find_offerings(catalog, OfferingQuery(), limit=0) == ()


@pytest.mark.parametrize(
    ("query", "kind", "suggestion"),
    [
        (OfferingQuery(accelerators=("H10",)), "accelerator", "H100"),
        (OfferingQuery(providers=("nebuis",)), "provider", "nebius"),
        (OfferingQuery(regions=("aws:us-east1",)), "region", "aws:us-east-1"),
        (OfferingQuery(regions=("eu-north-1",)), "region", "eu-north1"),
        (OfferingQuery(jurisdictions=("EUR",)), "jurisdiction", "EU"),
        (OfferingQuery(purchase_options=("spto",)), "purchase option", "spot"),
    ],
)
def test_unknown_names_raise_with_suggestions(
    catalog: Catalog, query: OfferingQuery, kind: str, suggestion: str
) -> None:
    with pytest.raises(UnknownNameError) as info:
        filter_offerings(catalog, query)
    assert info.value.kind == kind
    assert suggestion in info.value.suggestions
    assert f"Did you mean {suggestion!r}" in str(info.value)


def test_unknown_sort_key(catalog: Catalog) -> None:
    with pytest.raises(UnknownNameError, match="unknown sort key 'prize'"):
        find_offerings(catalog, OfferingQuery(), sort="prize")


def test_resolvers(catalog: Catalog) -> None:
    assert resolve_accelerator("tpu-v5litepod-8") == "TPU-v5e"
    assert [r.id for r in resolve_regions(catalog, "EU-NORTH1")] == ["nebius:eu-north1"]
    assert len(in_jurisdiction(catalog, "US")) == 2
