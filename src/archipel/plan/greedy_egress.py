"""The greedy baseline's network cost: what a request of each class costs to move between a
geography's users and a serving region, and who bills it (docs/semantics.md, "Network cost";
docs in :mod:`archipel.plan.greedy`).

A request moves its request bytes in and its response bytes out. Without a gateway the
response leaves the serving region for the users; with one, the request goes gateway → region,
the response region → gateway → users. Each hop is billed by the provider of the region that
sends it: between two of its regions at its inter-region (same continent) or inter-continent
rate, to users or another provider at its internet rate. Flows are peak requests/s; a period
moves their average: peak × (mean of the demand curve in the period / the value it is sized
for) ÷ the service's peak factor.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from archipel.catalog.egress import BYTES_PER_GB, RateBook, rate_book
from archipel.catalog.model import Region
from archipel.plan.greedy_book import F
from archipel.plan.inputs import PlanInputs
from archipel.spec.models import DemandGrowth, Geography, InferenceService, RequestClass


class Transfer:
    """USD per request of a class between a geography and a region, per paying provider."""

    def __init__(self, inputs: PlanInputs) -> None:
        spec = inputs.spec
        self.inputs = inputs
        self.book: RateBook = rate_book(
            {p.id: p.egress for p in spec.providers if p.egress is not None}
        )
        self.geos = {g.id: g for g in spec.geographies}
        self._memo: dict[tuple[str, str, str, str], list[tuple[str, float]]] = {}

    def _hop(self, a: Region, b: Region) -> float:
        if a.id == b.id:
            return 0.0
        if a.provider == b.provider:
            return self.book.between(a.provider, a.continent, b.continent)
        return self.book.internet(a.provider, a.continent, b.country)

    def bills(self, svc: str, cls: RequestClass, geo: str, region: str) -> list[tuple[str, float]]:
        """[(provider, USD per request)] of the hops one request of ``cls`` makes."""
        key = (svc, cls.name, geo, region)
        if key not in self._memo:
            self._memo[key] = self._bills(cls, self.geos.get(geo), region)
        return self._memo[key]

    def _bills(
        self, cls: RequestClass, g: Geography | None, region: str
    ) -> list[tuple[str, float]]:
        cat = self.inputs.catalog
        if g is None or not cat.has_region(region):
            return []
        up = cls.request_size_bytes / BYTES_PER_GB
        down = cls.response_size_bytes / BYTES_PER_GB
        r = cat.region(region)
        if g.gateway_region is None:
            return [(r.provider, down * self.book.internet(r.provider, r.continent, g.country))]
        w = cat.region(g.gateway_region)
        out = self.book.internet(w.provider, w.continent, g.country)
        return [
            (w.provider, up * self._hop(w, r)),
            (r.provider, down * self._hop(r, w)),
            (w.provider, down * out),
        ]


def averages(inputs: PlanInputs, svc: InferenceService) -> F:
    """[T] requests in a period per peak request/s: seconds × mean/sized-for ÷ peak factor."""
    pers = inputs.periods
    out = np.array([p.hours * 3600.0 for p in pers]) / svc.peak_factor
    d = svc.demand
    if not isinstance(d, DemandGrowth) or d.growth_pct_per_year == 0:
        return out
    g = 1.0 + d.growth_pct_per_year / 100.0
    year_s = 365.25 * 86400.0
    origin = pers[0].start
    for t, p in enumerate(pers):
        a = (p.start - origin).total_seconds() / year_s
        b = (p.end - origin).total_seconds() / year_s
        mean = (g**b - g**a) / (math.log(g) * (b - a))
        out[t] *= mean / (g**b if g > 1.0 else g**a)
    return out


def mix_cost(inputs: PlanInputs, svc: InferenceService, geo: str, tr: Transfer) -> F:
    """[O] USD per request of the service's class mix from ``geo`` to each offering's region."""
    by_region: dict[str, float] = {}
    for o in inputs.offerings:
        if o.region_id not in by_region:
            by_region[o.region_id] = sum(
                c.share * sum(usd for _, usd in tr.bills(svc.id, c, geo, o.region_id))
                for c in svc.request_classes
            )
    return np.array([by_region[o.region_id] for o in inputs.offerings], dtype=float)


def flow_costs(
    inputs: PlanInputs, flows: dict[tuple[str, str, str, str, int], float]
) -> tuple[dict[tuple[str, str, str, str, int], float], F, dict[str, float]]:
    """USD per flow (service, class, geography, region, period), by period and by payer."""
    tr = Transfer(inputs)
    svcs = {s.id: s for s in inputs.spec.services}
    avg = {s: averages(inputs, svc) for s, svc in svcs.items()}
    per_flow: dict[tuple[str, str, str, str, int], float] = {}
    by_period = np.zeros(len(inputs.periods))
    by_payer: dict[str, float] = defaultdict(float)
    for key, rps in flows.items():
        s, c, g, r, t = key
        cls = next(x for x in svcs[s].request_classes if x.name == c)
        usd = 0.0
        for payer, per_request in tr.bills(s, cls, g, r):
            cost = per_request * rps * float(avg[s][t])
            by_payer[payer] += cost
            usd += cost
        per_flow[key] = usd
        by_period[t] += usd
    return per_flow, by_period, {p: v for p, v in by_payer.items() if v > 0}
