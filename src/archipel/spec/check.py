"""Semantic checks of a spec that validated: ids, references, catalog names, dates, lengths.

:func:`check_spec` is pure: it takes a :class:`~archipel.spec.models.Spec`, a
:class:`~archipel.catalog.model.Catalog` and the spec's :class:`~archipel.spec.load.SourceMap`,
and returns every problem as an :class:`~archipel.errors.Issue` placed at the offending value.
:func:`validate_file` is the edge: it reads a file, runs the model validation and these checks,
and raises one :class:`~archipel.errors.SpecError` holding every problem of both, in file order.
When some list items fail model validation, the rest of the spec is still checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from archipel.catalog.model import Catalog, suggest
from archipel.errors import Issue, SpecError
from archipel.perf.accelerators import ACCELERATORS, canonical_name
from archipel.spec.load import (
    SourceMap,
    YamlPath,
    build_spec,
    by_position,
    read_document,
    read_text,
    salvage,
    set_aside_ids,
)
from archipel.spec.models import (
    DemandTable,
    ExclusivityRule,
    MinProvidersRule,
    ResidencyRule,
    Spec,
    SurvivabilityRule,
)
from archipel.spec.periods import periods

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

_ID_LISTS = ("providers", "geographies", "models", "services", "training", "contracts")


@dataclass(frozen=True)
class _Ctx:
    spec: Spec
    catalog: Catalog
    src: SourceMap
    assumed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def ids(self, name: str) -> set[str]:
        items = getattr(self.spec, name)
        return {x.id for x in items} | set(self.assumed.get(name, ()))


def _unknown(
    ctx: _Ctx,
    path: YamlPath,
    what: str,
    name: str,
    known: set[str] | list[str],
    fix: str,
    *,
    key: bool = False,
) -> Issue:
    near = suggest(name, known)
    if near:
        hint = f"did you mean {' or '.join(repr(n) for n in near)}?"
    elif known and len(known) <= 12:
        hint = f"{fix}; known: {', '.join(sorted(known))}"
    else:
        hint = fix
    return ctx.src.issue(path, f"unknown {what} '{name}'", hint, key=key)


# --------------------------------------------------------------------------- ids & references


def _unique_ids(ctx: _Ctx) -> Iterator[Issue]:
    for name in _ID_LISTS:
        first: dict[str, int] = {}
        for i, item in enumerate(getattr(ctx.spec, name)):
            if item.id in first:
                j = ctx.src.original((name, first[item.id]))[1]
                yield ctx.src.issue(
                    (name, i, "id"),
                    f"duplicate id '{item.id}' (also used by {name}[{j}])",
                    f"give each entry of '{name}' its own id",
                )
            else:
                first[item.id] = i


def _references(ctx: _Ctx) -> Iterator[Issue]:
    spec = ctx.spec
    models, geos, services = ctx.ids("models"), ctx.ids("geographies"), ctx.ids("services")
    for i, svc in enumerate(spec.services):
        if svc.model not in models:
            yield _unknown(
                ctx,
                ("services", i, "model"),
                "model",
                svc.model,
                models,
                "declare it under 'models:'",
            )
        field_name = "by_geography" if isinstance(svc.demand, DemandTable) else "base_by_geography"
        demand = getattr(svc.demand, field_name)
        for g in demand:
            if g not in geos:
                yield _unknown(
                    ctx,
                    ("services", i, "demand", field_name, g),
                    "geography",
                    g,
                    geos,
                    "declare it under 'geographies:'",
                    key=True,
                )
        for g in svc.serving_regions or {}:
            if g not in geos:
                yield _unknown(
                    ctx,
                    ("services", i, "serving_regions", g),
                    "geography",
                    g,
                    geos,
                    "declare it under 'geographies:'",
                    key=True,
                )
    for i, job in enumerate(spec.training):
        if job.model is not None and job.model not in models:
            yield _unknown(
                ctx,
                ("training", i, "model"),
                "model",
                job.model,
                models,
                "declare it under 'models:' or leave 'model' out",
            )
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, ExclusivityRule) and rule.model not in models:
            yield _unknown(
                ctx,
                ("rules", i, "model"),
                "model",
                rule.model,
                models,
                "declare it under 'models:'",
            )
        if isinstance(rule, SurvivabilityRule | MinProvidersRule):
            for k, s in enumerate(rule.services or []):
                if s not in services:
                    yield _unknown(
                        ctx,
                        ("rules", i, "services", k),
                        "service",
                        s,
                        services,
                        "name a service declared under 'services:'",
                    )


# --------------------------------------------------------------------------- catalog names


def _provider_paths(spec: Spec) -> Iterator[tuple[YamlPath, str]]:
    for k, p in enumerate(spec.catalog.providers or []):
        yield ("catalog", "providers", k), p
    for i, ps in enumerate(spec.providers):
        yield ("providers", i, "id"), ps.id
    for i, c in enumerate(spec.contracts):
        yield ("contracts", i, "provider"), c.provider
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, ExclusivityRule):
            for k, p in enumerate(rule.providers):
                yield ("rules", i, "providers", k), p


def _providers(ctx: _Ctx) -> Iterator[Issue]:
    known = {p.id for p in ctx.catalog.providers}
    for path, pid in _provider_paths(ctx.spec):
        if pid not in known:
            yield _unknown(ctx, path, "provider", pid, known, "use a provider of the catalog")


def _region_paths(spec: Spec) -> Iterator[tuple[YamlPath, str, str | None]]:
    """(path, region id, provider it must belong to or None)."""
    for i, ps in enumerate(spec.providers):
        for k, cap in enumerate(ps.capacity):
            if cap.region is not None:
                yield ("providers", i, "capacity", k, "region"), cap.region, ps.id
        for k, price in enumerate(ps.prices):
            if price.region is not None:
                yield ("providers", i, "prices", k, "region"), price.region, ps.id
    for i, c in enumerate(spec.contracts):
        for k, r in enumerate(c.regions or []):
            yield ("contracts", i, "regions", k), r, c.provider
        for k, block in enumerate(c.reserved_blocks):
            yield ("contracts", i, "reserved_blocks", k, "region"), block.region, c.provider
    for i, svc in enumerate(spec.services):
        for g, regions in (svc.serving_regions or {}).items():
            for k, r in enumerate(regions):
                yield ("services", i, "serving_regions", g, k), r, None


def _regions(ctx: _Ctx) -> Iterator[Issue]:
    known = {r.id for r in ctx.catalog.regions}
    for path, rid, owner in _region_paths(ctx.spec):
        provider, sep, _ = rid.partition(":")
        if not sep:
            ids = [r.id for r in ctx.catalog.regions if r.code == rid]
            example = f"'{ids[0]}'" if ids else "'aws:eu-west-1'"
            yield ctx.src.issue(
                path,
                f"region '{rid}' is not written as 'provider:code'",
                f"write it with its provider, e.g. {example}",
            )
        elif rid not in known:
            pool = {r for r in known if r.startswith(f"{provider}:")} or known
            yield _unknown(ctx, path, "region", rid, pool, "use a region of the catalog")
        elif owner is not None and provider != owner:
            yield ctx.src.issue(
                path,
                f"region '{rid}' belongs to '{provider}', not '{owner}'",
                f"use a region of '{owner}' here",
            )


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


def _accelerators(ctx: _Ctx) -> Iterator[Issue]:
    for path, name in _accelerator_paths(ctx.spec):
        if canonical_name(name) is None:
            yield _unknown(
                ctx,
                path,
                "accelerator",
                name,
                set(ACCELERATORS),
                "use a name such as H100, B200, Trainium2 or TPU-v5e",
            )


def _instance_types(ctx: _Ctx) -> Iterator[Issue]:
    offerings = ctx.catalog.offerings
    for i, c in enumerate(ctx.spec.contracts):
        for k, block in enumerate(c.reserved_blocks):
            if not ctx.catalog.has_region(block.region):
                continue
            here = {o.instance_type for o in offerings if o.region_id == block.region}
            if block.instance_type not in here:
                path = ("contracts", i, "reserved_blocks", k, "instance_type")
                yield _unknown(
                    ctx,
                    path,
                    f"instance type in {block.region}",
                    block.instance_type,
                    here,
                    f"use an instance type offered in {block.region}",
                )
    for i, ps in enumerate(ctx.spec.providers):
        for k, price in enumerate(ps.prices):
            if price.region is not None and not price.region.startswith(f"{ps.id}:"):
                continue  # a wrong region is reported on its own
            scope = price.region or f"{ps.id}:"
            here = {o.instance_type for o in offerings if o.region_id.startswith(scope)}
            if here and price.instance_type not in here:
                path = ("providers", i, "prices", k, "instance_type")
                yield _unknown(
                    ctx,
                    path,
                    f"instance type of {scope.rstrip(':')}",
                    price.instance_type,
                    here,
                    "use an instance type of the catalog",
                )


# --------------------------------------------------------------------------- time & shapes


def _demand_lengths(ctx: _Ctx) -> Iterator[Issue]:
    n = ctx.spec.horizon.periods
    for i, svc in enumerate(ctx.spec.services):
        if isinstance(svc.demand, DemandTable):
            for g, values in svc.demand.by_geography.items():
                if len(values) != n:
                    yield ctx.src.issue(
                        ("services", i, "demand", "by_geography", g),
                        f"has {len(values)} value{'s' if len(values) != 1 else ''} "
                        f"but the horizon has {n} periods",
                        "give exactly one value per period of the horizon",
                    )


def _windows(ctx: _Ctx) -> Iterator[Issue]:
    ps = periods(ctx.spec.horizon)
    h0, h1 = ps[0].start, ps[-1].end
    span = f"the horizon ({h0.date()} to {h1.date()})"

    def outside(start: dt.date, end: dt.date) -> bool:
        return (
            dt.datetime.combine(end, dt.time()) <= h0 or dt.datetime.combine(start, dt.time()) >= h1
        )

    for i, job in enumerate(ctx.spec.training):
        start = job.start or h0.date()
        if outside(start, job.deadline):
            yield ctx.src.issue(
                ("training", i, "deadline"),
                f"the window {start} to {job.deadline} lies outside {span}",
                "move start/deadline into the horizon or extend the horizon",
            )
    for i, c in enumerate(ctx.spec.contracts):
        if outside(c.start, c.end):
            yield ctx.src.issue(
                ("contracts", i, "start"),
                f"the contract ({c.start} to {c.end}) lies outside {span}",
                "fix its dates, extend the horizon, or remove the contract",
            )
        for k, b in enumerate(c.reserved_blocks):
            if b.start >= b.end:
                yield ctx.src.issue(
                    ("contracts", i, "reserved_blocks", k, "end"),
                    f"end {b.end} is not after start {b.start}",
                    "a block's end must come after its start",
                )


def _countries(ctx: _Ctx) -> Iterator[Issue]:
    def bad(code: str, path: YamlPath) -> Issue:
        hint = (
            f"write it in capitals: '{code.upper()}'"
            if code.upper() in ISO_COUNTRIES
            else "use an ISO-3166 alpha-2 code such as DE, FR, US"
        )
        return ctx.src.issue(path, f"unknown country code '{code}'", hint)

    for i, g in enumerate(ctx.spec.geographies):
        if g.country not in ISO_COUNTRIES:
            yield bad(g.country, ("geographies", i, "country"))
    tags = {t for r in ctx.catalog.regions for t in r.jurisdictions}
    for i, rule in enumerate(ctx.spec.rules):
        if not isinstance(rule, ResidencyRule):
            continue
        for k, j in enumerate(rule.jurisdictions):
            if j in tags:
                continue
            path = ("rules", i, "jurisdictions", k)
            if j.upper() in ISO_COUNTRIES:
                yield ctx.src.issue(
                    path,
                    f"unknown jurisdiction '{j}'",
                    f"'{j}' looks like a country: list it under 'countries:'",
                )
            else:
                yield _unknown(ctx, path, "jurisdiction", j, tags, "use a tag regions carry")
        for k, c in enumerate(rule.countries):
            if c not in ISO_COUNTRIES:
                yield bad(c, ("rules", i, "countries", k))


_CHECKS = (
    _unique_ids,
    _references,
    _providers,
    _regions,
    _accelerators,
    _instance_types,
    _demand_lengths,
    _windows,
    _countries,
)


def _check(ctx: _Ctx) -> list[Issue]:
    return by_position(issue for check in _CHECKS for issue in check(ctx))


def check_spec(spec: Spec, catalog: Catalog, positions: SourceMap) -> list[Issue]:
    """Every semantic problem of ``spec`` against ``catalog``, in file order."""
    return _check(_Ctx(spec, catalog, positions))


def validate_text(text: str, filename: str, catalog: Catalog) -> Spec:
    """Parse, validate and check spec text; one :class:`SpecError` lists every problem."""
    doc = read_document(text, filename)
    spec, issues, errors = build_spec(doc)
    if spec is not None:
        issues += check_spec(spec, catalog, doc.source)
    else:
        rest = salvage(doc, errors)
        if rest is not None:
            issues += _check(_Ctx(rest[0], catalog, rest[1], set_aside_ids(doc, errors)))
    if issues or spec is None:
        raise SpecError(by_position(issues))
    return spec


def validate_file(path: str | Path, catalog: Catalog) -> Spec:
    """Load a spec file and check it against ``catalog``; raise one :class:`SpecError` with
    every problem (YAML, model validation, semantic checks), in file order."""
    return validate_text(read_text(path), str(path), catalog)
