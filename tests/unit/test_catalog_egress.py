"""The data-transfer list rates: sourced, complete for the catalog's clouds, overridable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archipel.catalog.egress import ANY, RATES, rate_book
from archipel.catalog.regions import PROVIDERS
from archipel.spec.models import EgressRates

CONTINENTS = {"Africa", "Asia", "Europe", "North America", "Oceania", "South America", ANY}


def test_every_rate_names_its_source_and_when_it_was_read() -> None:
    for r in RATES:
        assert r.url.startswith("https://"), r
        assert dt.date(2020, 1, 1) <= dt.date.fromisoformat(r.captured) <= dt.date(2026, 11, 30)
        assert 0.0 <= r.usd_per_gb <= 0.3, r
        assert r.source in CONTINENTS, r
        assert r.to_country == "" or r.path == "internet", r
    keys = [(r.provider, r.path, r.source, r.to_country) for r in RATES]
    assert len(keys) == len(set(keys)), "one rate per provider, path and place"


def test_every_cloud_of_the_builtin_catalog_has_an_internet_rate() -> None:
    with_rates = {r.provider for r in RATES if r.path == "internet" and r.source == ANY}
    builtin = {p.id for p in PROVIDERS} - {"vast"}  # a marketplace: each host sets its own
    assert builtin <= with_rates


@pytest.mark.parametrize(
    ("provider", "continent", "country", "usd"),
    [
        ("aws", "Europe", "DE", 0.09),
        ("aws", "Asia", "SG", 0.12),
        ("aws", "South America", "BR", 0.12),  # assumed: AWS's highest figure found
        ("azure", "North America", "US", 0.087),
        ("gcp", "Europe", "DE", 0.12),
        ("gcp", "Europe", "AU", 0.19),  # Google prices by the users' country
        ("oci", "North America", "US", 0.0085),
        ("oci", "Asia", "JP", 0.025),
        ("lambda", "North America", "US", 0.0),
        ("nebius", "Europe", "FI", 0.0),
        ("my-dc", "", "FR", 0.0),  # a provider of one's own: free unless the spec says
    ],
)
def test_internet_rates(provider: str, continent: str, country: str, usd: float) -> None:
    assert rate_book().internet(provider, continent, country) == usd


def test_between_regions_of_one_provider() -> None:
    book = rate_book()
    assert book.between("aws", "North America", "North America") == 0.02
    assert book.between("aws", "Europe", "Asia") == 0.02  # AWS prices by the source only
    assert book.between("azure", "Europe", "Europe") == 0.02
    assert book.between("azure", "Europe", "North America") == 0.05
    assert book.between("azure", "South America", "South America") == 0.16
    assert book.between("gcp", "Europe", "Asia") == 0.08
    # no figure found: the sending continent's internet rate, an upper bound
    assert book.between("aws", "Asia", "Asia") == 0.12
    assert book.between("oci", "Europe", "Europe") == 0.0085
    # a declared region has no continent: never "the same continent"
    assert book.between("aws", "", "") == book.between("aws", "", "Europe") == 0.12


def test_negotiated_rates_replace_the_list_rates_they_name() -> None:
    book = rate_book(
        {
            "gcp": EgressRates(internet_usd_per_gb=0.05),
            "aws": EgressRates(inter_region_usd_per_gb=0.01),
            "my-dc": EgressRates(internet_usd_per_gb=0.004, inter_continent_usd_per_gb=0.002),
        }
    )
    assert book.internet("gcp", "Europe", "AU") == 0.05  # every destination
    assert book.between("gcp", "Europe", "Europe") == 0.02  # not named: the list rate
    assert book.between("aws", "Europe", "Europe") == 0.01
    assert book.between("aws", "Europe", "Asia") == 0.02
    assert book.internet("aws", "Europe", "DE") == 0.09
    assert book.internet("my-dc", "", "FR") == 0.004
    assert book.between("my-dc", "", "") == 0.002


def test_docs_list_every_rate() -> None:
    """docs/catalog.md's table is the module's: a revised rate is a revised doc."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text("utf-8")
    paths = (" | internet | ", " | inter_region | ", " | inter_continent | ")
    rows = [line for line in text.splitlines() if any(p in line for p in paths)]
    assert len(rows) == len(RATES)
    for r, row in zip(RATES, rows, strict=True):
        usd = f"{r.usd_per_gb:g}" + (" assumed" if r.assumed else "")
        head = f"| {r.provider} | {r.path} | {r.source} | {r.to_country or '*'} | {usd} | "
        assert row.startswith(head + r.captured), row
