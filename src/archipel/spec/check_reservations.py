"""Checks of a spec's ``reservations:`` against the catalog (:mod:`archipel.spec.reservations`).

Reported at the offending value: a provider, region, instance type or accelerator the catalog
does not know (or a region of another provider), a missing discount level (none documented for
the provider, kind and term, and no ``discount_pct``), an assumed "up to" level when
``catalog.exclude_assumed`` is set, a buy window in which no period starts, an option that
matches no on-demand offering (when every name it gives is known), and a catalog selection
without on-demand offerings.
"""

from __future__ import annotations

from collections.abc import Iterator

from archipel.catalog.model import PurchaseOption
from archipel.errors import Issue
from archipel.perf.accelerators import canonical_name
from archipel.spec.check_names import Ctx, clip, unknown
from archipel.spec.periods import periods
from archipel.spec.reservations import ReservationOption, buy_starts, resolve_discount


def check_reservations(ctx: Ctx) -> Iterator[Issue]:
    """Every problem of the spec's ``reservations:`` (see the module docstring)."""
    spec = ctx.spec
    if not spec.reservations:
        return
    starts = [p.start for p in periods(spec.horizon)]
    if PurchaseOption.ON_DEMAND not in spec.catalog.purchase_options:
        yield ctx.src.issue(
            ("catalog", "purchase_options"),
            "reservations are bought on on-demand offerings, and catalog.purchase_options "
            "leaves on_demand out",
            "add on_demand here (a workload that must not run on demand says so in its own "
            "purchase_options)",
        )
    for i, r in enumerate(spec.reservations):
        here = ("reservations", i)
        if r.provider not in ctx.providers:
            fix = "use a provider of the catalog"
            yield unknown(ctx, (*here, "provider"), "provider", r.provider, ctx.providers, fix)
            continue
        names = list(_names(ctx, i, r))
        yield from names
        try:
            resolve_discount(r, spec.catalog.exclude_assumed)
        except ValueError as exc:
            yield ctx.src.issue(
                (*here, "kind"), str(exc), "`archipel catalog commitments` lists the levels"
            )
        if not any(buy_starts(r, starts)):
            yield ctx.src.issue(
                (*here, "buy_from" if r.buy_from else "buy_until"),
                "no period of the horizon starts inside the buy window "
                f"[{r.buy_from or 'start'}, {r.buy_until or 'end'})",
                "purchases start at a period start; widen the window or move it into the horizon",
            )
        if not names and not _matches_catalog(ctx, r):
            yield ctx.src.issue(
                (*here, "provider"),
                f"the option matches no on-demand offering of {r.provider} in the catalog",
                "check regions, instance_types and accelerators against `archipel catalog "
                f"offers --provider {r.provider}`",
            )


def _names(ctx: Ctx, i: int, r: ReservationOption) -> Iterator[Issue]:
    here = ("reservations", i)
    pool = {x for x in ctx.regions if x.startswith(f"{r.provider}:")}
    for k, rid in enumerate(r.regions or []):
        if rid not in pool:
            fix = f"use a region id 'provider:code' of {r.provider}"
            yield unknown(ctx, (*here, "regions", k), "region", rid, pool, fix)
    types = ctx.types_in(f"{r.provider}:")
    for k, t in enumerate(r.instance_types or []):
        if t not in types:
            fix = f"use an instance type of {r.provider}"
            yield unknown(ctx, (*here, "instance_types", k), "instance type", t, types, fix)
    for k, a in enumerate(r.accelerators or []):
        if not ctx.accelerator_known(a):
            yield ctx.src.issue(
                (*here, "accelerators", k),
                f"unknown accelerator '{clip(a)}'",
                "use a name such as H100, B200 or TPU-v5p, or declare your own chip",
            )


def _matches_catalog(ctx: Ctx, r: ReservationOption) -> bool:
    accels = (
        {canonical_name(a) or a for a in r.accelerators} if r.accelerators is not None else None
    )
    return any(
        o.provider == r.provider
        and o.purchase_option == PurchaseOption.ON_DEMAND
        and (r.regions is None or o.region_id in r.regions)
        and (r.instance_types is None or o.instance_type in r.instance_types)
        and (accels is None or o.accelerator in accels)
        for o in ctx.catalog.offerings
    )
