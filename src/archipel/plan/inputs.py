"""Resolve a spec against a catalog into the inputs every planner and the verifier start from.

``prepare`` applies the spec's catalog selection, price overrides and spot terms, adds the spec's
own providers, regions, accelerators and offerings (``offerings:``), turns contracts' reserved
blocks into offerings with their availability and fixed cost per period, adds the offerings
reservation options may buy (:mod:`archipel.plan.reservations`), and resolves the CLOUD Act
exposure of each provider. It decides nothing about placement (docs/semantics.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.flags import FLAG_ACCELERATOR_DECLARED, assumed
from archipel.catalog.model import Catalog, Offering, Provider, PurchaseOption, Region
from archipel.catalog.regions import jurisdictions_for
from archipel.errors import Issue as SpecIssue
from archipel.errors import SpecError
from archipel.perf.accelerators import ACCELERATORS, Accelerator, canonical_name
from archipel.plan.reservations import Reservable, derive
from archipel.spec.models import CostCapital, OfferingDecl, Spec, SpotTerms
from archipel.spec.periods import Period, overlap_hours, periods

HOURS_PER_YEAR = 8766.0  # 365.25 days


@dataclass(frozen=True)
class PlanInputs:
    """Offerings after selection/overrides (catalog ones, then declared ones, then reserved
    blocks, then those reservation options may buy), the accelerator facts they refer to, and
    per-period capacity and fixed costs."""

    spec: Spec
    catalog: Catalog  # with the spec's own providers and regions added
    periods: tuple[Period, ...]
    offerings: tuple[Offering, ...]
    keys: tuple[str, ...]  # unique offering key, used as Allocation.offering_id
    capacity_nodes: NDArray[np.float64]  # [offering, period]; inf where unbounded
    reserved_fixed_usd: NDArray[np.float64]  # [offering, period]; 0 for catalog offerings
    reserved_contract: tuple[str | None, ...]  # contract id of a reserved block, else None
    cloud_act: dict[str, bool]  # provider id -> subject to the US CLOUD Act
    accelerators: dict[str, Accelerator]  # canonical name -> facts (built-in and declared)
    # offerings derived from reservation options (archipel.plan.reservations), last in order
    reservable: Reservable = field(default_factory=Reservable)

    @property
    def period_hours(self) -> NDArray[np.float64]:
        return np.array([p.hours for p in self.periods], dtype=float)

    def offering_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}

    def accelerator_name(self, name: str) -> str | None:
        """Canonical name of a built-in or declared accelerator (any alias), else None."""
        return declared_or_canonical(name, self.accelerators)


def declared_or_canonical(name: str, known: dict[str, Accelerator]) -> str | None:
    if name in known:
        return name
    lowered = {k.lower(): k for k in known}
    return lowered.get(name.strip().lower()) or canonical_name(name)


def spec_sha256(spec: Spec) -> str:
    """Hash of the spec's canonical JSON: a plan records it, ``verify`` compares it."""
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


def _selected(spec: Spec, catalog: Catalog) -> list[Offering]:
    """The catalog's offerings the spec selects. Rows of a chip of one's own
    (``accelerator-declared``) are kept only when the spec declares that chip, under the
    spec's spelling of its name (any case): without its facts nothing can be planned on it."""
    sel = spec.catalog
    declared = {a.name.lower(): a.name for a in spec.accelerators}
    providers = set(sel.providers) if sel.providers is not None else None
    accels = (
        {canonical_name(a) or declared.get(a.lower(), a) for a in sel.accelerators}
        if sel.accelerators is not None
        else None
    )
    options = set(sel.purchase_options)
    out = []
    for o in catalog.offerings:
        if FLAG_ACCELERATOR_DECLARED in o.flags:
            name = declared.get(o.accelerator.lower())
            if name is None:
                continue
            o = replace(o, accelerator=name)
        if (
            (providers is None or o.provider in providers)
            and (accels is None or o.accelerator in accels)
            and o.purchase_option in options
            and not (sel.exclude_assumed and assumed(o.flags))
        ):
            out.append(o)
    return out


