"""Reservations the planner may buy (``reservations:``), and their checks against the catalog.

An option is a purchasable capacity commitment of one provider: reserved instances, capacity
blocks or resource-based committed-use discounts — "N nodes of an instance type in a region for a
term at a discount off the on-demand price". The planner decides how many nodes to buy at the
start of which period (docs/semantics.md, "Reservations (decisions)"); the option says what may
be bought:

- which on-demand offerings: the provider's, narrowed by ``regions``, ``instance_types`` and
  ``accelerators`` (each default: all);
- the term: ``term_years``, ``term_months`` or ``term_days`` (exactly one);
- the price: ``discount_pct`` off the on-demand price (default: the level documented for the
  provider, kind and term in :mod:`archipel.catalog.commitments`), ``upfront_pct`` of the term's
  cost paid at purchase (default 100 for capacity blocks, else 0);
- when: purchases start at a period start inside ``[buy_from, buy_until)`` (default: any);
- how much: at most ``max_nodes`` nodes of the option held at once (default: unbounded).

:mod:`archipel.spec.check_reservations` checks the options against the catalog.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from archipel.catalog.commitments import CommitmentLevel, default_level, levels
from archipel.spec.types import Frozen, Id, Name, Pct, PlanDate

CapacityKind = Literal["reserved_instance", "capacity_block", "committed_use"]
MAX_TERM_MONTHS = 120
MAX_TERM_DAYS = 3660


class ReservationOption(Frozen):
    """Capacity the planner may buy: nodes of a provider's on-demand offerings for a term."""

    id: Id
    provider: Id
    kind: CapacityKind = Field(
        description="reserved_instance (AWS/Azure RIs), capacity_block (EC2 Capacity Blocks, "
        "reserved GPU clusters) or committed_use (GCP resource-based commitments)."
    )
    regions: list[Name] | None = Field(None, description="Region ids in scope; default: all.")
    instance_types: list[Name] | None = Field(None, description="Default: every instance type.")
    accelerators: list[Name] | None = Field(None, description="Default: every accelerator.")
    term_years: int | None = Field(None, ge=1, le=MAX_TERM_MONTHS // 12)
    term_months: int | None = Field(None, ge=1, le=MAX_TERM_MONTHS)
    term_days: int | None = Field(None, ge=1, le=MAX_TERM_DAYS)
    discount_pct: Pct | None = Field(
        None,
        description="Off the on-demand price, for every hour of the term, used or not; default: "
        "the level documented for the provider, kind and term (archipel catalog commitments).",
    )
    upfront_pct: float | None = Field(
        None,
        ge=0.0,
        le=100.0,
        description="Share of the term's cost paid at purchase; default 100 for capacity "
        "blocks, else 0.",
    )
    buy_from: PlanDate | None = Field(None, description="Earliest purchase (a period start).")
    buy_until: PlanDate | None = Field(None, description="Purchases start before this date.")
    max_nodes: int | None = Field(
        None, ge=1, le=1_000_000_000, description="At most this many nodes held at once."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReservationOption:
        given = [
            f for f in ("term_years", "term_months", "term_days") if getattr(self, f) is not None
        ]
        if len(given) != 1:
            said = f"gives {' and '.join(given)}" if given else "gives no term"
            raise ValueError(
                f"the option {said}; give exactly one of term_years, term_months or term_days"
            )
        if self.buy_from and self.buy_until and self.buy_from >= self.buy_until:
            raise ValueError(f"buy_from {self.buy_from} is not before buy_until {self.buy_until}")
        return self

    @property
    def months(self) -> int | None:
        """The term in months, or None for a term in days."""
        if self.term_years is not None:
            return 12 * self.term_years
        return self.term_months

    @property
    def upfront_share(self) -> float:
        """Share of the term's cost paid at purchase (0 to 1)."""
        if self.upfront_pct is not None:
            return self.upfront_pct / 100.0
        return 1.0 if self.kind == "capacity_block" else 0.0

    def term_label(self) -> str:
        if self.term_years is not None:
            return f"{self.term_years} year{'s' if self.term_years > 1 else ''}"
        if self.term_months is not None:
            return f"{self.term_months} month{'s' if self.term_months > 1 else ''}"
        return f"{self.term_days} day{'s' if self.term_days != 1 else ''}"


def resolve_discount(
    option: ReservationOption, exclude_assumed: bool
) -> tuple[float, CommitmentLevel | None]:
    """The option's discount in percent and the documented level it came from (None when the
    spec gives ``discount_pct``). Raises ValueError saying what to give when no level is
    documented, or when the level is an assumed "up to" one and assumptions are excluded."""
    if option.discount_pct is not None:
        return option.discount_pct, None
    level = default_level(option.provider, option.kind, option.months)
    if level is None or level.level_pct is None:
        documented = levels(option.provider, option.kind)
        known = "; ".join(
            f"{c.program} ({'any term' if c.term_months is None else f'{c.term_months} months'}"
            f": {'no level published' if c.level_pct is None else f'{c.level_pct:g}%'})"
            for c in documented
        )
        raise ValueError(
            f"no discount level is documented for {option.provider} {option.kind} with a term "
            f"of {option.term_label()}"
            + (f" (documented: {known})" if known else "")
            + "; give discount_pct from the provider's price list or your quote"
        )
    if level.assumed and exclude_assumed:
        raise ValueError(
            f"the documented level for {option.provider} {option.kind} ({level.program}, "
            f"{level.level_pct:g}%) is an 'up to' level, an assumption, and "
            "catalog.exclude_assumed is set; give discount_pct"
        )
    return level.level_pct, level


def buy_starts(option: ReservationOption, starts: list[dt.datetime]) -> list[bool]:
    """Per period start: whether a purchase may start there (inside ``[buy_from, buy_until)``)."""
    lo = dt.datetime.combine(option.buy_from, dt.time()) if option.buy_from else None
    hi = dt.datetime.combine(option.buy_until, dt.time()) if option.buy_until else None
    return [(lo is None or s >= lo) and (hi is None or s < hi) for s in starts]
