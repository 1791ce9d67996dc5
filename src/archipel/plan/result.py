"""A plan as data: what runs where, what it costs, and how sure we are.

This is the boundary between the planners (LP and greedy), the independent verifier, the
reports and ``archipel diff``. It is plain pydantic so that ``--json`` output can be read back
(``Plan.model_validate_json``) and verified, including after a person edits it by hand.

Semantics every producer and checker agrees on (see docs/semantics.md):

- ``Allocation.nodes`` nodes of one offering for one workload in one period, held for the whole
  period: whole nodes unless the plan says ``whole_nodes: false`` (the fractional view for very
  large studies). A service's nodes host ``replicas`` whole replicas of
  ``accelerators_per_replica`` accelerators each, inside one node's scale-up domain, or on
  ``nodes_per_replica`` whole nodes joined by a fabric when the model allows multi-node replicas. Cost = nodes × period hours × price per node-hour × (1 − contract discount in scope).
  Reserved-block offerings cost nothing per use: the block's fixed cost is reported under
  ``reserved_fixed_usd`` and in the totals, used or not.
- ``Flow.requests_per_s`` of one request class of a service's peak demand from a geography,
  served in a region in a period; ``Flow.egress_usd`` what moving its bytes costs over the
  period (on the average, not the peak), billed by the providers that send them.
- ``Allocation.contract_spend``: the list-price spend of the allocation counted toward each
  contract year; its ``cost_usd`` is the list cost less the discount those years give.
- ``ContractYear`` (contract years run from the contract's start): ``shortfall_usd`` =
  max(0, committed + carried in − carried out − spent), billed when take-or-pay; ``useful_usd``
  and ``idle_usd`` split the spent figure by the load the capacity carries; ``unused_usd`` =
  max(0, committed + carried in − carried out − useful): commitment paid for and not used.
- ``reservations``: what the plan buys (:mod:`archipel.plan.reservation_result`); their
  in-horizon cost is in ``cost_by_period_usd`` and the totals (purchase option ``reserved``) and
  in the provider's spend share; ``contract_spend`` of each says what counted toward contract
  commitments (at its own price, no contract discount on top).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from archipel.plan.reservation_result import ReservationPurchase
from archipel.plan.result_parts import ContractShare as ContractShare


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven optimal (continuous), or within the MIP gap tolerance
    FEASIBLE = "feasible"  # a plan exists but optimality is not proven (time limit, greedy)
    INFEASIBLE = "infeasible"  # no plan meets the spec; ``infeasibility`` says why
    TIME_LIMIT = "time_limit"  # the time limit passed before any plan was found
    ERROR = "error"  # the solver failed; ``message`` says how


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Allocation(_Data):
    workload: str
    workload_kind: Literal["service", "training"]
    provider: str
    region: str  # "provider:code"
    instance_type: str
    accelerator: str
    purchase_option: str
    offering_id: str
    period: int
    period_label: str
    nodes: float
    accelerators: float
    hours: float  # active hours: the period's for a service, the window overlap for training
    cost_usd: float  # after contract discounts
    list_cost_usd: float | None = None  # at list price (None in plans made before contracts)
    contract_spend: list[ContractShare] = Field(default_factory=list)
    # serving only (0 / None for training)
    replicas: float = 0.0  # whole replicas the nodes host
    accelerators_per_replica: int = 0
    nodes_per_replica: int = 1  # > 1 only for a multi-node replica on a fabric
    utilisation: float | None = None  # share of the nodes' derated capacity the flows use
    throughput_source: str = ""  # measured | calibrated | estimated
    availability: float = 1.0  # spot: expected share of time the nodes are up


class Flow(_Data):
    service: str
    request_class: str = ""  # "" only in plans made before per-class flows (to be removed)
    geography: str
    region: str
    period: int
    requests_per_s: float
    # network cost of the flow over its period (docs/semantics.md, "Network cost"); 0 in plans
    # made before it was priced
    egress_usd: float = 0.0


class ContractYear(_Data):
    """One contract year inside the horizon (pro-rated where the horizon cuts it)."""

    contract: str
    provider: str
    year: int  # contract year, 1-based from the contract's start
    start: str = ""  # ISO date the contract year starts
    end: str = ""  # ISO date it ends (exclusive)
    committed_usd: float
    list_usd: float = 0.0  # list-price spend counted here
    discount_usd: float = 0.0  # what the contract's discount took off that spend
    spent_usd: float  # counted toward the commitment (net or gross of discount) + reserved fixed
    useful_usd: float = 0.0  # the part of spent_usd carried by load
    idle_usd: float = 0.0  # the part of spent_usd on capacity that carries none
    shortfall_usd: float
    carried_in_usd: float = 0.0  # last year's shortfall moved into this year
    carried_out_usd: float = 0.0  # this year's shortfall moved into the next
    reserved_fixed_usd: float = 0.0
    unused_usd: float = 0.0  # take-or-pay commitment not carried by useful work


class ScenarioResult(_Data):
    """Survivability after losing ``lost`` (a provider id, or a region id for region loss)."""

    scenario: str  # e.g. "provider:aws" or "region:aws:us-east-1"
    required_fraction: float
    # per service: the smallest fraction of demand still served over the periods
    served_fraction: dict[str, float]
    ok: bool


class BindingRule(_Data):
    family: str  # constraint family, e.g. "provider-spend-share-upper"
    entity: str  # what it applies to, e.g. "aws" or "chat/eu/2027-Q1"
    shadow_price_usd: float  # how much the objective would drop per unit of relaxation
    description: str


class RuleCost(_Data):
    """What a rule, a contract's commitment or a limit costs (plan.rule_costs, docs/cli.md).

    Positive: money it adds to the plan; negative: money it saves."""

    kind: Literal["rule", "contract", "limit"]
    name: str  # e.g. "survivability (rules[3])", "commitment of oci-compute", a limit's row
    effect_usd: float | None  # over the horizon; None where not priced (see method)
    method: str  # "re-solve" | "dual × quantity" | "marginal only" | why not priced
    marginal_usd: float | None  # one more unit of the requirement (a limit one unit tighter)
    unit: str  # the unit of the marginal, e.g. "USD per USD committed"


class ServingFigure(_Data):
    """How one model is served on one accelerator: replica size and requests/s per replica."""

    service: str
    accelerator: str
    accelerators_per_replica: int
    requests_per_s_per_replica: dict[str, float]  # per request class
    source: str  # measured (given in the spec) | calibrated | estimated


class Blocker(_Data):
    """One reason a spec has no plan, with the smallest relaxation that removes it."""

    family: str
    entity: str
    shortfall: float
    unit: str
    description: str


class Plan(_Data):
    spec_name: str
    planner: Literal["lp", "greedy"]
    status: Status
    message: str = ""
    objective_usd: float | None = None
    whole_nodes: bool = True  # False: the fractional view (nodes may be fractional)
    # what lower_bound_usd is: the LP relaxation of whole nodes, the MIP solver's proven bound,
    # or the LP optimum itself (fractional view); gap = (objective − bound) / objective
    lower_bound_kind: Literal["lp_relaxation", "mip_bound", "lp_optimum", "none"] = "none"
    lower_bound_usd: float | None = None
    gap: float | None = None
    spec_sha256: str = ""  # of the spec's canonical JSON: verify checks a plan against its spec
    verified: bool = False
    verification_problems: list[str] = Field(default_factory=list)
    catalog_sha256: str = ""
    periods: list[str] = Field(default_factory=list)
    period_hours: list[float] = Field(default_factory=list)
    cost_by_provider_usd: dict[str, float] = Field(default_factory=dict)
    cost_by_period_usd: list[float] = Field(default_factory=list)
    cost_by_purchase_option_usd: dict[str, float] = Field(default_factory=dict)
    shortfall_usd: float = 0.0
    reserved_fixed_usd: float = 0.0
    discount_usd: float = 0.0  # contract discounts, all contracts
    unused_commitment_usd: float = 0.0  # Σ contract years' unused_usd
    # the hourly commitment the plan buys for each savings plan (contract with sized_by_plan)
    savings_plans_usd_per_hour: dict[str, float] = Field(default_factory=dict)
    # network cost of the flows, billed by the providers that send the bytes: included in
    # cost_by_provider_usd, cost_by_period_usd and objective_usd
    egress_usd: float = 0.0
    allocations: list[Allocation] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
    contracts: list[ContractYear] = Field(default_factory=list)
    reservations: list[ReservationPurchase] = Field(default_factory=list)  # bought by the plan
    survivability: list[ScenarioResult] = Field(default_factory=list)
    serving_figures: list[ServingFigure] = Field(default_factory=list)
    binding_rules: list[BindingRule] = Field(default_factory=list)  # raw duals, per row
    rule_costs: list[RuleCost] = Field(default_factory=list)
    infeasibility: list[Blocker] = Field(default_factory=list)
    timings_s: dict[str, float] = Field(default_factory=dict)
    stats: dict[str, int] = Field(default_factory=dict)  # variables, constraints, nonzeros, blocks