def _apply_prices(spec: Spec, offerings: Sequence[Offering]) -> list[Offering]:
    overrides = {
        (p.id, po.instance_type, po.region, po.purchase_option): po.usd_per_node_hour
        for p in spec.providers
        for po in p.prices
    }
    if not overrides:
        return list(offerings)
    out = []
    for o in offerings:
        price = overrides.get((o.provider, o.instance_type, o.region_id, o.purchase_option))
        if price is None:
            price = overrides.get((o.provider, o.instance_type, None, o.purchase_option))
        out.append(o if price is None else replace(o, price_usd_per_node_hour=price))
    return out


def _spot_terms(terms: Sequence[SpotTerms], o: Offering) -> Offering:
    """The most specific spot terms matching a spot offering (instance type > region > provider)."""
    if o.purchase_option != PurchaseOption.SPOT:
        return o
    best: tuple[int, SpotTerms] | None = None
    for t in terms:
        if t.provider != o.provider:
            continue
        if t.region is not None and t.region != o.region_id:
            continue
        if t.instance_type is not None and t.instance_type != o.instance_type:
            continue
        rank = (t.instance_type is not None) * 2 + (t.region is not None)
        if best is None or rank > best[0]:
            best = (rank, t)
    if best is None:
        return o
    t = best[1]
    return replace(
        o,
        availability=o.availability if t.availability is None else t.availability,
        interruptions_per_hour=(
            o.interruptions_per_hour
            if t.interruptions_per_hour is None
            else t.interruptions_per_hour
        ),
        flags=tuple(f for f in o.flags if f != "spot-rates-assumed"),
    )


def own_price_usd_per_node_hour(decl: OfferingDecl) -> float:
    """Per node-hour: the price, or capital over its service life plus running costs."""
    cost = decl.cost
    if isinstance(cost, CostCapital):
        life_h = cost.amortisation_years * HOURS_PER_YEAR
        return cost.usd_per_node / life_h + cost.opex_usd_per_node_hour
    return cost.usd_per_node_hour


def _declared(
    spec: Spec, pers: tuple[Period, ...], accelerators: dict[str, Accelerator]
) -> list[tuple[Offering, str, NDArray[np.float64]]]:
    """Offerings of the spec's own (``offerings:``): (offering, key, capacity per period)."""
    hours = np.array([p.hours for p in pers], dtype=float)
    out = []
    for i, d in enumerate(spec.offerings):
        code = d.region.partition(":")[2]  # check.py: the region belongs to d.provider
        acc = declared_or_canonical(d.accelerator, accelerators) or d.accelerator
        off = Offering(
            provider=d.provider,
            region=code,
            instance_type=d.instance_type,
            accelerator=acc,
            accelerators_per_node=d.accelerators_per_node,
            purchase_option=PurchaseOption.OWNED,
            price_usd_per_node_hour=own_price_usd_per_node_hour(d),
            max_nodes=d.max_nodes,
            scale_up=d.scale_up,
            fabric=d.fabric,
            fabric_gbps=d.fabric_gbps,
        )
        start = d.available_from or dt.date(1, 1, 1)
        end = d.until or dt.date(9999, 1, 1)
        share = np.array([overlap_hours(p, start, end) for p in pers]) / hours
        if d.max_nodes_by_period is not None:
            listed = d.max_nodes_by_period
            cap = np.array([listed[t] if t < len(listed) else 0.0 for t in range(len(pers))])
        else:
            cap = np.full(len(pers), np.inf if d.max_nodes is None else d.max_nodes)
        # a period the offering only partly covers holds its nodes for that share of the period
        cap = np.where(share > 0, cap * share, 0.0)
        key = f"{off.provider}:{off.region}:{off.instance_type}:owned#{i}"
        out.append((off, key, cap))
    return out


def _catalog_with_own(spec: Spec, catalog: Catalog) -> Catalog:
    """The catalog plus the spec's own providers and regions (declared ones win)."""
    known = {p.id for p in catalog.providers}
    extra_p = [
        Provider(
            id=p.id,
            name=p.name or p.id,
            hq_country=p.hq_country or "",
            cloud_act=bool(p.cloud_act),
        )
        for p in spec.providers
        if p.id not in known and p.hq_country is not None
    ]
    extra_r = []
    for r in spec.regions:
        provider, _, code = r.id.partition(":")
        extra_r.append(
            Region(
                provider=provider,
                code=code,
                city=r.city,
                country=r.country,
                continent="",
                lat=r.lat,
                lon=r.lon,
                jurisdictions=jurisdictions_for(r.country),
            )
        )
    if not extra_p and not extra_r:
        return catalog
    ids = {r.id for r in extra_r}
    regions = tuple(r for r in catalog.regions if r.id not in ids) + tuple(extra_r)
    return Catalog(catalog.manifest, catalog.providers + tuple(extra_p), regions, catalog.offerings)


