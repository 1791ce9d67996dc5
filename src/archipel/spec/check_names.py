"""Semantic checks of names: providers, regions, accelerators and instance types of a spec.

A name is known when the catalog has it or the spec declares it (``providers:`` with
``hq_country`` and ``cloud_act``, ``regions:``, ``accelerators:``, ``offerings:``). Every place
a spec names one is checked here, and every declaration is checked not to clash with the catalog
or the built-in accelerator facts. Pure functions of :class:`Ctx`; :mod:`archipel.spec.check`
runs them with the other checks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from archipel.catalog.model import Catalog, suggest
from archipel.errors import Issue
from archipel.perf.accelerators import ACCELERATORS, canonical_name
from archipel.spec.load import SourceMap, YamlPath
from archipel.spec.models import ExclusivityRule, Spec, TrafficRampRule

_ISO_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW"""
ISO_COUNTRIES = frozenset(_ISO_TEXT.split())
"""ISO-3166-1 alpha-2 country codes (as in the tz database's iso3166.tab)."""

MAX_NAME_SHOWN = 40


def clip(name: str) -> str:
    """A name as quoted in a message: long names are cut with '…'."""
    return name if len(name) <= MAX_NAME_SHOWN else name[: MAX_NAME_SHOWN - 1] + "…"


@dataclass(frozen=True)
class Ctx:
    """What the checks look at: the spec, the catalog, where each value sits, and the ids of
    list items set aside by model validation (references to them are not reported)."""

    spec: Spec
    catalog: Catalog
    src: SourceMap
    assumed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def ids(self, name: str) -> set[str]:
        items = getattr(self.spec, name)
        return {x.id for x in items} | set(self.assumed.get(name, ()))

    @functools.cached_property
    def providers(self) -> set[str]:
        """Providers of the catalog and of the spec's ``providers:`` list."""
        return {p.id for p in self.catalog.providers} | self.ids("providers")

    @functools.cached_property
    def regions(self) -> set[str]:
        """Region ids of the catalog and of the spec's ``regions:`` list."""
        return {r.id for r in self.catalog.regions} | {r.id for r in self.spec.regions}

    @functools.cached_property
    def own_accelerators(self) -> set[str]:
        return {a.name for a in self.spec.accelerators}

    def accelerator_known(self, name: str) -> bool:
        return canonical_name(name) is not None or name in self.own_accelerators

    @functools.cached_property
    def instance_types(self) -> dict[str, set[str]]:
        """Instance types per region id, of the catalog and of the spec's ``offerings:``."""
        out: dict[str, set[str]] = {}
        for o in self.catalog.offerings:
            out.setdefault(o.region_id, set()).add(o.instance_type)
        for d in self.spec.offerings:
            out.setdefault(d.region, set()).add(d.instance_type)
        return out

    def types_in(self, prefix: str) -> set[str]:
        """Instance types of regions whose id starts with ``prefix`` (a region or 'provider:')."""
        return {t for r, ts in self.instance_types.items() if r.startswith(prefix) for t in ts}


def unknown(
    ctx: Ctx,
    path: YamlPath,
    what: str,
    name: str,
    known: set[str] | list[str],
    fix: str,
    *,
    key: bool = False,
) -> Issue:
    """An 'unknown …' issue with the near names (or the short list of known ones) as hint."""
    near = suggest(name, known) if len(name) <= 4 * MAX_NAME_SHOWN else []
    if near:
        hint = f"did you mean {' or '.join(repr(n) for n in near)}?"
    elif known and len(known) <= 12:
        hint = f"{fix}; known: {', '.join(sorted(known))}"
    else:
        hint = fix
    return ctx.src.issue(path, f"unknown {what} '{clip(name)}'", hint, key=key)


def bad_country(ctx: Ctx, code: str, path: YamlPath) -> Issue:
    hint = (
        f"write it in capitals: '{code.upper()}'"
        if code.upper() in ISO_COUNTRIES
        else "use an ISO-3166 alpha-2 code such as DE, FR, US"
    )
    return ctx.src.issue(path, f"unknown country code '{clip(code)}'", hint)


