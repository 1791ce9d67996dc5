"""Contracts as signed: committed spend over a term, its yearly schedule, discounts, scope.

A contract's years are anchored on its start (a contract from 1 October has years from
1 October); every term is pro-rated by the hours a planning period overlaps it. The meaning of
each field, with formulas, is in docs/semantics.md ("Contracts").
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from archipel.spec.types import Frozen, Id, Name, Pct, PlanDate, Usd, UsdPerHour


def add_years(d: dt.date, k: int) -> dt.date:
    """The date ``k`` years after ``d`` (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + k)
    except ValueError:
        return d.replace(year=d.year + k, day=28)


ScopeOption = Literal["on_demand", "spot", "reserved", "owned"]
MAX_CONTRACT_YEARS = 30


class ReservedBlock(Frozen):
    """Capacity reserved and paid for whether used or not."""

    region: Name = Field(description="Region id 'provider:code'.")
    instance_type: Name
    nodes: int = Field(ge=1, le=1_000_000_000)
    usd_per_node_hour: UsdPerHour
    start: PlanDate
    end: PlanDate


class DiscountTier(Frozen):
    """Spend in a contract year above ``above_usd`` (list price) gets ``discount_pct`` off."""

    above_usd: Usd = Field(description="Threshold of list-price spend in the contract year.")
    discount_pct: Pct


def _default_options() -> list[ScopeOption]:
    return ["on_demand", "reserved"]


class ContractScope(Frozen):
    """What spend counts toward the commitment and receives the discount; None means any."""

    purchase_options: list[ScopeOption] = Field(
        default_factory=_default_options,
        min_length=1,
        description="Default on_demand and reserved: spot is billed outside most agreements.",
    )
    regions: list[Name] | None = Field(None, description="Region ids 'provider:code'.")
    accelerators: list[Name] | None = None
    workloads: list[Id] | None = Field(None, description="Service or training-job ids.")


class Contract(Frozen):
    """A committed-spend agreement with a provider.

    The commitment per contract year comes from exactly one of: ``committed_usd_per_year`` (flat),
    ``schedule_usd`` (one figure per contract year), or ``total_usd`` spread over the years by
    ``ramp`` weights (equal weights when no ramp is given)."""

    id: Id
    provider: Id
    regions: list[Name] | None = Field(
        None, description="Shorthand for scope.regions (region ids in scope; default: all)."
    )
    scope: ContractScope = Field(default_factory=ContractScope)
    start: PlanDate
    end: PlanDate
    committed_usd_per_year: Usd = 0.0
    schedule_usd: list[Usd] | None = Field(
        None, description="Commitment per contract year, first year first."
    )
    total_usd: Usd | None = Field(None, description="Commitment over the whole term.")
    ramp: list[float] | None = Field(
        None, description="Relative weight of each contract year in total_usd, e.g. [1, 2, 3]."
    )
    max_usd_per_year: Usd | None = Field(
        None, description="At most this much list-price spend per contract year counts here."
    )
    counts: Literal["net", "gross"] = Field(
        "net", description="Spend counts toward the commitment after (net) or before discount."
    )
    discount_pct: Pct = 0.0
    discount_tiers: list[DiscountTier] = Field(
        default_factory=list,
        description="Volume tiers: the part of a year's spend above each threshold gets its "
        "discount instead of discount_pct.",
    )
    spent_to_date_usd: Usd | None = Field(
        None,
        description="Spend counted from the contract's start to the horizon's start, for a "
        "running contract; default: assume it is on track.",
    )
    carry_over_pct: Pct = Field(
        0.0, description="Share of a year's commitment whose shortfall may move to the next year."
    )
    take_or_pay: bool = True
    sized_by_plan: bool = Field(
        False,
        description="A savings plan: the planner chooses the commitment, one USD/hour for the "
        "whole term, paid whether used or not; spend up to it (net of discount_pct) is "
        "discounted, spend beyond it pays list price.",
    )
    max_usd_per_hour: UsdPerHour | None = Field(
        None, description="With sized_by_plan: the largest hourly commitment to consider."
    )
    reserved_blocks: list[ReservedBlock] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Contract:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        years = self.years
        if years > MAX_CONTRACT_YEARS:
            raise ValueError(
                f"a term of {years} contract years is longer than {MAX_CONTRACT_YEARS}"
            )
        given = [
            n
            for n, v in (
                ("committed_usd_per_year", self.committed_usd_per_year or None),
                ("schedule_usd", self.schedule_usd),
                ("total_usd", self.total_usd),
            )
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give one of {', '.join(given)}, not several")
        if self.schedule_usd is not None and len(self.schedule_usd) != years:
            raise ValueError(
                f"schedule_usd has {len(self.schedule_usd)} entries; the term "
                f"{self.start} to {self.end} has {years} contract years"
            )
        if self.ramp is not None:
            if self.total_usd is None:
                raise ValueError("ramp spreads total_usd: give total_usd with it")
            if len(self.ramp) != years or any(w < 0 for w in self.ramp) or sum(self.ramp) <= 0:
                raise ValueError(
                    f"ramp needs {years} non-negative weights (one per contract year), "
                    "at least one positive"
                )
        above = [t.above_usd for t in self.discount_tiers]
        if above != sorted(set(above)):
            raise ValueError("discount_tiers must have strictly increasing above_usd")
        if self.sized_by_plan:
            fixed = [*given, *(["discount_tiers"] if self.discount_tiers else [])]
            fixed += ["max_usd_per_year"] if self.max_usd_per_year is not None else []
            fixed += ["reserved_blocks"] if self.reserved_blocks else []
            if fixed:
                raise ValueError(
                    f"sized_by_plan: the planner chooses the commitment; leave out {', '.join(fixed)}"
                )
            if not self.take_or_pay:
                raise ValueError("sized_by_plan: a savings plan is paid whether used or not")
        elif self.max_usd_per_hour is not None:
            raise ValueError("max_usd_per_hour is for a contract with sized_by_plan: true")
        if self.regions is not None and self.scope.regions is not None:
            raise ValueError("give regions or scope.regions, not both")
        return self

    @property
    def years(self) -> int:
        """Contract years in the term; the last one may be cut short by ``end``."""
        k = 0
        while add_years(self.start, k) < self.end:
            k += 1
        return k

    @property
    def scope_regions(self) -> list[str] | None:
        return self.regions if self.regions is not None else self.scope.regions

    def commitment_of_year(self, k: int) -> float:
        """Commitment of contract year ``k`` (0-based) over its whole length."""
        if self.schedule_usd is not None:
            return self.schedule_usd[k]
        if self.total_usd is not None:
            w = self.ramp or [1.0] * self.years
            return self.total_usd * w[k] / sum(w)
        return self.committed_usd_per_year

    def tiers(self) -> list[tuple[float, float]]:
        """(threshold USD, discount fraction) from zero up, the base discount first."""
        out = [(0.0, self.discount_pct / 100.0)]
        for t in self.discount_tiers:
            if t.above_usd <= 0:
                out[0] = (0.0, t.discount_pct / 100.0)
            else:
                out.append((t.above_usd, t.discount_pct / 100.0))
        return out
