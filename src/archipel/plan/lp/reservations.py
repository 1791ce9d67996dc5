"""Reservations as decisions: purchase columns, the capacity they give and what they cost.

For each derived offering r (:mod:`archipel.plan.reservations`) and each period s whose start
lies in its option's buy window, the integer column ``b[r, s]`` is the number of nodes bought at
the start of s for the option's term ``[start_s, end_s)``. With ``h[r,s,t]`` the hours of period
t inside that term (the horizon's periods only), price P the on-demand price per node-hour and d
the discount (docs/semantics.md, "Reservations (decisions)"):

- reservation-nodes-upper, per (r, t) where a workload may use r:
  Σ_w nodes[w, r, t] − Σ_s b[r, s] · h[r,s,t] / hours_t ≤ 0;
- reservation-option-nodes-upper, per option with ``max_nodes`` and period t:
  Σ_{r of the option, s with h[r,s,t] > 0} b[r, s] ≤ max_nodes;
- cost of a column = P · (1 − d) · Σ_t h[r,s,t]: every in-horizon hour of the term, used or not
  (the part of the term after the horizon is not in the objective; it is reported);
- spend entries (column, offering, period, USD per node bought) = P · (1 − d) · h[r,s,t]: the
  purchase's spend counts toward the contracts and provider shares covering r in period t.

Everything is built from index arrays: one entry per (column, covered period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from archipel.errors import Issue, SpecError
from archipel.plan.lp.problem import Problem
from archipel.plan.lp.program import FloatArray, IntArray, LPBuilder, VarBlock
from archipel.plan.lp.shared import NodeView
from archipel.plan.reservations import term_end
from archipel.spec.periods import Period
from archipel.spec.reservations import ReservationOption, buy_starts

_HOUR = dt.timedelta(hours=1)
# (column, covered period) entries beyond this make the model too large to build: a term of
# years on an hourly horizon bought in every hour. The spec is told to narrow the buy window.
MAX_COVER_ENTRIES = 5_000_000


@dataclass(frozen=True)
class Purchases:
    """The purchase columns and the periods each one covers."""

    cols: VarBlock  # nodes bought per (derived offering, start period)
    r: IntArray  # [B] index into inputs.reservable
    o: IntArray  # [B] the derived offering
    s: IntArray  # [B] the start period
    start: tuple[dt.datetime, ...]  # [B]
    end: tuple[dt.datetime, ...]  # [B] end of the term (exclusive)
    rate: FloatArray  # [B] USD per node-hour: on-demand price × (1 − discount)
    term_hours: FloatArray  # [B] hours of the whole term
    cover_b: IntArray  # [E] column (block-local) of each covered (column, period)
    cover_t: IntArray  # [E] the period
    cover_h: FloatArray  # [E] hours of the period inside the term

    @property
    def size(self) -> int:
        return int(self.r.size)

    def spend_view(self) -> NodeView:
        """The columns' spend per covered period, as node columns with no nodes and no workload
        (-1): what the provider share rows count (USD per node bought)."""
        b = self.cover_b
        return NodeView(
            col=self.cols.cols(b),
            o=self.o[b],
            t=self.cover_t,
            w=np.full(b.size, -1, dtype=np.int64),
            nodes=np.zeros(b.size),
            cost=self.rate[b] * self.cover_h,
        )


def with_spend(view: NodeView, bought: Purchases) -> NodeView:
    """The workloads' node columns and the purchases' spend entries, for the spend rows."""
    extra = bought.spend_view()
    return NodeView(
        col=np.concatenate([view.col, extra.col]),
        o=np.concatenate([view.o, extra.o]),
        t=np.concatenate([view.t, extra.t]),
        w=np.concatenate([view.w, extra.w]),
        nodes=np.concatenate([view.nodes, extra.nodes]),
        cost=np.concatenate([view.cost, extra.cost]),
    )


def on_base(prob: Problem, view: NodeView) -> NodeView:
    """The view with nodes on derived offerings counted on the on-demand offering each derives
    from: a reservation is capacity of that instance type in that region, so the offering's
    ``max_nodes`` holds on-demand and reserved nodes together."""
    res = prob.inputs.reservable
    if res.size == 0:
        return view
    base = np.arange(prob.num_offerings, dtype=np.int64)
    base[res.offering] = res.base
    return NodeView(
        col=view.col, o=base[view.o], t=view.t, w=view.w, nodes=view.nodes, cost=view.cost
    )


def _terms(
    pers: tuple[Period, ...], option: ReservationOption
) -> tuple[IntArray, list[dt.datetime], IntArray, IntArray, FloatArray]:
    """Start periods of the option's purchases, their term ends, and the covered periods as
    (purchase, period, hours) entries."""
    T = len(pers)
    t0 = pers[0].start
    edges = np.array([(p.start - t0) / _HOUR for p in pers] + [(pers[-1].end - t0) / _HOUR])
    s_idx = np.flatnonzero(buy_starts(option, [p.start for p in pers])).astype(np.int64)
    ends = [term_end(option, pers[s].start) for s in s_idx]
    end_h = np.array([(e - t0) / _HOUR for e in ends], dtype=float)
    # periods s .. last-1 start before the term's end
    last = np.searchsorted(edges[:T], end_h, side="left")
    n = np.maximum(last - s_idx, 0)
    k = np.repeat(np.arange(s_idx.size), n)
    offsets = np.repeat(np.cumsum(n) - n, n)
    t = s_idx[k] + (np.arange(k.size) - offsets)
    h = np.minimum(edges[t + 1], end_h[k]) - edges[t]
    return s_idx, ends, k.astype(np.int64), t.astype(np.int64), h


def add_purchases(
    b: LPBuilder, prob: Problem, view: NodeView, integer: bool, tie: float
) -> Purchases:
    """Purchase columns, the capacity rows linking workloads' nodes on derived offerings to
    what is bought, and the options' node limits (see the module docstring)."""
    inputs = prob.inputs
    res, spec, pers = inputs.reservable, inputs.spec, inputs.periods
    parts: dict[str, list[NDArray[Any]]] = {
        k: [] for k in ("r", "s", "rate", "hours", "cb", "ct", "ch")
    }
    starts: list[dt.datetime] = []
    ends: list[dt.datetime] = []
    col = 0
    for i, option in enumerate(spec.reservations):
        rs = np.flatnonzero(res.option == i)
        if rs.size == 0 or not pers:
            continue
        s_idx, term_ends, k, t, h = _terms(pers, option)
        K = s_idx.size
        if rs.size * k.size > MAX_COVER_ENTRIES:
            raise SpecError([_too_large(i, option, rs.size * k.size)])
        term_h = np.array(
            [(e - pers[s].start) / _HOUR for s, e in zip(s_idx, term_ends, strict=True)]
        )
        parts["r"].append(np.repeat(rs, K))
        parts["s"].append(np.tile(s_idx, rs.size))
        parts["rate"].append(np.repeat(res.price[rs] * (1.0 - res.discount[rs]), K))
        parts["hours"].append(np.tile(term_h, rs.size))
        parts["cb"].append(col + (np.repeat(np.arange(rs.size) * K, k.size) + np.tile(k, rs.size)))
        parts["ct"].append(np.tile(t, rs.size))
        parts["ch"].append(np.tile(h, rs.size))
        starts += [pers[s].start for s in s_idx] * rs.size
        ends += term_ends * rs.size
        col += rs.size * K

    def cat(name: str, dtype: type) -> NDArray[Any]:
        return np.concatenate(parts[name]).astype(dtype) if parts[name] else np.zeros(0, dtype)

    r, cb, ct, ch = cat("r", np.int64), cat("cb", np.int64), cat("ct", np.int64), cat("ch", float)
    rate = cat("rate", float)
    in_horizon = np.bincount(cb, weights=ch, minlength=col)
    cols = b.add_vars("reservation_buy", col, rate * in_horizon * tie, integer=integer)
    bought = Purchases(
        cols, r, res.offering[r], cat("s", np.int64), tuple(starts), tuple(ends), rate,
        cat("hours", float), cb, ct, ch,
    )  # fmt: skip
    _capacity_rows(b, prob, view, bought)
    _option_rows(b, prob, bought)
    return bought


