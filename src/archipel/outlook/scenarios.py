"""Sampling scenarios as arrays: demand multipliers, price indices, provider losses.

Pure numpy over a :class:`Frame` (the horizon's periods, services, accelerators, providers);
one :class:`numpy.random.Generator` per batch, made from the batch's ``SeedSequence``, so a
scenario's figures depend on the seed and the batch size only (not on the worker count). For
``S`` scenarios, ``I`` services, ``A`` accelerators, ``P`` providers and ``T`` periods:

- ``demand[S, I, T]``: demand over the plan's, exp(Σ_y (ℓ[s,i,y] − log(1 + g_i)) · w[t,y]),
  ℓ the drawn log yearly growth, g_i the growth the plan used, w[t,y] the share of year y
  elapsed at the end of period t (capacity is sized at the period's end);
- ``price[S, A, T]``: list-price index, (1 − r[s,a])^τ_t at the period's middle, times
  (1 − cut) once a new generation that replaces the accelerator has arrived (period start on
  or after the drawn arrival date);
- ``lost[S, P, T]``: the provider is down in the period (an outage drawn with its probability,
  starting in a period uniform over the horizon, for ``months`` rounded to whole periods).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from archipel.spec.uncertainty import GrowthOptions, LognormalGrowth, Uncertainty, to_datetime

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_YEAR_H = 8766.0
_MONTH_H = _YEAR_H / 12


@dataclass(frozen=True)
class Frame:
    """What the scenarios are drawn over (from a plan's inputs)."""

    period_start: tuple[dt.datetime, ...]
    period_end: tuple[dt.datetime, ...]
    services: tuple[str, ...]
    plan_growth_pct: tuple[float, ...]  # per service: the growth the plan's demand follows
    accelerators: tuple[str, ...]
    providers: tuple[str, ...]

    @property
    def periods(self) -> int:
        return len(self.period_start)

    def years_at_end(self) -> FloatArray:
        t0 = self.period_start[0]
        return np.array([(e - t0) / dt.timedelta(hours=_YEAR_H) for e in self.period_end])

    def years_at_middle(self) -> FloatArray:
        t0 = self.period_start[0]
        return np.array(
            [
                ((s - t0) + (e - s) / 2) / dt.timedelta(hours=_YEAR_H)
                for s, e in zip(self.period_start, self.period_end, strict=True)
            ]
        )


@dataclass(frozen=True)
class Scenarios:
    demand: FloatArray  # [S, I, T]
    price: FloatArray  # [S, A, T] (a read-only view of ones when prices are flat)
    lost: BoolArray  # [S, P, T] (a read-only view of False when nothing can be lost)
    replacement: FloatArray  # [P]: price factor of work bought elsewhere while lost
    price_flat: bool = False  # every index is 1: evaluation skips the price arrays

    @property
    def size(self) -> int:
        return int(self.demand.shape[0])


def _year_weights(frame: Frame) -> FloatArray:
    """w[t, y]: the share of horizon year y elapsed at the end of period t."""
    tau = frame.years_at_end()
    years = max(1, math.ceil(float(tau[-1]) - 1e-9))
    y = np.arange(years)
    return np.clip(tau[:, None] - y[None, :], 0.0, 1.0)


def _log_growth(
    u: Uncertainty, frame: Frame, rng: np.random.Generator, n: int, years: int
) -> FloatArray:
    """ℓ[s, i, y]: the log yearly growth factor of each service in each horizon year."""
    by_service = {d.service: d.growth for d in u.demand}
    common = rng.standard_normal((n, 1, years))
    own = rng.standard_normal((n, len(frame.services), years))
    z = math.sqrt(u.correlation) * common + math.sqrt(1.0 - u.correlation) * own
    pick = rng.random((n, len(frame.services)))
    out = np.empty((n, len(frame.services), years))
    for i, (name, g_plan) in enumerate(zip(frame.services, frame.plan_growth_pct, strict=True)):
        g = by_service.get(name, u.default_demand)
        if isinstance(g, LognormalGrowth):
            med = g.median_pct_per_year if g.median_pct_per_year is not None else g_plan
            out[:, i, :] = math.log1p(med / 100.0) + g.spread * z[:, i, :]
        else:
            assert isinstance(g, GrowthOptions)
            w = np.array([o.weight for o in g.options])
            rates = np.log1p(np.array([o.growth_pct_per_year for o in g.options]) / 100.0)
            k = np.searchsorted(np.cumsum(w) / w.sum(), pick[:, i], side="right")
            out[:, i, :] = rates[np.minimum(k, len(rates) - 1)][:, None]
    return out


def sample(u: Uncertainty, frame: Frame, seed: np.random.SeedSequence, n: int) -> Scenarios:
    """``n`` scenarios drawn from ``seed`` (one batch)."""
    rng = np.random.default_rng(seed)
    T = frame.periods
    w = _year_weights(frame)
    ell = _log_growth(u, frame, rng, n, w.shape[1])
    plan = np.log1p(np.asarray(frame.plan_growth_pct, dtype=float) / 100.0)
    dev = (ell - plan[None, :, None]).reshape(n * len(frame.services), -1)
    demand = np.exp(dev @ w.T).reshape(n, len(frame.services), T)

    acc = {a: k for k, a in enumerate(frame.accelerators)}
    flat = not u.prices and not u.generations
    price = (
        np.broadcast_to(np.ones((1, 1, 1)), (n, len(frame.accelerators), T))
        if flat
        else np.ones((n, len(frame.accelerators), T))
    )
    mid = frame.years_at_middle()
    for p in u.prices:
        if p.accelerator in acc:
            r = rng.uniform(p.low_pct_per_year, p.high_pct_per_year, n) / 100.0
            price[:, acc[p.accelerator], :] *= (1.0 - r)[:, None] ** mid[None, :]
        else:
            rng.uniform(size=n)  # keep the stream aligned whatever the spec holds
    start_h = np.array(
        [(s - frame.period_start[0]) / dt.timedelta(hours=1) for s in frame.period_start]
    )
    t0 = frame.period_start[0]
    for g in u.generations:
        a_h = (to_datetime(g.earliest) - t0) / dt.timedelta(hours=1)
        b_h = (to_datetime(g.latest) - t0) / dt.timedelta(hours=1)
        arrive = rng.uniform(a_h, b_h, n) if b_h > a_h else np.full(n, a_h)
        after = start_h[None, :] >= arrive[:, None]  # [S, T]
        cols = [acc[a] for a in (g.replaces or frame.accelerators) if a in acc]
        factor = np.where(after, 1.0 - g.price_cut_pct / 100.0, 1.0)
        price[:, cols, :] *= factor[:, None, :]

    prov = {p: k for k, p in enumerate(frame.providers)}
    shape = (n, len(frame.providers), T)
    lost = (
        np.zeros(shape, dtype=bool)
        if u.outages
        else np.broadcast_to(np.zeros((1, 1, 1), bool), shape)
    )
    replacement = np.ones(len(frame.providers))
    hours = np.array(
        [
            (e - s) / dt.timedelta(hours=1)
            for s, e in zip(frame.period_start, frame.period_end, strict=True)
        ]
    )
    for o in u.outages:
        hit = rng.random(n) < o.probability
        first = rng.integers(0, T, n)
        span = max(1, round(o.months * _MONTH_H / float(hours.mean())))
        if o.provider not in prov:
            continue
        t = np.arange(T)
        down = hit[:, None] & (t[None, :] >= first[:, None]) & (t[None, :] < first[:, None] + span)
        lost[:, prov[o.provider], :] |= down
        replacement[prov[o.provider]] = o.replacement_price_factor
    return Scenarios(demand, price, lost, replacement, price_flat=flat)


def mean_path(frame: Frame) -> Scenarios:
    """The plan's own path: demand and prices as planned, no provider lost (one scenario)."""
    T = frame.periods
    return Scenarios(
        np.ones((1, len(frame.services), T)),
        np.ones((1, len(frame.accelerators), T)),
        np.zeros((1, len(frame.providers), T), dtype=bool),
        np.ones(len(frame.providers)),
        price_flat=True,
    )