# --------------------------------------------------------------------------- providers


def _provider_paths(spec: Spec) -> Iterator[tuple[YamlPath, str]]:
    for k, p in enumerate(spec.catalog.providers or []):
        yield ("catalog", "providers", k), p
    for i, c in enumerate(spec.contracts):
        yield ("contracts", i, "provider"), c.provider
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, ExclusivityRule):
            for k, p in enumerate(rule.providers):
                yield ("rules", i, "providers", k), p
        elif isinstance(rule, TrafficRampRule):
            yield ("rules", i, "provider"), rule.provider
    for i, o in enumerate(spec.offerings):
        yield ("offerings", i, "provider"), o.provider
    for i, s in enumerate(spec.spot):
        yield ("spot", i, "provider"), s.provider


def providers(ctx: Ctx) -> Iterator[Issue]:
    """Providers named anywhere are known; a provider of one's own says where it is based."""
    in_catalog = {p.id for p in ctx.catalog.providers}
    for i, ps in enumerate(ctx.spec.providers):
        if ps.hq_country is not None and ps.hq_country not in ISO_COUNTRIES:
            yield bad_country(ctx, ps.hq_country, ("providers", i, "hq_country"))
        if ps.id in in_catalog or (ps.hq_country is not None and ps.cloud_act is not None):
            continue
        near = suggest(ps.id, in_catalog, n=1)
        if near:
            first = f"did you mean '{near[0]}'? Or, for"
        elif len(in_catalog) <= 12:
            first = f"known: {', '.join(sorted(in_catalog))}. For"
        else:
            first = "For"
        missing = " and ".join(
            f"'{name}'"
            for name, v in (("hq_country", ps.hq_country), ("cloud_act", ps.cloud_act))
            if v is None
        )
        yield ctx.src.issue(
            ("providers", i, "id"),
            f"unknown provider '{clip(ps.id)}'",
            f"{first} a provider of your own, add {missing} (its headquarters' country and "
            "whether the US CLOUD Act applies to it)",
        )
    known = ctx.providers
    for path, pid in _provider_paths(ctx.spec):
        if pid not in known:
            yield unknown(
                ctx,
                path,
                "provider",
                pid,
                known,
                "use a provider of the catalog, or declare your own under 'providers:'",
            )


# --------------------------------------------------------------------------- regions


def _contract_region_paths(spec: Spec) -> Iterator[tuple[YamlPath, str, str | None]]:
    for i, c in enumerate(spec.contracts):
        for k, r in enumerate(c.regions or []):
            yield ("contracts", i, "regions", k), r, c.provider
        for k, r in enumerate(c.scope.regions or []):
            yield ("contracts", i, "scope", "regions", k), r, c.provider
        for k, block in enumerate(c.reserved_blocks):
            yield ("contracts", i, "reserved_blocks", k, "region"), block.region, c.provider


def _region_paths(spec: Spec) -> Iterator[tuple[YamlPath, str, str | None]]:
    """(path, region id, provider it must belong to or None)."""
    for i, ps in enumerate(spec.providers):
        for k, cap in enumerate(ps.capacity):
            if cap.region is not None:
                yield ("providers", i, "capacity", k, "region"), cap.region, ps.id
        for k, price in enumerate(ps.prices):
            if price.region is not None:
                yield ("providers", i, "prices", k, "region"), price.region, ps.id
    yield from _contract_region_paths(spec)
    yield from _gateway_paths(spec)
    for i, svc in enumerate(spec.services):
        for g, regions in (svc.serving_regions or {}).items():
            for k, r in enumerate(regions):
                yield ("services", i, "serving_regions", g, k), r, None
    for i, o in enumerate(spec.offerings):
        yield ("offerings", i, "region"), o.region, o.provider
    for i, s in enumerate(spec.spot):
        if s.region is not None:
            yield ("spot", i, "region"), s.region, s.provider