def _accelerators(spec: Spec) -> dict[str, Accelerator]:
    out = dict(ACCELERATORS)
    for a in spec.accelerators:
        out[a.name] = Accelerator(
            a.name, a.vendor, a.memory_gib, a.bf16_tflops, a.memory_bandwidth_tb_per_s, a.kind
        )
    return out


def prepare(spec: Spec, catalog: Catalog) -> PlanInputs:
    """Everything a planner needs besides the spec's workloads and rules."""
    pers = periods(spec.horizon)
    hours = np.array([p.hours for p in pers], dtype=float)
    accelerators = _accelerators(spec)
    catalog = _catalog_with_own(spec, catalog)
    offerings = [_spot_terms(spec.spot, o) for o in _apply_prices(spec, _selected(spec, catalog))]
    keys = [o.id for o in offerings]
    cap = [np.full(len(pers), np.inf if o.max_nodes is None else o.max_nodes) for o in offerings]
    for off, key, own_cap in _declared(spec, pers, accelerators):
        offerings.append(off)
        keys.append(key)
        cap.append(own_cap)
    fixed = [np.zeros(len(pers)) for _ in offerings]
    contract_of: list[str | None] = [None] * len(offerings)

    issues: list[SpecIssue] = []
    for ci, c in enumerate(spec.contracts):
        for bi, b in enumerate(c.reserved_blocks):
            template = next(
                (
                    o
                    for o in catalog.offerings
                    if o.region_id == b.region and o.instance_type == b.instance_type
                ),
                None,
            )
            if template is None:
                issues.append(
                    SpecIssue(
                        "<spec>",
                        0,
                        0,
                        f"contracts[{ci}].reserved_blocks[{bi}]",
                        f"no instance type {b.instance_type!r} in region {b.region!r}",
                        "pick an instance type that `archipel catalog offers --region` lists",
                    )
                )
                continue
            ov = np.array([overlap_hours(p, b.start, b.end) for p in pers])
            offerings.append(
                replace(
                    template,
                    provider=c.provider,
                    purchase_option=PurchaseOption.RESERVED,
                    price_usd_per_node_hour=0.0,
                    interruptions_per_hour=0.0,
                    availability=1.0,
                    max_nodes=float(b.nodes),
                )
            )
            keys.append(
                f"{template.provider}:{template.region}:{b.instance_type}:reserved@{c.id}#{bi}"
            )
            cap.append(b.nodes * ov / hours)
            fixed.append(b.nodes * ov * b.usd_per_node_hour)
            contract_of.append(c.id)
    if issues:
        raise SpecError(issues)
    # reservations the planner may buy: derived offerings, capacity decided by the plan
    bought, bought_keys, reservable = derive(spec, offerings, len(offerings))
    offerings += bought
    keys += bought_keys
    cap += [np.full(len(pers), np.inf) for _ in bought]
    fixed += [np.zeros(len(pers)) for _ in bought]
    contract_of += [None] * len(bought)

    cloud_act = {p.id: p.cloud_act for p in catalog.providers}
    for ps in spec.providers:
        if ps.cloud_act is not None:
            cloud_act[ps.id] = ps.cloud_act

    n = len(offerings)
    return PlanInputs(
        spec=spec,
        catalog=catalog,
        periods=pers,
        offerings=tuple(offerings),
        keys=tuple(keys),
        capacity_nodes=np.vstack(cap) if n else np.zeros((0, len(pers))),
        reserved_fixed_usd=np.vstack(fixed) if n else np.zeros((0, len(pers))),
        reserved_contract=tuple(contract_of),
        cloud_act=cloud_act,
        accelerators=accelerators,
        reservable=reservable,
    )
