"""Semantic checks of a spec that validated: ids, references, catalog names, dates, lengths.

:func:`check_spec` is pure: it takes a :class:`~archipel.spec.models.Spec`, a
:class:`~archipel.catalog.model.Catalog` and the spec's :class:`~archipel.spec.load.SourceMap`,
and returns every problem as an :class:`~archipel.errors.Issue` placed at the offending value.
Names of providers, regions, accelerators and instance types are checked by
:mod:`archipel.spec.check_names`; the rest here. A ``data_class`` on a service or training job
must be named by a residency or CLOUD Act rule, so that a typo can never lift a restriction
(leave ``data_class`` out for unrestricted data).

:func:`validate_file` is the edge: it reads a file, runs the model validation and these checks,
and raises one :class:`~archipel.errors.SpecError` holding every problem of both, in file order.
Given a :data:`CatalogLoader` instead of a catalog, it checks against the catalog the spec's own
``catalog.source`` names, read relative to the spec file. When some list items fail model
validation, the rest of the spec is still checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from archipel.catalog.model import Catalog, suggest
from archipel.errors import CatalogError, Issue, SpecError
from archipel.perf.accelerators import canonical_name
from archipel.spec import check_contracts, check_names, check_network, check_ramps
from archipel.spec.check_names import ISO_COUNTRIES, Ctx, bad_country, clip, unknown
from archipel.spec.check_reservations import check_reservations
from archipel.spec.load import (
    Document,
    SourceMap,
    YamlPath,
    build_spec,
    by_position,
    format_path,
    read_document,
    read_text,
    salvage,
    set_aside_ids,
)
from archipel.spec.models import (
    CloudActExclusionRule,
    DemandTable,
    ExclusivityRule,
    InferenceService,
    MigrationLimitRule,
    MinProvidersRule,
    ResidencyRule,
    Spec,
    SurvivabilityRule,
    TrainingJob,
)
from archipel.spec.periods import periods

__all__ = [
    "ISO_COUNTRIES",
    "CatalogLoader",
    "check_spec",
    "validate_file",
    "validate_file_with_catalog",
    "validate_text",
]

_ID_LISTS: tuple[str, ...] = ("providers", "regions", "geographies", "models", "services")
_ID_LISTS += ("training", "contracts", "reservations")

CatalogLoader = Callable[[str], Catalog]
"""Loads the catalog a spec names: 'builtin', or an absolute snapshot directory path."""


# --------------------------------------------------------------------------- ids & references


def _unique_ids(ctx: Ctx) -> Iterator[Issue]:
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
    named: dict[str, int] = {}
    for i, rule in enumerate(ctx.spec.rules):
        if rule.id is None:
            continue
        if rule.id in named:
            j = ctx.src.original(("rules", named[rule.id]))[1]
            yield ctx.src.issue(
                ("rules", i, "id"),
                f"duplicate id '{rule.id}' (also used by rules[{j}])",
                "give each rule its own id",
            )
        else:
            named[rule.id] = i


def _references(ctx: Ctx) -> Iterator[Issue]:
    spec = ctx.spec
    models, geos, services = ctx.ids("models"), ctx.ids("geographies"), ctx.ids("services")
    for i, svc in enumerate(spec.services):
        if svc.model not in models:
            yield unknown(
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
                yield unknown(
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
                yield unknown(
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
            yield unknown(
                ctx,
                ("training", i, "model"),
                "model",
                job.model,
                models,
                "declare it under 'models:' or leave 'model' out",
            )
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, ExclusivityRule) and rule.model not in models:
            yield unknown(
                ctx,
                ("rules", i, "model"),
                "model",
                rule.model,
                models,
                "declare it under 'models:'",
            )
        if isinstance(rule, SurvivabilityRule | MinProvidersRule | MigrationLimitRule):
            for k, s in enumerate(rule.services or []):
                if s not in services:
                    yield unknown(
                        ctx,
                        ("rules", i, "services", k),
                        "service",
                        s,
                        services,
                        "name a service declared under 'services:'",
                    )


def _name_lists(value: object, path: YamlPath) -> Iterator[tuple[YamlPath, list[str]]]:
    """Every list of names (texts or choices) in the spec, with its path."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _name_lists(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        if value and all(isinstance(x, str) for x in value):
            yield path, value
        else:
            for i, x in enumerate(value):
                yield from _name_lists(x, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _name_lists(v, (*path, k))


def _repeated_names(ctx: Ctx) -> Iterator[Issue]:
    """A name listed twice in one list is a slip (often a typo of the name meant)."""
    for path, names in _name_lists(ctx.spec, ()):
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                where = format_path(ctx.src.original((*path, first[name])))
                yield ctx.src.issue(
                    (*path, i),
                    f"'{clip(name)}' is listed twice (also {where})",
                    "list each name once; was another one meant here?",
                )
            first.setdefault(name, i)


def _empty_selections(ctx: Ctx) -> Iterator[Issue]:
    """An empty list where leaving the field out means 'all' selects nothing: a trap."""
    spec = ctx.spec
    lists: list[tuple[YamlPath, Sequence[object] | None, str]] = [
        (("catalog", "providers"), spec.catalog.providers, "every provider"),
        (("catalog", "accelerators"), spec.catalog.accelerators, "every accelerator"),
        (("catalog", "purchase_options"), list(spec.catalog.purchase_options), ""),
    ]
    for i, svc in enumerate(spec.services):
        lists.append((("services", i, "purchase_options"), list(svc.purchase_options), ""))
        for g, regions in (svc.serving_regions or {}).items():
            lists.append((("services", i, "serving_regions", g), regions, "the latency SLO"))
    for i, c in enumerate(spec.contracts):
        lists.append((("contracts", i, "regions"), c.regions, "every region of the provider"))
        lists.append(
            (("contracts", i, "scope", "regions"), c.scope.regions, "every region of the provider")
        )
        lists.append((("contracts", i, "scope", "workloads"), c.scope.workloads, "every workload"))
        lists.append(
            (("contracts", i, "scope", "accelerators"), c.scope.accelerators, "every accelerator")
        )
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, SurvivabilityRule | MinProvidersRule | MigrationLimitRule):
            lists.append((("rules", i, "services"), rule.services, "every service"))
    for path, items, default in lists:
        if items is not None and not items:
            fix = f"leave the field out for {default}" if default else "list at least one"
            yield ctx.src.issue(path, "an empty list selects nothing here", f"{fix}")


