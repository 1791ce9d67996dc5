"""Network cost of the base flows: USD per (peak request/s over a period) of each flow cell.

docs/semantics.md, "Network cost". A flow of class c from geography g served in region r moves
``request_bytes_c`` in and ``response_bytes_c`` out per request. Without a gateway the response
leaves r for the users (r's provider bills its internet rate to g's country); with a gateway
region w the request travels w → r, the response r → w and then w → users, each leg billed by
its sending region's provider (between regions of one provider at its inter-region or
inter-continent rate, else at the sender's internet rate). Flows are peak requests/s; egress is
paid on the average, so a flow of x over period t moves

    x × avg_share[s, t] × 3600 × hours[t]  requests,   avg_share = (mean / sized-for) / peak factor

where ``mean / sized-for`` is 1 for table demand and, for growth demand, the period's mean of
the growth curve over its value where the period is sized (its end, or its start when demand
shrinks). The coefficient is built once per flow cell, as arrays; rates come from
:func:`archipel.catalog.egress.rate_book` with the spec's ``providers[].egress``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from archipel.catalog.egress import BYTES_PER_GB, RateBook, rate_book
from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import FloatArray, IntArray
from archipel.plan.lp.serving import ServingCells
from archipel.spec.models import DemandGrowth, InferenceService, Spec
from archipel.spec.periods import Period

LEGS = 3  # request gateway → region, response region → gateway, response out to users


@dataclass(frozen=True)
class FlowEgress:
    """Per flow cell of :class:`ServingCells`: who bills each leg and what it costs."""

    providers: tuple[str, ...]  # payer names
    leg_payer: IntArray  # [F, LEGS] index into providers, -1 where the leg does not exist
    leg_coef: FloatArray  # [F, LEGS] USD per peak request/s of the flow over its period

    @property
    def coef(self) -> FloatArray:
        """[F] USD per peak request/s of each flow cell over its period: the objective term."""
        return np.asarray(self.leg_coef.sum(axis=1), dtype=float)


def average_share(svc: InferenceService, periods: tuple[Period, ...], start: dt.date) -> FloatArray:
    """[T] average requests/s per peak request/s the period is sized for (see the docstring);
    growth is counted from the horizon's ``start``."""
    ratio = np.ones(len(periods))
    d = svc.demand
    if isinstance(d, DemandGrowth) and d.growth_pct_per_year != 0:
        t0 = dt.datetime.combine(start, dt.time())
        year = dt.timedelta(days=365.25)
        y0 = np.array([(p.start - t0) / year for p in periods])
        y1 = np.array([(p.end - t0) / year for p in periods])
        k = math.log1p(d.growth_pct_per_year / 100.0)
        mean = (np.exp(k * y1) - np.exp(k * y0)) / (k * (y1 - y0))
        ratio = mean / np.exp(k * (y1 if d.growth_pct_per_year > 0 else y0))
    return ratio / svc.peak_factor


@dataclass(frozen=True)
class _Places:
    """Regions that carry traffic: serving regions, then gateways that serve nothing."""

    ids: tuple[str, ...]
    provider: IntArray  # into providers
    providers: tuple[str, ...]
    continent: tuple[str, ...]
    country: tuple[str, ...]


def _places(prob: Problem, gateways: list[str]) -> _Places:
    catalog = prob.inputs.catalog
    ids = tuple(prob.regions) + tuple(sorted(set(gateways) - set(prob.regions)))
    regions = [catalog.region(r) for r in ids]
    providers = tuple(sorted({r.provider for r in regions}))
    index = {p: i for i, p in enumerate(providers)}
    return _Places(
        ids=ids,
        provider=np.array([index[r.provider] for r in regions], dtype=np.int64),
        providers=providers,
        continent=tuple(r.continent for r in regions),
        country=tuple(r.country for r in regions),
    )


def _transfer(book: RateBook, pl: _Places, u: int, v: int) -> float:
    """USD per GB from place u to place v, billed by u's provider."""
    if u == v:
        return 0.0
    p = pl.providers[pl.provider[u]]
    if pl.provider[u] == pl.provider[v]:
        return book.between(p, pl.continent[u], pl.continent[v])
    return book.internet(p, pl.continent[u], pl.country[v])


