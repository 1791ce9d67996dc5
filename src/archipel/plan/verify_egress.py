"""The verifier's own account of network cost: what each flow's bytes cost, who bills them.

Recomputed flow by flow from the spec, the catalog's regions and the list rates with the spec's
``providers[].egress`` (docs/semantics.md, "Network cost"), sharing no code with the planner's
:mod:`archipel.plan.lp.egress`:

- one request of class c moves ``request_size_bytes`` towards the service and
  ``response_size_bytes`` back; a GB is 2^30 bytes;
- without a gateway, the response leaves the serving region for the users: its provider's
  internet rate from that region's continent to the geography's country;
- with a gateway region w (≠ the serving region r): request w → r, response r → w, response
  w → users; a hop between two regions of one provider is billed at its inter-region rate
  (same continent) or inter-continent rate, a hop to another provider at the sender's internet
  rate; the sender pays;
- requests over the period = flow (peak requests/s) × the period's seconds × the mean of the
  demand curve over the period ÷ its value where the period is sized (1 for table demand) ÷
  the service's peak factor.

Flows the verifier cannot place (unknown service, class, geography, period or region) cost
nothing here; :func:`archipel.plan.verify_rules.check_flows` reports them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archipel.catalog.egress import RateBook, rate_book
from archipel.catalog.model import Region
from archipel.plan.result import Flow, Plan
from archipel.plan.verify_costs import Costs
from archipel.plan.verify_facts import Facts, Float
from archipel.plan.verify_rules import Problem, close
from archipel.spec.models import DemandGrowth, InferenceService

GB = float(1 << 30)


@dataclass(frozen=True)
class Egress:
    """Network cost recomputed from a plan's flows."""

    per_flow: tuple[float, ...]  # USD, aligned with the plan's flows
    by_period: Float  # [T]
    by_provider: dict[str, float]

    @property
    def total_usd(self) -> float:
        return float(self.by_period.sum())


def _mean_over_sized(
    svc: InferenceService, start: dt.datetime, end: dt.datetime, t0: dt.date
) -> float:
    """Mean demand over [start, end) divided by the demand the period is sized for."""
    d = svc.demand
    if not isinstance(d, DemandGrowth) or d.growth_pct_per_year == 0:
        return 1.0
    origin = dt.datetime(t0.year, t0.month, t0.day)
    a = (start - origin).total_seconds() / (365.25 * 86400.0)
    b = (end - origin).total_seconds() / (365.25 * 86400.0)
    base = 1.0 + d.growth_pct_per_year / 100.0
    integral = (base**b - base**a) / math.log(base)  # ∫_a^b base^y dy
    sized = base**b if d.growth_pct_per_year > 0 else base**a
    return float(integral / (b - a) / sized)


class _Hops:
    """USD per GB of one hop, billed by the sender."""

    def __init__(self, book: RateBook) -> None:
        self.book = book

    def to_users(self, r: Region, country: str) -> float:
        return self.book.internet(r.provider, r.continent, country)

    def between(self, a: Region, b: Region) -> float:
        if a.id == b.id:
            return 0.0
        if a.provider == b.provider:
            return self.book.between(a.provider, a.continent, b.continent)
        return self.book.internet(a.provider, a.continent, b.country)


def recompute_egress(facts: Facts, flows: Sequence[Flow]) -> Egress:
    """Each flow's network cost and the totals by period and paying provider."""
    inputs = facts.inputs
    spec, catalog = inputs.spec, inputs.catalog
    hops = _Hops(rate_book({p.id: p.egress for p in spec.providers if p.egress is not None}))
    geos = {g.id: g for g in spec.geographies}
    per_flow: list[float] = []
    by_period = np.zeros(len(facts.hours))
    by_provider: dict[str, float] = defaultdict(float)
    for fl in flows:
        sf = facts.services.get(fl.service)
        geo = geos.get(fl.geography)
        known = (
            sf is not None
            and geo is not None
            and 0 <= fl.period < len(facts.hours)
            and fl.request_class in sf.classes
            and catalog.has_region(fl.region)
        )
        if not known or sf is None or geo is None:
            per_flow.append(0.0)
            continue
        svc = sf.service
        cls = svc.request_classes[sf.classes.index(fl.request_class)]
        p = inputs.periods[fl.period]
        share = _mean_over_sized(svc, p.start, p.end, spec.horizon.start) / svc.peak_factor
        requests = fl.requests_per_s * share * facts.hours[fl.period] * 3600.0
        up, down = cls.request_size_bytes / GB, cls.response_size_bytes / GB
        served = catalog.region(fl.region)
        bills: list[tuple[str, float]]
        if geo.gateway_region is None or not catalog.has_region(geo.gateway_region):
            bills = [(served.provider, down * hops.to_users(served, geo.country))]
        else:
            gate = catalog.region(geo.gateway_region)
            bills = [
                (gate.provider, up * hops.between(gate, served)),
                (served.provider, down * hops.between(served, gate)),
                (gate.provider, down * hops.to_users(gate, geo.country)),
            ]
        usd = 0.0
        for provider, per_request in bills:
            by_provider[provider] += per_request * requests
            usd += per_request * requests
        per_flow.append(usd)
        by_period[fl.period] += usd
    return Egress(tuple(per_flow), by_period, {k: v for k, v in by_provider.items() if v > 0})


def with_egress(costs: Costs, egress: Egress) -> Costs:
    """The cost figures with network cost added: by provider, by period and the objective.

    Spend that diversification and contracts count (``spend_by_provider_usd``) is unchanged."""
    by_provider = dict(costs.cost_by_provider_usd)
    for p, usd in egress.by_provider.items():
        by_provider[p] = by_provider.get(p, 0.0) + usd
    return dataclasses.replace(
        costs,
        cost_by_provider_usd=by_provider,
        cost_by_period_usd=costs.cost_by_period_usd + egress.by_period,
        objective_usd=costs.objective_usd + egress.total_usd,
    )


def check_egress(plan: Plan, egress: Egress) -> list[Problem]:
    """Each flow's ``egress_usd`` and the plan's ``egress_usd`` equal the recomputation."""
    out: list[Problem] = [
        (
            "flow-egress",
            f"flow of {fl.service}/{fl.request_class} from {fl.geography} to {fl.region}, "
            f"period {fl.period}: egress_usd is {fl.egress_usd:.6g}, expected {want:.6g}",
        )
        for fl, want in zip(plan.flows, egress.per_flow, strict=True)
        if not close(fl.egress_usd, want)
    ]
    if not close(plan.egress_usd, egress.total_usd):
        out.append(
            ("cost-totals", f"egress_usd is {plan.egress_usd:.6g}, expected {egress.total_usd:.6g}")
        )
    return out