# --------------------------------------------------------------------------- data & requests


def _rule_classes(spec: Spec) -> dict[str, list[tuple[int, int | None]]]:
    """Each data class named by a residency or CLOUD Act rule: (rule index, list index)."""
    out: dict[str, list[tuple[int, int | None]]] = {}
    for i, rule in enumerate(spec.rules):
        if isinstance(rule, ResidencyRule):
            out.setdefault(rule.data_class, []).append((i, None))
        elif isinstance(rule, CloudActExclusionRule):
            for k, c in enumerate(rule.data_classes):
                out.setdefault(c, []).append((i, k))
    return out


def _data_classes(ctx: Ctx) -> Iterator[Issue]:
    """A workload's data class is named by a rule, so that a typo cannot lift a restriction;
    a rule's class that no workload has but one near it does is a typo too."""
    named = _rule_classes(ctx.spec)
    used: dict[str, None] = {}
    workloads: list[tuple[str, int, InferenceService | TrainingJob]]
    workloads = [("services", i, w) for i, w in enumerate(ctx.spec.services)]
    workloads += [("training", i, w) for i, w in enumerate(ctx.spec.training)]
    for section, i, w in workloads:
        if w.data_class is None:
            continue
        used[w.data_class] = None
        if w.data_class not in named:
            near = suggest(w.data_class, named, n=1)
            typo = f"did you mean '{near[0]}'? " if near else ""
            yield ctx.src.issue(
                (section, i, "data_class"),
                f"no residency or cloud_act_exclusion rule names data class "
                f"'{clip(w.data_class)}', so it would restrict nothing",
                f"{typo}Name it in a rule, or leave 'data_class' out for unrestricted data",
            )
    for name, places in named.items():
        near = suggest(name, [u for u in used if u in named], n=1) if name not in used else []
        for i, k in places if near else []:
            path = ("rules", i, "data_class") if k is None else ("rules", i, "data_classes", k)
            yield ctx.src.issue(
                path,
                f"no service or training job has data class '{clip(name)}'",
                f"did you mean '{near[0]}'? As written, this rule applies to nothing",
            )