def _too_large(i: int, option: ReservationOption, entries: int) -> Issue:
    return Issue(
        "<spec>",
        0,
        0,
        f"reservations[{i}]",
        f"option {option.id!r} would need {entries:,} (purchase, period) entries, more than "
        f"{MAX_COVER_ENTRIES:,}: a long term bought in every period of a fine-grained horizon",
        "narrow buy_from/buy_until, its regions or instance types, or plan with longer periods",
    )


def _capacity_rows(b: LPBuilder, prob: Problem, view: NodeView, bought: Purchases) -> None:
    """reservation-nodes-upper: nodes used on a derived offering ≤ nodes bought and active."""
    T = prob.num_periods
    derived = np.zeros(prob.num_offerings, dtype=bool)
    derived[prob.inputs.reservable.offering] = True
    use = derived[view.o]
    if not use.any():
        return
    keys, inv = np.unique(view.o[use] * T + view.t[use], return_inverse=True)
    cover_key = bought.o[bought.cover_b] * T + bought.cover_t
    pos = np.minimum(np.searchsorted(keys, cover_key), keys.size - 1)
    hit = keys[pos] == cover_key
    share = bought.cover_h[hit] / prob.hours[bought.cover_t[hit]]
    ko, kt = np.divmod(keys, T)
    ids, labels = prob.inputs.keys, [p.label for p in prob.inputs.periods]
    b.add_rows(
        "reservation-nodes-upper",
        keys.size,
        np.concatenate([inv, pos[hit]]),
        np.concatenate([view.col[use], bought.cols.cols(bought.cover_b[hit])]),
        np.concatenate([view.nodes[use], -share]),
        -np.inf,
        0.0,
        lambda rows: [f"{ids[ko[i]]}/{labels[kt[i]]}" for i in rows],
        "nodes used on a reservation, at most the nodes bought and active in the period",
    )


