"""Resolve a spec against a catalog into the inputs every planner and the verifier start from.

``prepare`` applies the spec's catalog selection and price overrides, turns contracts' reserved
blocks into offerings with their availability and fixed cost per period, and resolves the
CLOUD Act exposure of each provider. It decides nothing about placement (docs/semantics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from archipel.catalog.model import Catalog, Offering, PurchaseOption
from archipel.errors import Issue as SpecIssue
from archipel.errors import SpecError
from archipel.perf.accelerators import canonical_name
from archipel.spec.models import Spec
from archipel.spec.periods import Period, overlap_hours, periods


@dataclass(frozen=True)
class PlanInputs:
    """Offerings after selection/overrides (catalog ones first, then reserved blocks)."""

    spec: Spec
    catalog: Catalog
    periods: tuple[Period, ...]
    offerings: tuple[Offering, ...]
    keys: tuple[str, ...]  # unique offering key, used as Allocation.offering_id
    capacity_nodes: NDArray[np.float64]  # [offering, period]; inf where unbounded
    reserved_fixed_usd: NDArray[np.float64]  # [offering, period]; 0 for catalog offerings
    reserved_contract: tuple[str | None, ...]  # contract id of a reserved block, else None
    cloud_act: dict[str, bool]  # provider id -> subject to the US CLOUD Act

    @property
    def period_hours(self) -> NDArray[np.float64]:
        return np.array([p.hours for p in self.periods], dtype=float)

    def offering_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}


def _selected(spec: Spec, catalog: Catalog) -> list[Offering]:
    sel = spec.catalog
    providers = set(sel.providers) if sel.providers is not None else None
    accels = (
        {canonical_name(a) or a for a in sel.accelerators} if sel.accelerators is not None else None
    )
    options = set(sel.purchase_options)
    return [
        o
        for o in catalog.offerings
        if (providers is None or o.provider in providers)
        and (accels is None or o.accelerator in accels)
        and o.purchase_option in options
    ]


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


def prepare(spec: Spec, catalog: Catalog) -> PlanInputs:
    """Everything a planner needs besides the spec's workloads and rules."""
    pers = periods(spec.horizon)
    hours = np.array([p.hours for p in pers], dtype=float)
    offerings = _apply_prices(spec, _selected(spec, catalog))
    keys = [o.id for o in offerings]
    cap = [np.full(len(pers), np.inf if o.max_nodes is None else o.max_nodes) for o in offerings]
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
    )