def _request_sizes(ctx: Ctx) -> Iterator[Issue]:
    """Request classes fit their model's context window; measured throughput names a class
    that a service of the model has."""
    models = {m.id: m for m in ctx.spec.models}
    classes: dict[str, set[str]] = {}
    for i, svc in enumerate(ctx.spec.services):
        model = models.get(svc.model)
        if model is None:
            continue
        classes.setdefault(model.id, set()).update(c.name for c in svc.request_classes)
        for k, c in enumerate(svc.request_classes):
            total = c.input_tokens + c.output_tokens
            if total > model.context_length_tokens:
                yield ctx.src.issue(
                    ("services", i, "request_classes", k),
                    f"{c.input_tokens:,} input + {c.output_tokens:,} output tokens = {total:,}, "
                    f"more than model '{model.id}' holds ({model.context_length_tokens:,} "
                    "tokens of context)",
                    "shorten the requests, or raise the model's context_length_tokens",
                )
    for j, m in enumerate(ctx.spec.models):
        known = classes.get(m.id)
        first: dict[tuple[str, str | None], int] = {}
        for k, t in enumerate(m.throughput):
            key = (canonical_name(t.accelerator) or t.accelerator, t.request_class)
            if key in first:
                yield ctx.src.issue(
                    ("models", j, "throughput", k),
                    f"a second measurement for {t.accelerator}"
                    + (f" and request class '{t.request_class}'" if t.request_class else "")
                    + f" (also throughput[{first[key]}])",
                    "keep one measurement per accelerator and request class",
                )
            first.setdefault(key, k)
            if t.request_class is not None and known is not None and t.request_class not in known:
                yield unknown(
                    ctx,
                    ("models", j, "throughput", k, "request_class"),
                    f"request class of the services of '{m.id}'",
                    t.request_class,
                    known,
                    "name a request class of a service that uses this model",
                )


# --------------------------------------------------------------------------- time & shapes


def _lengths(ctx: Ctx) -> Iterator[Issue]:
    """Per-period lists have one value per period of the horizon."""
    n = ctx.spec.horizon.periods

    def bad(path: tuple[str | int, ...], got: int) -> Issue:
        return ctx.src.issue(
            path,
            f"has {got} value{'s' if got != 1 else ''} but the horizon has {n} periods",
            "give exactly one value per period of the horizon",
        )

    for i, svc in enumerate(ctx.spec.services):
        if isinstance(svc.demand, DemandTable):
            for g, values in svc.demand.by_geography.items():
                if len(values) != n:
                    yield bad(("services", i, "demand", "by_geography", g), len(values))
    for i, o in enumerate(ctx.spec.offerings):
        if o.max_nodes_by_period is not None and len(o.max_nodes_by_period) != n:
            yield bad(("offerings", i, "max_nodes_by_period"), len(o.max_nodes_by_period))


def _windows(ctx: Ctx) -> Iterator[Issue]:
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


def _countries(ctx: Ctx) -> Iterator[Issue]:
    for i, g in enumerate(ctx.spec.geographies):
        if g.country not in ISO_COUNTRIES:
            yield bad_country(ctx, g.country, ("geographies", i, "country"))
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
                yield unknown(ctx, path, "jurisdiction", j, tags, "use a tag regions carry")
        for k, c in enumerate(rule.countries):
            if c not in ISO_COUNTRIES:
                yield bad_country(ctx, c, ("rules", i, "countries", k))


