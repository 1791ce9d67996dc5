"""Region and provider facts: where each region is, which jurisdiction it is in, who runs it.

Sources
- aws, azure, gcp, oci: ``regions/cloud_regions.csv`` in the shared data (names from botocore
  ``endpoints.json``, Apache-2.0; city and coordinates from dgl/cloud-regions, ODbL-1.0), read
  by :func:`parse_cloud_regions`. 36 newer regions have no coordinates there;
  :data:`CURATED_COORDINATES` gives the city-centre coordinates (WGS84, 3 decimals, from the
  cities' GeoNames entries) of the city the file itself names for them.
- nebius, lambda, verda, hyperstack: not in that file. :func:`neocloud_regions` is a curated table
  from the providers' public region lists: Nebius docs "Regions" (eu-north1 Finland, Mäntsälä;
  eu-west1 France, Paris; us-central1 USA, Kansas City), Lambda's API region descriptions
  ("Texas, USA", "Osaka, Japan", …), Verda (ex-DataCrunch) locations FIN-01..03 (Finland, Helsinki
  area) and Hyperstack regions CANADA-1 (Montréal), NORWAY-1 (Oslo), US-1. Where a provider names
  only a state or a country, the city is a representative one (Lambda: us-east-1 "Virginia" →
  Ashburn, us-south-1 "Texas" → Dallas, us-midwest-1 "Illinois" → Chicago, us-west-1 "California"
  → San Francisco, us-west-2 "Arizona" → Phoenix, us-west-3 "Utah" → Salt Lake City,
  europe-central-1 "Germany" → Frankfurt, europe-south-1 "Italy" → Milan, asia-south-1 "India" →
  Mumbai, me-west-1 "Israel" → Tel Aviv). Hyperstack does not publish US-1's site: it sits at the
  contiguous-US centre, good for continent-scale latency estimates only.
- Jurisdiction ``EU``: the 27 EU member states plus the EEA's Iceland, Liechtenstein and Norway.
- Providers: headquarters country from each company's filings; ``cloud_act`` is True for a US
  headquarters (the US CLOUD Act reaches US companies' data wherever it is stored).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from types import MappingProxyType

from archipel.catalog.model import Provider, Region, suggest
from archipel.errors import CatalogError, UnknownNameError

EU_MEMBER_STATES: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
EEA_NON_EU: frozenset[str] = frozenset(("IS", "LI", "NO"))
EU_EEA_COUNTRIES: frozenset[str] = EU_MEMBER_STATES | EEA_NON_EU

PROVIDERS: tuple[Provider, ...] = (
    Provider("aws", "Amazon Web Services", "US", True),
    Provider("azure", "Microsoft Azure", "US", True),
    Provider("gcp", "Google Cloud", "US", True),
    Provider("oci", "Oracle Cloud Infrastructure", "US", True),
    Provider("lambda", "Lambda", "US", True),
    Provider("nebius", "Nebius", "NL", False),
    Provider("verda", "Verda (formerly DataCrunch)", "FI", False),
    Provider("hyperstack", "Hyperstack (NexGen Cloud)", "GB", False),
    Provider("vast", "Vast.ai", "US", True),
)

# (provider, region code) -> (lat, lon) of the city cloud_regions.csv names for the region.
CURATED_COORDINATES: MappingProxyType[tuple[str, str], tuple[float, float]] = MappingProxyType(
    {
        ("aws", "ap-east-2"): (25.033, 121.565),  # Taipei
        ("aws", "ap-southeast-5"): (3.139, 101.687),  # Malaysia: Kuala Lumpur
        ("aws", "ap-southeast-6"): (-36.848, 174.763),  # New Zealand: Auckland
        ("aws", "ap-southeast-7"): (13.756, 100.502),  # Thailand: Bangkok
        ("aws", "ca-west-1"): (51.045, -114.072),  # Calgary
        ("aws", "eu-south-2"): (41.649, -0.889),  # Spain: Aragón, Zaragoza
        ("aws", "eusc-de-east-1"): (52.391, 13.065),  # Germany: Brandenburg, Potsdam
        ("aws", "mx-central-1"): (20.588, -100.390),  # Mexico (Central): Querétaro
        ("aws", "us-gov-east-1"): (39.961, -82.999),  # GovCloud US-East: Ohio, Columbus
        ("aws", "us-gov-west-1"): (45.515, -122.679),  # GovCloud US-West: Oregon, Portland
        ("azure", "austriaeast"): (48.208, 16.373),  # Vienna
        ("azure", "belgiumcentral"): (50.850, 4.352),  # Brussels
        ("azure", "chilecentral"): (-33.449, -70.669),  # Santiago
        ("azure", "denmarkeast"): (55.676, 12.568),  # Copenhagen
        ("azure", "indonesiacentral"): (-6.208, 106.846),  # Jakarta
        ("azure", "israelcentral"): (32.085, 34.782),  # Israel: Tel Aviv
        ("azure", "italynorth"): (45.464, 9.190),  # Milan
        ("azure", "malaysiawest"): (3.139, 101.687),  # Kuala Lumpur
        ("azure", "mexicocentral"): (20.588, -100.390),  # Querétaro
        ("azure", "newzealandnorth"): (-36.848, 174.763),  # Auckland
        ("azure", "polandcentral"): (52.230, 21.012),  # Warsaw
        ("azure", "qatarcentral"): (25.286, 51.531),  # Doha
        ("azure", "spaincentral"): (40.417, -3.704),  # Madrid
        ("gcp", "africa-south1"): (-26.204, 28.047),  # Johannesburg
        ("gcp", "asia-southeast3"): (13.756, 100.502),  # Bangkok
        ("gcp", "europe-north2"): (59.329, 18.069),  # Stockholm
        ("gcp", "europe-west10"): (52.520, 13.405),  # Berlin
        ("gcp", "europe-west12"): (45.070, 7.687),  # Turin
        ("gcp", "me-central1"): (25.286, 51.531),  # Doha
        ("gcp", "me-central2"): (26.434, 50.103),  # Dammam
        ("gcp", "me-west1"): (32.085, 34.782),  # Tel Aviv
        ("gcp", "northamerica-south1"): (20.588, -100.390),  # Querétaro
        ("oci", "af-casablanca-1"): (33.573, -7.590),  # Casablanca
        ("oci", "eu-madrid-1"): (40.417, -3.704),  # Madrid
        ("oci", "mx-queretaro-1"): (20.588, -100.390),  # Querétaro
        ("oci", "us-chicago-1"): (41.878, -87.630),  # Chicago
    }
)

# provider, code, city, country, continent, lat, lon
_NEOCLOUD_ROWS: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    ("nebius", "eu-north1", "Mäntsälä", "FI", "Europe", 60.636, 25.318),
    ("nebius", "eu-west1", "Paris", "FR", "Europe", 48.857, 2.352),
    ("nebius", "us-central1", "Kansas City", "US", "North America", 39.100, -94.579),
    ("lambda", "asia-northeast-1", "Osaka", "JP", "Asia", 34.694, 135.502),
    ("lambda", "asia-northeast-2", "Tokyo", "JP", "Asia", 35.690, 139.692),
    ("lambda", "asia-south-1", "Mumbai", "IN", "Asia", 19.076, 72.878),
    ("lambda", "australia-east-1", "Sydney", "AU", "Oceania", -33.869, 151.209),
    ("lambda", "europe-central-1", "Frankfurt", "DE", "Europe", 50.110, 8.682),
    ("lambda", "europe-south-1", "Milan", "IT", "Europe", 45.464, 9.190),
    ("lambda", "me-west-1", "Tel Aviv", "IL", "Asia", 32.085, 34.782),
    ("lambda", "us-east-1", "Ashburn", "US", "North America", 39.044, -77.487),
    ("lambda", "us-east-2", "Washington, D.C.", "US", "North America", 38.907, -77.037),
    ("lambda", "us-east-3", "Washington, D.C.", "US", "North America", 38.907, -77.037),
    ("lambda", "us-midwest-1", "Chicago", "US", "North America", 41.878, -87.630),
    ("lambda", "us-south-1", "Dallas", "US", "North America", 32.777, -96.797),
    ("lambda", "us-south-2", "Dallas", "US", "North America", 32.777, -96.797),
    ("lambda", "us-south-3", "Austin", "US", "North America", 30.267, -97.743),
    ("lambda", "us-west-1", "San Francisco", "US", "North America", 37.775, -122.419),
    ("lambda", "us-west-2", "Phoenix", "US", "North America", 33.448, -112.074),
    ("lambda", "us-west-3", "Salt Lake City", "US", "North America", 40.761, -111.891),
    ("verda", "FIN-01", "Helsinki", "FI", "Europe", 60.170, 24.938),
    ("verda", "FIN-02", "Helsinki", "FI", "Europe", 60.170, 24.938),
    ("verda", "FIN-03", "Helsinki", "FI", "Europe", 60.170, 24.938),
    ("hyperstack", "CANADA-1", "Montréal", "CA", "North America", 45.502, -73.567),
    ("hyperstack", "NORWAY-1", "Oslo", "NO", "Europe", 59.914, 10.752),
    ("hyperstack", "US-1", "US centre (site unpublished)", "US", "North America", 39.828, -98.579),
)


def jurisdictions_for(country: str) -> tuple[str, ...]:
    """Jurisdiction tags of an ISO-3166 alpha-2 country: ``("EU",)`` for EU/EEA members."""
    return ("EU",) if country.upper() in EU_EEA_COUNTRIES else ()


def provider_facts(provider_id: str) -> Provider:
    """The built-in facts for a provider id; unknown ids raise with suggestions."""
    for p in PROVIDERS:
        if p.id == provider_id:
            return p
    raise UnknownNameError("provider", provider_id, suggest(provider_id, (p.id for p in PROVIDERS)))


def neocloud_regions() -> tuple[Region, ...]:
    """Curated regions of nebius, lambda, verda and hyperstack (see the module docstring)."""
    return tuple(
        Region(p, code, city, cc, continent, lat, lon, jurisdictions_for(cc))
        for p, code, city, cc, continent, lat, lon in _NEOCLOUD_ROWS
    )


_CLOUD_REGION_COLUMNS = (
    "provider",
    "region_code",
    "city",
    "country_code",
    "continent",
    "lat",
    "lon",
)


def parse_cloud_regions(text: str, file: str = "cloud_regions.csv") -> tuple[Region, ...]:
    """Regions from ``cloud_regions.csv`` text; coordinates missing there come from
    :data:`CURATED_COORDINATES`. A row that cannot be used raises ``CatalogError`` at file:line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise CatalogError(f"{file}:1: empty file; expected a header with {_CLOUD_REGION_COLUMNS}")
    missing = [c for c in _CLOUD_REGION_COLUMNS if c not in header]
    if missing:
        raise CatalogError(f"{file}:1: header lacks column(s) {', '.join(missing)}")
    col = {name: header.index(name) for name in _CLOUD_REGION_COLUMNS}
    regions: list[Region] = []
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) != len(header):
            raise CatalogError(f"{file}:{line}: expected {len(header)} fields, found {len(fields)}")
        provider, code, city, cc, continent = (
            fields[col[c]].strip()
            for c in ("provider", "region_code", "city", "country_code", "continent")
        )
        if not provider or not code or len(cc) != 2:
            raise CatalogError(
                f"{file}:{line}: provider, region_code and a 2-letter country_code are required"
            )
        where = f"{file}:{line}: {provider}:{code}"
        lat, lon = _coordinates(fields[col["lat"]], fields[col["lon"]], (provider, code), where)
        regions.append(
            Region(provider, code, city, cc.upper(), continent, lat, lon, jurisdictions_for(cc))
        )
    return tuple(regions)


def load_cloud_regions(path: Path) -> tuple[Region, ...]:
    """Read ``cloud_regions.csv`` from disk (see :func:`parse_cloud_regions`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read region facts: {exc.strerror or exc}") from exc
    return parse_cloud_regions(text, str(path))


def _coordinates(
    lat_text: str, lon_text: str, key: tuple[str, str], where: str
) -> tuple[float, float]:
    if not (lat_text.strip() and lon_text.strip()):
        curated = CURATED_COORDINATES.get(key)
        if curated is None:
            raise CatalogError(
                f"{where} has no lat/lon and none is curated — add its city's coordinates to "
                "CURATED_COORDINATES in archipel/catalog/regions.py"
            )
        return curated
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise CatalogError(f"{where}: lat/lon {lat_text!r}, {lon_text!r} are not numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise CatalogError(f"{where}: lat/lon {lat}, {lon} are out of range")
    return lat, lon