def _gateway_paths(spec: Spec) -> Iterator[tuple[YamlPath, str, str | None]]:
    for i, geo in enumerate(spec.geographies):
        if geo.gateway_region is not None:
            yield ("geographies", i, "gateway_region"), geo.gateway_region, None


def regions(ctx: Ctx) -> Iterator[Issue]:
    """Region ids are 'provider:code', known, and of the provider they are used with."""
    known = ctx.regions
    for path, rid, owner in _region_paths(ctx.spec):
        provider, sep, _ = rid.partition(":")
        if not sep:
            ids = sorted(r for r in known if r.endswith(f":{rid}"))
            example = f"'{ids[0]}'" if ids else "'aws:eu-west-1'"
            yield ctx.src.issue(
                path,
                f"region '{clip(rid)}' is not written as 'provider:code'",
                f"write it with its provider, e.g. {example}",
            )
        elif rid not in known:
            pool = {r for r in known if r.startswith(f"{provider}:")} or known
            fix = "use a region of the catalog, or declare your own under 'regions:'"
            yield unknown(ctx, path, "region", rid, pool, fix)
        elif owner is not None and provider != owner:
            yield ctx.src.issue(
                path,
                f"region '{clip(rid)}' belongs to '{clip(provider)}', not '{clip(owner)}'",
                f"use a region of '{clip(owner)}' here",
            )


def declared_regions(ctx: Ctx) -> Iterator[Issue]:
    """Regions of one's own: a known provider, a new id, a real country."""
    in_catalog = {r.id for r in ctx.catalog.regions}
    for i, r in enumerate(ctx.spec.regions):
        provider = r.id.partition(":")[0]
        if r.id in in_catalog:
            yield ctx.src.issue(
                ("regions", i, "id"),
                f"region '{clip(r.id)}' is already in the catalog",
                "remove this entry to use the catalog's region, or give yours another code",
            )
        elif provider not in ctx.providers:
            yield unknown(
                ctx,
                ("regions", i, "id"),
                "provider",
                provider,
                ctx.providers,
                "declare the provider under 'providers:' (with hq_country and cloud_act)",
            )
        if r.country not in ISO_COUNTRIES:
            yield bad_country(ctx, r.country, ("regions", i, "country"))


# --------------------------------------------------------------------------- accelerators


def _accelerator_paths(spec: Spec) -> Iterator[tuple[YamlPath, str]]:
    for k, a in enumerate(spec.catalog.accelerators or []):
        yield ("catalog", "accelerators", k), a
    for i, ps in enumerate(spec.providers):
        for k, cap in enumerate(ps.capacity):
            if cap.accelerator is not None:
                yield ("providers", i, "capacity", k, "accelerator"), cap.accelerator
    for i, m in enumerate(spec.models):
        for k, t in enumerate(m.throughput):
            yield ("models", i, "throughput", k, "accelerator"), t.accelerator
    for i, job in enumerate(spec.training):
        for k, a in enumerate(job.accelerators):
            yield ("training", i, "accelerators", k), a
        ref = getattr(job.work, "reference_accelerator", None)
        if ref is not None:
            yield ("training", i, "work", "reference_accelerator"), ref
    for i, o in enumerate(spec.offerings):
        yield ("offerings", i, "accelerator"), o.accelerator
    for i, c in enumerate(spec.contracts):
        for k, a in enumerate(c.scope.accelerators or []):
            yield ("contracts", i, "scope", "accelerators", k), a


def accelerators(ctx: Ctx) -> Iterator[Issue]:
    """Accelerators named anywhere are built in (any alias, e.g. h100-sxm) or declared."""
    pool = set(ACCELERATORS) | ctx.own_accelerators
    for path, name in _accelerator_paths(ctx.spec):
        if not ctx.accelerator_known(name):
            fix = "use a name such as H100, B200, Trainium2 or TPU-v5e, or declare your own chip"
            yield unknown(ctx, path, "accelerator", name, pool, fix)