_CHECKS: tuple[Callable[[Ctx], Iterator[Issue]], ...] = (
    _unique_ids,
    _repeated_names,
    _empty_selections,
    _references,
    check_contracts.contracts,
    _data_classes,
    _request_sizes,
    check_names.providers,
    check_names.regions,
    check_names.declared_regions,
    check_names.accelerators,
    check_names.declared_accelerators,
    check_names.instance_types,
    check_names.ambiguous_terms,
    check_network.gateways,
    check_reservations,
    _lengths,
    _windows,
    _countries,
    check_ramps.services,
    check_ramps.ramps,
)


def _check(ctx: Ctx) -> list[Issue]:
    return by_position(issue for check in _CHECKS for issue in check(ctx))


def check_spec(spec: Spec, catalog: Catalog, positions: SourceMap) -> list[Issue]:
    """Every semantic problem of ``spec`` against ``catalog``, in file order."""
    return _check(Ctx(spec, catalog, positions))


def _source_of(doc: Document) -> str:
    """The spec's ``catalog.source`` as written ('builtin' when absent or not text)."""
    data: Any = doc.data
    section = data.get("catalog") if isinstance(data, dict) else None
    source = section.get("source") if isinstance(section, dict) else None
    return source if isinstance(source, str) else "builtin"


def resolve_source(source: str, spec_file: str | Path) -> str:
    """'builtin', or the snapshot directory ``source`` made absolute against the spec's folder
    (as ``archipel plan`` reads it)."""
    if source == "builtin" or Path(source).is_absolute():
        return source
    return str(Path(spec_file).parent.absolute() / source)


def _catalog_for(
    doc: Document, filename: str, catalog: Catalog | CatalogLoader
) -> tuple[Catalog | None, list[Issue]]:
    if isinstance(catalog, Catalog):
        return catalog, []
    source = _source_of(doc)
    try:
        return catalog(resolve_source(source, filename)), []
    except CatalogError as exc:
        issue = doc.source.issue(
            ("catalog", "source"),
            f"cannot use the catalog snapshot '{clip(source)}': {exc}",
            "give a snapshot directory (relative to this spec file) or 'builtin'",
        )
        return None, [issue]


def validate_text(text: str, filename: str, catalog: Catalog | CatalogLoader) -> Spec:
    """Parse, validate and check spec text; one :class:`SpecError` lists every problem.

    ``catalog`` is the catalog to check names against, or a loader called with the spec's own
    ``catalog.source`` (made absolute against ``filename``'s folder).
    """
    return validate_document(read_document(text, filename), filename, catalog)


def validate_document(doc: Document, filename: str, catalog: Catalog | CatalogLoader) -> Spec:
    """:func:`validate_text` for a document already read (``archipel whatif`` changes one
    before it is validated: :mod:`archipel.spec.overrides`)."""
    spec, issues, errors = build_spec(doc)
    cat, cat_issues = _catalog_for(doc, filename, catalog)
    issues += cat_issues
    if cat is not None and spec is not None:
        issues += check_spec(spec, cat, doc.source)
    elif cat is not None:
        rest = salvage(doc, errors)
        if rest is not None:
            issues += _check(Ctx(rest[0], cat, rest[1], set_aside_ids(doc, errors)))
    if issues or spec is None:
        raise SpecError(by_position(issues))
    return spec


def validate_file(path: str | Path, catalog: Catalog | CatalogLoader) -> Spec:
    """Load a spec file and check it against ``catalog`` (or the catalog its ``catalog.source``
    names, read with a loader); raise one :class:`SpecError` with every problem (YAML, model
    validation, semantic checks), in file order."""
    return validate_text(read_text(path), str(path), catalog)


def validate_file_with_catalog(
    path: str | Path, catalog: Catalog | CatalogLoader
) -> tuple[Spec, Catalog]:
    """:func:`validate_file`, also returning the catalog checked against (the one the spec's
    ``catalog.source`` names when ``catalog`` is a loader) — what ``archipel plan`` needs."""
    if isinstance(catalog, Catalog):
        return validate_file(path, catalog), catalog
    loaded: list[Catalog] = []

    def remember(source: str) -> Catalog:
        loaded.append(catalog(source))
        return loaded[-1]

    spec = validate_file(path, remember)
    return spec, loaded[0]
