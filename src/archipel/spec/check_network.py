"""Semantic checks of the network a spec describes: a gateway carries its geography's data.

A geography's ``gateway_region`` receives every request of that geography and sends every
response back, so it holds the data of every service with demand there: the residency rules
and the CLOUD Act exclusion of each such service's data class apply to it as they apply to the
regions that serve. Pure functions of :class:`archipel.spec.check_names.Ctx`, run by
:mod:`archipel.spec.check` with the other checks.
"""

from __future__ import annotations

from collections.abc import Iterator

from archipel.catalog.regions import jurisdictions_for
from archipel.errors import Issue
from archipel.spec.check_names import Ctx, clip
from archipel.spec.models import CloudActExclusionRule, DemandTable, ResidencyRule


def _place(ctx: Ctx, region_id: str) -> tuple[str, tuple[str, ...]] | None:
    """(country, jurisdictions) of a region of the catalog or of the spec; None if unknown."""
    for r in ctx.spec.regions:
        if r.id == region_id:
            return r.country, jurisdictions_for(r.country)
    if ctx.catalog.has_region(region_id):
        region = ctx.catalog.region(region_id)
        return region.country, region.jurisdictions
    return None  # an unknown region: check_names.regions reports it


def _cloud_act(ctx: Ctx, provider: str) -> bool:
    for p in ctx.spec.providers:
        if p.id == provider and p.cloud_act is not None:
            return p.cloud_act
    known = {p.id: p.cloud_act for p in ctx.catalog.providers}
    return known.get(provider, False)


def gateways(ctx: Ctx) -> Iterator[Issue]:
    """A gateway region obeys the data rules of every service with demand in its geography."""
    spec = ctx.spec
    for i, geo in enumerate(spec.geographies):
        if geo.gateway_region is None:
            continue
        place = _place(ctx, geo.gateway_region)
        if place is None:
            continue
        country, tags = place
        provider = geo.gateway_region.partition(":")[0]
        path = ("geographies", i, "gateway_region")
        where = f"gateway region '{clip(geo.gateway_region)}' of geography '{clip(geo.id)}'"
        for svc in spec.services:
            demand = svc.demand
            geos = (
                demand.by_geography if isinstance(demand, DemandTable) else demand.base_by_geography
            )
            if svc.data_class is None or geo.id not in geos:
                continue
            for rule in spec.rules:
                if isinstance(rule, ResidencyRule) and rule.data_class == svc.data_class:
                    if set(tags) & set(rule.jurisdictions) or country in rule.countries:
                        continue
                    allowed = [*rule.jurisdictions, *rule.countries]
                    yield ctx.src.issue(
                        path,
                        f"{where} is in {country}, outside the residency rule of data class "
                        f"'{clip(svc.data_class)}' (service '{clip(svc.id)}'): {allowed}",
                        "the gateway carries the geography's requests and responses: use a "
                        "gateway region the rule allows, or none",
                    )
                elif (
                    isinstance(rule, CloudActExclusionRule)
                    and svc.data_class in rule.data_classes
                    and _cloud_act(ctx, provider)
                ):
                    yield ctx.src.issue(
                        path,
                        f"{where} belongs to '{clip(provider)}', subject to the US CLOUD Act, "
                        f"which data class '{clip(svc.data_class)}' (service '{clip(svc.id)}') "
                        "excludes",
                        "use a gateway region of a provider the CLOUD Act does not reach, or none",
                    )
