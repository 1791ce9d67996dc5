"""An outlook as data: what ``archipel outlook --json`` prints and the HTML report draws.

Other tools read ``totals`` (the control plane stores this JSON next to a plan and shows
``expected_cost_usd``, ``cvar95_usd``, ``expected_stranded_usd`` and
``p_stranded_over_threshold`` in its review page) and ``per_contract``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Spread(_Data):
    """A figure over the scenarios: mean and percentiles."""

    mean: float
    p5: float
    p25: float
    p50: float
    p75: float
    p95: float


class Totals(_Data):
    expected_cost_usd: float
    cost_usd: Spread
    cvar95_usd: float  # mean of the costliest 5 % of scenarios
    expected_stranded_usd: float  # commitment paid for and carrying no load
    stranded_usd: Spread
    stranded_threshold_usd: float
    p_stranded_over_threshold: float
    plan_cost_usd: float  # the plan's own figures (its demand and prices, nothing lost)
    plan_unused_commitment_usd: float


class ContractOutlook(_Data):
    contract: str
    provider: str
    committed_usd: float  # inside the horizon
    expected_spend_usd: float  # after discounts, with shortfall billed and reserved blocks
    spend_usd: Spread
    cvar95_spend_usd: float
    expected_stranded_usd: float
    stranded_usd: Spread
    p_stranded_over_threshold: float
    expected_utilisation: float  # useful spend counted / commitment
    break_even_utilisation: float  # below it the contract costs more than list prices
    p_below_break_even: float


class YearOutlook(_Data):
    year: int
    committed_usd: float  # commitments of the contract years ending in this calendar year
    spend_usd: Spread
    funding_cap_usd: float | None = None
    p_over_funding: float | None = None
    expected_over_funding_usd: float | None = None


class Candidate(_Data):
    """One portfolio of commitments, evaluated on the same out-of-sample scenarios."""

    name: str
    commitment_usd: float  # signed over the horizon, all contract years
    expected_cost_usd: float
    cvar95_usd: float
    expected_stranded_usd: float
    p_stranded_over_threshold: float


class TermChoice(_Data):
    """One contract year's commitment (USD, net of discount) under each candidate."""

    term: str  # "contract/year"
    discount_pct: float
    commitments_usd: dict[str, float]


class Gap(_Data):
    """Optimality gap of the stochastic answer (Mak, Morton and Wood): the SAA optimum's mean
    over independent replications is a statistical lower bound, the answer's out-of-sample
    cost an upper bound."""

    replications: int
    lower_bound_usd: float
    upper_bound_usd: float
    gap_usd: float
    gap_ci95_usd: float  # one-sided 95 % upper confidence limit of the gap


class Optimization(_Data):
    method: str
    scenarios: int
    out_of_sample_scenarios: int
    cvar_weight: float
    max_p_stranded: float | None = None  # the cap on P(stranded > threshold), when asked
    terms_semantics: str
    candidates: list[Candidate]
    terms: list[TermChoice]
    vss_usd: float  # value of the stochastic solution: mean-value answer's cost − stochastic's
    evpi_usd: float  # expected value of perfect information: stochastic − wait-and-see
    gap: Gap | None = None
    solve_seconds: float


class Outlook(_Data):
    spec_name: str
    scenarios: int
    seed: int
    batch_size: int
    backend: str  # "this process", "4 local processes", "ray local" / "ray <address>"
    scenarios_file: str | None
    assumptions: list[str]
    totals: Totals
    per_contract: list[ContractOutlook]
    per_year: list[YearOutlook]
    optimization: Optimization | None = None
    timings_s: dict[str, float] = Field(default_factory=dict)