def flow_egress(prob: Problem, cells: ServingCells) -> FlowEgress:
    """Network cost of every flow cell (docs/semantics.md, "Network cost")."""
    spec: Spec = prob.inputs.spec
    book = rate_book({p.id: p.egress for p in spec.providers if p.egress is not None})
    geos = {g.id: g for g in spec.geographies}
    gw_id = [geos[g].gateway_region if g in geos else None for g in cells.geographies]
    pl = _places(prob, [w for w in gw_id if w is not None])
    place = {r: i for i, r in enumerate(pl.ids)}
    G, U = len(cells.geographies), len(pl.ids)
    gw = np.array([-1 if w is None else place[w] for w in gw_id], dtype=np.int64)
    country = [geos[g].country if g in geos else "" for g in cells.geographies]

    # USD per GB: out of each place to each geography's users; place ↔ gateway both ways
    to_users = np.zeros((U, G))
    used = np.zeros((U, G), dtype=bool)
    used[cells.f_r[gw[cells.f_g] < 0], cells.f_g[gw[cells.f_g] < 0]] = True
    used[gw[gw >= 0], np.nonzero(gw >= 0)[0]] = True
    for u, g in zip(*np.nonzero(used), strict=True):
        p = pl.providers[pl.provider[u]]
        to_users[u, g] = book.internet(p, pl.continent[u], country[g])
    to_gw = np.zeros((U, U))  # [from, to]
    for w in np.unique(gw[gw >= 0]):
        for u in range(U):
            to_gw[u, w] = _transfer(book, pl, u, int(w))
            to_gw[w, u] = _transfer(book, pl, int(w), u)

    # GB per request of each (global) class
    svcs = spec.services
    classes = [
        svcs[s].request_classes[c]
        for s, c in zip(cells.class_service, cells.class_local, strict=True)
    ]
    req_gb = np.array([c.request_size_bytes for c in classes], dtype=float) / BYTES_PER_GB
    resp_gb = np.array([c.response_size_bytes for c in classes], dtype=float) / BYTES_PER_GB

    periods = prob.inputs.periods
    start = spec.horizon.start
    share = np.array([average_share(s, periods, start) for s in svcs]).reshape(
        len(svcs), len(periods)
    )
    requests = share[cells.f_s, cells.f_t] * 3600.0 * prob.hours[cells.f_t]  # per peak req/s

    f_g, f_r, f_c = cells.f_g, cells.f_r, cells.f_c
    w = gw[f_g]
    via = w >= 0
    wi = np.where(via, w, 0)
    F = f_g.size
    leg_usd = np.zeros((F, LEGS))
    payer = np.full((F, LEGS), -1, dtype=np.int64)
    out_from = np.where(via, wi, f_r)  # the response leaves for users from here
    leg_usd[:, 2] = resp_gb[f_c] * to_users[out_from, f_g]
    payer[:, 2] = pl.provider[out_from]
    leg_usd[:, 0] = np.where(via, req_gb[f_c] * to_gw[wi, f_r], 0.0)
    leg_usd[:, 1] = np.where(via, resp_gb[f_c] * to_gw[f_r, wi], 0.0)
    payer[:, 0] = np.where(via, pl.provider[wi], -1)
    payer[:, 1] = np.where(via, pl.provider[f_r], -1)
    return FlowEgress(pl.providers, payer, leg_usd * requests[:, None])


@dataclass(frozen=True)
class EgressSpend:
    """What flows carrying given requests/s cost in network transfer."""

    per_flow: FloatArray  # [K] USD per flow of the selection
    by_period: FloatArray  # [T]
    by_provider: dict[str, float]  # the provider that sends the bytes pays


def egress_spend(
    eg: FlowEgress, cells: IntArray, f_t: IntArray, values: FloatArray, periods: int
) -> EgressSpend:
    """Network cost of flows on flow cells ``cells`` (periods ``f_t``) carrying ``values``
    peak requests/s."""
    legs = eg.leg_coef[cells] * values[:, None]
    payer = eg.leg_payer[cells]
    on = payer >= 0
    by_payer = np.bincount(payer[on], weights=legs[on], minlength=len(eg.providers))
    per_flow = legs.sum(axis=1)
    return EgressSpend(
        per_flow=per_flow,
        by_period=np.bincount(f_t, weights=per_flow, minlength=periods).astype(float),
        by_provider={p: float(v) for p, v in zip(eg.providers, by_payer, strict=True) if v > 0},
    )
