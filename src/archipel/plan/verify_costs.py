"""Cost recomputation for the verifier: allocation costs, contract years, totals.

Allocation cost = nodes × active hours × price, less the discount of the contract years its
spend counts toward (``verify_contracts``); reserved blocks cost their fixed cost, counted in
their contract's spend (docs/semantics.md, "Cost" and "Contracts").
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result import Allocation, ContractYear
from archipel.plan.verify_contracts import settle_contracts
from archipel.plan.verify_facts import Cells, Facts, Float


@dataclass(frozen=True)
class Costs:
    """Costs recomputed from the plan's allocations (see ``recompute_costs``)."""

    allocation_usd: Float  # [A] one per cell
    spend_by_provider_usd: dict[str, float]  # allocations + reserved fixed, no shortfall
    cost_by_provider_usd: dict[str, float]  # spend + billed shortfall
    cost_by_period_usd: Float  # [T] allocations + reserved fixed
    cost_by_purchase_option_usd: dict[str, float]  # reserved fixed counted under "reserved"
    reserved_fixed_usd: float
    shortfall_usd: float  # billed (take-or-pay) shortfall
    objective_usd: float
    contracts: tuple[ContractYear, ...]
    discount_usd: float = 0.0
    unused_commitment_usd: float = 0.0
    problems: tuple[tuple[str, str], ...] = ()  # contract spend the spec does not allow
    shortfall_by_provider_usd: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def share_spend_by_provider_usd(self) -> dict[str, float]:
        """What a diversification cap counts: spend after discounts plus billed shortfall."""
        out = dict(self.spend_by_provider_usd)
        for p, v in self.shortfall_by_provider_usd.items():
            out[p] = out.get(p, 0.0) + v
        return out


def recompute_costs(
    facts: Facts,
    cells: Cells,
    allocations: Sequence[Allocation] = (),
    reported: Sequence[ContractYear] = (),
    bought: Float | None = None,
    hourly: Mapping[str, float] | None = None,
    reservations: Sequence[ReservationPurchase] = (),
) -> Costs:
    """Every cost figure of a plan, from its allocations' nodes, their contract spend and the
    facts alone (``reported``: only the plan's carry-over decisions are read from it), plus
    ``bought``: [O, T] USD of reservations bought (recomputed by ``verify_reservations``), which
    count like spend of purchase option ``reserved`` (their contract spend is read by ``verify_contracts``)."""
    inputs = facts.inputs
    o, t = cells.offering, cells.period
    list_usd = cells.nodes * cells.active_hours(facts) * facts.price[o]
    books = settle_contracts(facts, cells, allocations, list_usd, reported, hourly, reservations)
    cost = books.allocation_usd
    fixed = inputs.reserved_fixed_usd
    opts = [str(x.purchase_option) for x in inputs.offerings]

    by_period = np.bincount(t, weights=cost, minlength=len(facts.hours)) + fixed.sum(axis=0)
    spend: dict[str, float] = defaultdict(float)
    by_option: dict[str, float] = defaultdict(float)
    for ai, oi in enumerate(o.tolist()):
        spend[facts.provider_of[oi]] += float(cost[ai])
        by_option[opts[oi]] += float(cost[ai])
    bought = np.zeros(inputs.reserved_fixed_usd.shape) if bought is None else bought
    bought_o, bought_t = np.nonzero(bought)
    for bo, bt in zip(bought_o, bought_t, strict=True):  # reservations bought
        by_period[bt] += bought[bo, bt]
        spend[facts.provider_of[bo]] += float(bought[bo, bt])
        by_option["reserved"] += float(bought[bo, bt])
    for fo in np.flatnonzero(fixed.sum(axis=1) > 0):
        spend[facts.provider_of[fo]] += float(fixed[fo].sum())
        by_option["reserved"] += float(fixed[fo].sum())
    cost_by_provider = dict(spend)
    for p, short in books.billed.items():
        cost_by_provider[p] = cost_by_provider.get(p, 0.0) + short
    billed = sum(books.billed.values())
    return Costs(
        allocation_usd=cost,
        spend_by_provider_usd=dict(spend),
        cost_by_provider_usd=cost_by_provider,
        cost_by_period_usd=by_period,
        cost_by_purchase_option_usd=dict(by_option),
        reserved_fixed_usd=float(fixed.sum()),
        shortfall_usd=billed,
        objective_usd=float(by_period.sum()) + billed,
        contracts=books.rows,
        discount_usd=books.discount_usd,
        unused_commitment_usd=books.unused_usd,
        problems=tuple(books.problems),
        shortfall_by_provider_usd=dict(books.billed),
    )