def declared_accelerators(ctx: Ctx) -> Iterator[Issue]:
    """Chips of one's own neither shadow a built-in chip nor appear twice."""
    first: dict[str, str | int] = {}
    for i, a in enumerate(ctx.spec.accelerators):
        builtin = canonical_name(a.name)
        if builtin is not None:
            yield ctx.src.issue(
                ("accelerators", i, "name"),
                f"accelerator '{clip(a.name)}' is built in (as '{builtin}')",
                "remove this entry to use the built-in facts, or give your chip another name",
            )
        low = a.name.lower()
        if low in first:
            yield ctx.src.issue(
                ("accelerators", i, "name"),
                f"accelerator '{clip(a.name)}' is declared twice (also accelerators[{first[low]}])",
                "declare each chip once",
            )
        first.setdefault(low, ctx.src.original(("accelerators", i))[1])


# --------------------------------------------------------------------------- instance types


def instance_types(ctx: Ctx) -> Iterator[Issue]:
    """Reserved blocks, negotiated prices, capacity limits and spot terms name instance types
    that exist."""
    for i, c in enumerate(ctx.spec.contracts):
        for k, block in enumerate(c.reserved_blocks):
            if block.region not in ctx.regions:
                continue  # reported as an unknown region
            here = ctx.instance_types.get(block.region, set())
            if block.instance_type not in here:
                yield unknown(
                    ctx,
                    ("contracts", i, "reserved_blocks", k, "instance_type"),
                    f"instance type in {block.region}",
                    block.instance_type,
                    here,
                    f"use an instance type offered in {block.region}",
                )
    for i, ps in enumerate(ctx.spec.providers):
        for k, price in enumerate(ps.prices):
            yield from _scoped_type(
                ctx, ("providers", i, "prices", k), ps.id, price.region, price.instance_type
            )
        for k, cap in enumerate(ps.capacity):
            if cap.instance_type is not None:
                path = ("providers", i, "capacity", k)
                yield from _scoped_type(ctx, path, ps.id, cap.region, cap.instance_type)
    for i, s in enumerate(ctx.spec.spot):
        if s.instance_type is not None:
            yield from _scoped_type(ctx, ("spot", i), s.provider, s.region, s.instance_type)


def ambiguous_terms(ctx: Ctx) -> Iterator[Issue]:
    """Two negotiated prices, or two spot terms, for the same scope: which one holds?"""
    for i, ps in enumerate(ctx.spec.providers):
        seen: dict[tuple[str, str | None, str], int] = {}
        for k, price in enumerate(ps.prices):
            key = (price.instance_type, price.region, price.purchase_option.value)
            if key in seen:
                yield ctx.src.issue(
                    ("providers", i, "prices", k),
                    f"a second price for {clip(price.instance_type)} "
                    f"({price.region or 'every region'}, {price.purchase_option.value}; "
                    f"also prices[{seen[key]}])",
                    "keep one price per instance type, region and purchase option",
                )
            seen.setdefault(key, k)
    terms: dict[tuple[str, str | None, str | None], str | int] = {}
    for i, s in enumerate(ctx.spec.spot):
        scope = (s.provider, s.region, s.instance_type)
        if scope in terms:
            yield ctx.src.issue(
                ("spot", i),
                f"second spot terms for the same scope (also spot[{terms[scope]}])",
                "merge them into one entry",
            )
        terms.setdefault(scope, ctx.src.original(("spot", i))[1])


def _scoped_type(
    ctx: Ctx, path: YamlPath, provider: str, region: str | None, instance_type: str
) -> Iterator[Issue]:
    if region is not None and (not region.startswith(f"{provider}:") or region not in ctx.regions):
        return  # a wrong region is reported on its own
    if provider not in ctx.providers:
        return  # so is an unknown provider
    scope = region or f"{provider}:"
    here = ctx.types_in(scope)
    if instance_type not in here:
        yield unknown(
            ctx,
            (*path, "instance_type"),
            f"instance type of {scope.rstrip(':')}",
            instance_type,
            here,
            "use an instance type of the catalog or of your 'offerings:'",
        )