def _option_rows(b: LPBuilder, prob: Problem, bought: Purchases) -> None:
    """reservation-option-nodes-upper: nodes of an option held in a period ≤ its max_nodes."""
    spec, T = prob.inputs.spec, prob.num_periods
    option = prob.inputs.reservable.option[bought.r]
    limit = np.array([np.inf if r.max_nodes is None else r.max_nodes for r in spec.reservations])
    if not np.isfinite(limit).any() or bought.size == 0:
        return
    e_opt = option[bought.cover_b]
    keep = np.isfinite(limit[e_opt]) & (bought.cover_h > 0)
    keys, inv = np.unique(e_opt[keep] * T + bought.cover_t[keep], return_inverse=True)
    ki, kt = np.divmod(keys, T)
    labels = [p.label for p in prob.inputs.periods]
    b.add_rows(
        "reservation-option-nodes-upper",
        keys.size,
        inv,
        bought.cols.cols(bought.cover_b[keep]),
        1.0,
        -np.inf,
        limit[ki],
        lambda rows: [f"{spec.reservations[ki[i]].id}/{labels[kt[i]]}" for i in rows],
        "nodes of a reservation option held in a period, at most its max_nodes",
    )


def purchase_spend(prob: Problem, bought: Purchases, x: FloatArray) -> FloatArray:
    """[O, T] USD the solution's purchases cost in each period (amortised: per hour held)."""
    T = prob.num_periods
    nodes = x[bought.cols.start : bought.cols.stop]
    usd = nodes[bought.cover_b] * bought.rate[bought.cover_b] * bought.cover_h
    key = bought.o[bought.cover_b] * T + bought.cover_t
    flat = np.bincount(key, weights=usd, minlength=prob.num_offerings * T)
    return np.asarray(flat, dtype=float).reshape(prob.num_offerings, T)
