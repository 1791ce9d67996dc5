"""Data-transfer list rates per provider, with where each figure comes from.

Rates are USD per GB of 2^30 bytes (Google prints GiB; the others print "GB"), for the **first
paid volume tier** of a month: what an account pays before volume discounts (AWS lists 0.09 for
the first 10 TB out of US regions and 0.05 beyond 150 TB). Volume tiers make the price fall
with volume, which a linear program cannot price exactly; a fleet that moves hundreds of TB a
month negotiates anyway: ``providers[].egress`` in the spec replaces these rates. Monthly free
allowances are not deducted either (AWS and Azure 100 GB, Oracle 10 TB per region group: at
most 9 USD, 9 USD and, for Oracle, 87 USD a month out of North America and Europe).

Paths (docs/semantics.md, "Network cost"): ``internet`` is out of a region to users or to
another provider's region; ``inter_region`` to another region of the same provider on the same
continent, ``inter_continent`` on another continent. Ingress is free everywhere. A rate is
keyed by the continent of the sending region (the catalog's ``continent``: Africa, Asia, Europe,
North America, Oceania, South America; the Middle East is under Asia) or ``*`` for any; Google
also prices its internet egress by the users' country (``to_country``).

``assumed`` marks a rate no source gave for that exact path, with the rule used: a continent
without a published figure takes the provider's highest internet figure found. A transfer
between two of a provider's regions with no row here takes the internet rate of the sending
continent (an upper bound: no provider here charges more between its own regions than to the
internet). ``captured`` is the date the figure was read: the source's own date when it gives
one, else the day it was read from a stored copy.
docs/catalog.md ("Network transfer rates") lists them; a test keeps the two equal. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from archipel.spec.network import EgressRates

Path = Literal["internet", "inter_region", "inter_continent"]
ANY = "*"
BYTES_PER_GB = 2**30

_AWS = "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer)"
_AWS_FAQ = "https://aws.amazon.com/about-aws/global-infrastructure/global-network/faqs"
_AZURE = "https://azure.microsoft.com/en-us/pricing/details/bandwidth/"
_GCP = "https://cloud.google.com/vpc/network-pricing"
_OCI = "https://www.oracle.com/cloud/networking/pricing/"
# The providers' public price APIs, as read for US East and Singapore in a published cost study
# dated 2026-10-09 (Google's figures there come from its pricing page)
_STUDY = "cost study of 2026-10-09"
_AWS_API = (
    "AWS Price List API "
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AWSDataTransfer/current/index.json"
)
_AZURE_API = "Azure Retail Prices API https://prices.azure.com/api/retail/prices (Bandwidth)"
_OCI_API = "Oracle price list API https://apexapps.oracle.com/pls/apex/cetools/api/v1/products/"


@dataclass(frozen=True, slots=True)
class Rate:
    """One list rate: USD per GB from a region of ``provider`` on continent ``source``."""

    provider: str
    path: Path
    source: str  # continent of the sending region, or ANY
    usd_per_gb: float
    url: str  # where the figure is published (and, when read elsewhere, where it was read)
    captured: str  # ISO date the figure was read
    to_country: str = ""  # internet only: the rate for users in this country ("" = any)
    assumed: bool = False  # no source gave this exact figure; the module docstring's rule
    note: str = ""


_r = Rate

NA, EU, ASIA, OC, SA, AF = (
    "North America",
    "Europe",
    "Asia",
    "Oceania",
    "South America",
    "Africa",
)
_LEANOPS = "https://leanopstech.com/blog/aws-data-transfer-pricing-2026/"
_SYDNEY = "https://chengqing.dev/en/2020/01/23/aws-data-transfer/ (ap-southeast-2)"
_REDRESS = "https://www.redresscompliance.com/aws-inter-region-transfer-costs-multiregion.html"
_LUCIDITY = "https://lucidity.cloud/feeds/blog/azure-storage-egress-cost"
_NETEZZA = "https://www.ibm.com/products/netezza/pricing (Azure transfer passed through)"
_EGRESSCOST = "https://egresscost.com/gcp/premium-vs-standard (from us-central1)"
_GCP_RANGES = "https://brainagents.ai/gcpfinops/blog/gcp-network-egress-cross-region-costs"
_LAMBDA = "https://docs.lambda.ai/public-cloud/billing"
_NEBIUS = "https://www.thundercompute.com/blog/egress-fees-cloud-gpus"
_HIGHEST = "no figure found for this continent: the provider's highest internet rate found"
_UPPER = "no figure found: the sending continent's internet rate, an upper bound"

RATES: tuple[Rate, ...] = (
    # --- AWS: priced by the sending region only (AWS Global Network FAQ)
    _r("aws", "internet", NA, 0.09, _AWS, "2026-10-09", note=f"{_AWS_API}, {_STUDY}"),
    _r("aws", "internet", EU, 0.09, _AWS, "2026-04-27", note=_LEANOPS),
    _r("aws", "internet", ASIA, 0.12, _AWS, "2026-10-09", note=f"Singapore: {_AWS_API}, {_STUDY}"),
    _r("aws", "internet", OC, 0.114, _AWS, "2020-01-23", note=_SYDNEY),
    _r("aws", "internet", ANY, 0.12, _AWS, "2026-10-09", assumed=True, note=_HIGHEST),
    _r("aws", "inter_region", NA, 0.02, _AWS_FAQ, "2026-04-27", note=_LEANOPS),
    _r("aws", "inter_region", EU, 0.02, _AWS_FAQ, "2026-04-27", note=_LEANOPS),
    _r("aws", "inter_continent", NA, 0.02, _AWS_FAQ, "2026-11-30", note=_REDRESS),
    _r("aws", "inter_continent", EU, 0.02, _AWS_FAQ, "2026-11-30", note=_REDRESS),
    # --- Azure: routed over the Microsoft global network (the default)
    _r("azure", "internet", NA, 0.087, _AZURE, "2026-10-09", note=f"{_AZURE_API}, {_STUDY}"),
    _r(
        "azure",
        "internet",
        EU,
        0.087,
        _AZURE,
        "2026-11-30",
        note="zone 1: North America and Europe",
    ),
    _r(
        "azure",
        "internet",
        ASIA,
        0.12,
        _AZURE,
        "2026-10-09",
        note=f"Singapore: {_AZURE_API}, {_STUDY}",
    ),
    _r("azure", "internet", OC, 0.12, _AZURE, "2026-10-09", assumed=True, note="zone 2, as Asia"),
    _r("azure", "internet", ANY, 0.181, _AZURE, "2026-11-30", assumed=True, note=_LUCIDITY),
    _r("azure", "inter_region", NA, 0.02, _AZURE, "2026-11-30", note=_LUCIDITY),
    _r("azure", "inter_region", EU, 0.02, _AZURE, "2026-11-30", note=_LUCIDITY),
    _r("azure", "inter_region", ASIA, 0.08, _AZURE, "2026-11-30", note=_LUCIDITY),
    _r("azure", "inter_region", AF, 0.08, _AZURE, "2026-11-30", note=f"MEA; {_LUCIDITY}"),
    _r("azure", "inter_region", SA, 0.16, _AZURE, "2026-11-30", note=_LUCIDITY),
    _r("azure", "inter_continent", NA, 0.05, _AZURE, "2026-10-07", note=_NETEZZA),
    _r("azure", "inter_continent", EU, 0.05, _AZURE, "2026-10-07", note=_NETEZZA),
    # --- Google Cloud: Premium Tier, first TiB; priced by the users' place
    _r(
        "gcp",
        "internet",
        ANY,
        0.12,
        _GCP,
        "2026-10-09",
        note=f"to North America and Asia, {_STUDY}",
    ),
    _r("gcp", "internet", ANY, 0.19, _GCP, "2026-04-01", to_country="AU", note=_EGRESSCOST),
    _r("gcp", "internet", ANY, 0.23, _GCP, "2026-10-09", to_country="CN", note=_STUDY),
    _r("gcp", "inter_region", ANY, 0.02, _GCP, "2026-11-30", assumed=True, note=_GCP_RANGES),
    _r("gcp", "inter_continent", ANY, 0.08, _GCP, "2026-11-30", assumed=True, note=_GCP_RANGES),
    # --- Oracle: after 10 TB a month free (price list part B88327 and its siblings)
    _r("oci", "internet", NA, 0.0085, _OCI, "2026-10-09", note=f"B88327: {_OCI_API}, {_STUDY}"),
    _r("oci", "internet", EU, 0.0085, _OCI, "2026-10-09", note="B88327: North America, Europe, UK"),
    _r("oci", "internet", ASIA, 0.025, _OCI, "2026-10-09", note=f"Singapore: {_OCI_API}, {_STUDY}"),
    _r("oci", "internet", OC, 0.025, _OCI, "2026-10-09", note="APAC, Japan and South America"),
    _r("oci", "internet", SA, 0.025, _OCI, "2026-10-09", note="APAC, Japan and South America"),
    _r("oci", "internet", AF, 0.05, _OCI, "2026-10-09", note="Middle East and Africa"),
    _r("oci", "internet", ANY, 0.05, _OCI, "2026-10-09", assumed=True, note=_HIGHEST),
    # --- GPU clouds that bill no data transfer
    _r("lambda", "internet", ANY, 0.0, _LAMBDA, "2026-11-30", note="billed: instances, storage"),
    _r("nebius", "internet", ANY, 0.0, _NEBIUS, "2026-06-01", assumed=True, note="3rd party"),
    _r(
        "hyperstack",
        "internet",
        ANY,
        0.0,
        "https://docs.hyperstack.cloud/docs/billing",
        "2026-11-30",
        assumed=True,
        note="its billing docs list no data-transfer charge",
    ),
    _r(
        "verda",
        "internet",
        ANY,
        0.0,
        "https://docs.verda.com/welcome-to-verda/pricing-and-billing",
        "2026-11-30",
        assumed=True,
        note="its billing docs list no data-transfer charge",
    ),
)


@dataclass(frozen=True)
class RateBook:
    """List rates with a spec's ``providers[].egress`` applied: look-ups by path and place."""

    rates: tuple[Rate, ...]
    overrides: Mapping[str, EgressRates]
    # look-ups already made: a planner asks the same few questions for many flows
    _memo: dict[tuple[str, Path, str, str], float] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _list(self, provider: str, path: Path, source: str, to_country: str = "") -> float:
        key = (provider, path, source, to_country)
        if key not in self._memo:
            self._memo[key] = self._find(provider, path, source, to_country)
        return self._memo[key]

    def _find(self, provider: str, path: Path, source: str, to_country: str) -> float:
        best: tuple[int, float] | None = None
        for r in self.rates:
            if r.provider != provider or r.path != path:
                continue
            if r.source not in (source, ANY) or r.to_country not in (to_country, ""):
                continue
            rank = 2 * (r.to_country != "") + (r.source != ANY)
            if best is None or rank > best[0]:
                best = (rank, r.usd_per_gb)
        if best is not None:
            return best[1]
        if path == "internet":
            return 0.0  # a provider without rates (one's own): 0 unless the spec gives them
        return self._list(provider, "internet", source)  # the upper bound of the docstring

    def internet(self, provider: str, continent: str, country: str) -> float:
        """USD per GB out of a ``provider`` region on ``continent`` to users in ``country``."""
        given = self.overrides.get(provider)
        if given is not None and given.internet_usd_per_gb is not None:
            return given.internet_usd_per_gb
        return self._list(provider, "internet", continent, country)

    def between(self, provider: str, continent: str, to_continent: str) -> float:
        """USD per GB from a ``provider`` region on ``continent`` to another of its regions."""
        same = continent == to_continent and continent != ""
        path: Path = "inter_region" if same else "inter_continent"
        given = self.overrides.get(provider)
        if given is not None:
            value = given.inter_region_usd_per_gb if same else given.inter_continent_usd_per_gb
            if value is not None:
                return value
        return self._list(provider, path, continent)


def rate_book(overrides: Mapping[str, EgressRates] | None = None) -> RateBook:
    """The built-in list rates, with negotiated ones (provider id → rates) in their place."""
    return RateBook(RATES, dict(overrides or {}))
