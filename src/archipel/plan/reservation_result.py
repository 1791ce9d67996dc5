"""A reservation the plan buys, as data (one entry of :attr:`archipel.plan.result.Plan.reservations`).

Figures (docs/semantics.md, "Reservations (decisions)"), with rate = on-demand price × (1 − d):

- ``total_usd`` = nodes × term hours × rate: the whole commitment, used or not;
- ``upfront_usd`` = upfront share × total: cash at purchase (``start``);
- ``in_horizon_usd`` = nodes × hours of the term inside the horizon × rate: what the plan's
  objective and ``cost_by_period_usd`` count (amortised per hour held, whatever was paid
  upfront);
- ``recurring_in_horizon_usd`` = (1 − upfront share) × in-horizon cost: the recurring charges
  paid inside the horizon;
- ``beyond_horizon_usd`` = total − in-horizon cost: the commitment left after the horizon ends;
- ``utilisation`` = used node-hours / bought node-hours inside the horizon (node-hours used on the
  derived offering in a period are shared among its purchases active then, by their node-hours).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from archipel.plan.result_parts import ContractShare


class ReservationPurchase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    option: str  # id of the spec's reservation option
    kind: str  # reserved_instance | capacity_block | committed_use
    offering_id: str  # the derived offering (purchase option reserved) workloads use
    provider: str
    region: str
    instance_type: str
    accelerator: str
    start_period: int
    start_period_label: str
    start: dt.datetime
    end: dt.datetime  # exclusive
    term_hours: float
    nodes: float
    discount_pct: float
    discount_source: str  # "spec", or the documented level's page
    discount_assumed: bool = False  # the level is an "up to" headline (an assumption)
    usd_per_node_hour: float  # on-demand price × (1 − discount)
    upfront_pct: float
    total_usd: float
    upfront_usd: float
    in_horizon_usd: float
    recurring_in_horizon_usd: float
    beyond_horizon_usd: float
    bought_node_hours: float  # inside the horizon
    used_node_hours: float
    utilisation: float
    # in-horizon cost counted toward contract years (no contract discount on top)
    contract_spend: list[ContractShare] = Field(default_factory=list)
