"""Contract terms as numbers: contract years, pro-rated commitments, scope masks, time segments.

Shared by the LP (``plan.lp.contracts``), the greedy baseline and the plan's accounting
(``plan.contract_books``); the verifier derives the same figures with its own code
(``plan.verify_contracts``). The rules are in docs/semantics.md, "Contracts":

- contract year k runs from the k-th anniversary of the start to the next (or the contract's
  end); its commitment is the schedule's figure, ``total_usd`` × its ramp weight, or
  ``committed_usd_per_year`` × the year's length over a full year;
- inside the horizon a year commits ``commitment × in-horizon hours / year hours``; for a
  running contract with ``spent_to_date_usd``, the year holding the horizon's start commits what
  is left of it (after the spend to date beyond earlier years' commitments) over its remaining
  hours;
- maxima, tier thresholds and carry-over caps are pro-rated the same way (by in-horizon hours).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from archipel.plan.inputs import PlanInputs
from archipel.spec.contracts import Contract, add_years

BoolArray = NDArray[np.bool_]
_H = dt.timedelta(hours=1)


@dataclass(frozen=True)
class YearTerm:
    """One contract year as it meets the horizon."""

    contract: int  # index into spec.contracts
    year: int  # 1-based contract year
    start: dt.datetime
    end: dt.datetime  # exclusive; the contract's end for a short last year
    horizon_hours: float  # hours of the year inside the horizon
    committed_usd: float  # what the plan must count (or pay as shortfall) inside the horizon
    max_usd: float  # list-price spend that may count here inside the horizon (inf: no cap)
    tiers: tuple[tuple[float, float], ...]  # (width USD, discount fraction), last width inf
    carry_cap_usd: float  # shortfall that may move to the next year (0: none)
    reserved_fixed_usd: float  # fixed cost of the contract's reserved blocks in the year


@dataclass(frozen=True)
class Segment:
    """A stretch of one period for one provider in which the same contract years are running."""

    provider: str
    period: int
    fraction: float  # of the period's hours
    terms: tuple[int, ...]  # indices into the YearTerm list, one per running contract


def _dt(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())


def _hours(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a) / _H)


def _full_commitment(c: Contract, k: int, start: dt.datetime, end: dt.datetime) -> float:
    if c.schedule_usd is not None or c.total_usd is not None:
        return c.commitment_of_year(k)
    full = _hours(_dt(add_years(c.start, k)), _dt(add_years(c.start, k + 1)))
    return c.committed_usd_per_year * _hours(start, end) / full


def year_terms(inputs: PlanInputs, hourly: Mapping[str, float] | None = None) -> list[YearTerm]:
    """Every contract year that overlaps the horizon, contract by contract, year by year.

    A savings plan (``sized_by_plan``) commits ``hourly[id]`` USD an hour (0 when not given: the
    LP sizes it with a column) and takes at most that, grossed up by its discount, of list
    spend."""
    pers = inputs.periods
    if not pers:
        return []
    h0, h1 = pers[0].start, pers[-1].end
    out: list[YearTerm] = []
    for ci, c in enumerate(inputs.spec.contracts):
        starts = [_dt(add_years(c.start, k)) for k in range(c.years)]
        ends = [*starts[1:], _dt(c.end)]
        full = [
            _full_commitment(c, k, s, e) for k, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]
        kept = [k for k in range(c.years) if _hours(max(starts[k], h0), min(ends[k], h1)) > 0]
        for k in kept:
            s, e = starts[k], ends[k]
            length = _hours(s, e)
            inside = _hours(max(s, h0), min(e, h1))
            share = inside / length
            committed = full[k] * share
            if c.spent_to_date_usd is not None and s < h0:
                credit = max(0.0, c.spent_to_date_usd - sum(full[:k]))
                committed = max(0.0, full[k] - credit) * inside / _hours(h0, e)
            cap = (
                c.max_usd_per_year * length / _hours(s, _dt(add_years(c.start, k + 1))) * share
                if c.max_usd_per_year is not None
                else np.inf
            )
            if c.sized_by_plan:
                committed = (hourly or {}).get(c.id, 0.0) * inside
                cap = committed / (1.0 - c.tiers()[0][1]) if hourly is not None else np.inf
            tiers = c.tiers()
            widths = [
                (tiers[i + 1][0] - tiers[i][0]) * share if i + 1 < len(tiers) else np.inf
                for i in range(len(tiers))
            ]
            carry = (
                c.carry_over_pct / 100.0 * committed
                if k + 1 < c.years and starts[k + 1] < h1
                else 0.0
            )
            out.append(
                YearTerm(
                    contract=ci,
                    year=k + 1,
                    start=s,
                    end=e,
                    horizon_hours=inside,
                    committed_usd=committed,
                    max_usd=float(cap),
                    tiers=tuple((float(w), d) for w, (_, d) in zip(widths, tiers, strict=True)),
                    carry_cap_usd=carry,
                    reserved_fixed_usd=_reserved_fixed(c, max(s, h0), min(e, h1)),
                )
            )
    return out


def _reserved_fixed(c: Contract, a: dt.datetime, b: dt.datetime) -> float:
    return sum(
        blk.nodes * blk.usd_per_node_hour * _hours(max(a, _dt(blk.start)), min(b, _dt(blk.end)))
        for blk in c.reserved_blocks
    )


def segments(inputs: PlanInputs, terms: list[YearTerm]) -> list[Segment]:
    """Per provider and period, the stretches cut by contract-year boundaries, with the contract
    years running in each (stretches where no contract runs are left out)."""
    spec = inputs.spec
    by_provider: dict[str, list[int]] = {}
    for i, term in enumerate(terms):
        by_provider.setdefault(spec.contracts[term.contract].provider, []).append(i)
    out: list[Segment] = []
    for provider, idx in by_provider.items():
        for p in inputs.periods:
            cuts = {p.start, p.end}
            for i in idx:
                for x in (terms[i].start, terms[i].end):
                    if p.start < x < p.end:
                        cuts.add(x)
            for a, b in pairwise(sorted(cuts)):
                running = tuple(i for i in idx if terms[i].start <= a and b <= terms[i].end)
                if running:
                    out.append(Segment(provider, p.index, _hours(a, b) / p.hours, running))
    return out


def scope_masks(inputs: PlanInputs) -> tuple[BoolArray, BoolArray]:
    """([C, O] offerings, [C, W] workloads) each contract's scope covers; workloads are the
    services then the training jobs. A reserved block's offering counts only for its contract
    (through its fixed cost, not per use)."""
    spec = inputs.spec
    offs = inputs.offerings
    wl = [s.id for s in spec.services] + [j.id for j in spec.training]
    C = len(spec.contracts)
    off_ok = np.zeros((C, len(offs)), dtype=bool)
    wl_ok = np.zeros((C, len(wl)), dtype=bool)
    reserved_block = np.array([c is not None for c in inputs.reserved_contract], dtype=bool)
    for ci, c in enumerate(spec.contracts):
        regions = c.scope_regions
        accs = (
            {inputs.accelerator_name(a) or a for a in c.scope.accelerators}
            if c.scope.accelerators is not None
            else None
        )
        options = set(c.scope.purchase_options)
        off_ok[ci] = [
            o.provider == c.provider
            and (regions is None or o.region_id in regions)
            and (accs is None or o.accelerator in accs)
            and str(o.purchase_option) in options
            for o in offs
        ]
        off_ok[ci] &= ~reserved_block
        wl_ok[ci] = [c.scope.workloads is None or w in c.scope.workloads for w in wl]
    return off_ok, wl_ok
