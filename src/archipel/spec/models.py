"""The spec language: what a fleet description says, as frozen pydantic v2 models.

Units are in field names. Every model forbids unknown fields, so a typo is an error rather than
a silently ignored setting. Variants (demand, training work, rules) are discriminated by ``kind``.
Cross-references (a service's model, a rule's provider, a region id) are checked against the
catalog by :mod:`archipel.spec.check`, which reports every problem at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from archipel.catalog.model import PurchaseOption
from archipel.spec.capacity import CapacityLimit, CapacityStep
from archipel.spec.contracts import Contract, ContractScope, DiscountTier, ReservedBlock
from archipel.spec.declared import (
    AcceleratorDecl,
    CostCapital,
    CostPerNodeHour,
    OfferingDecl,
    OwnCost,
    RegionDecl,
    SpotTerms,
)
from archipel.spec.network import (
    EgressRates,
    WireBytes,
    default_request_bytes,
    default_response_bytes,
)
from archipel.spec.reservations import ReservationOption
from archipel.spec.rules import (
    CloudActExclusionRule,
    DiversificationRule,
    ExclusivityRule,
    MigrationLimitRule,
    MinProvidersRule,
    RampStep,
    ResidencyRule,
    Rule,
    SurvivabilityRule,
    TrafficRampRule,
)
from archipel.spec.training import TrainingJob, Work, WorkAcceleratorHours, WorkFlops
from archipel.spec.types import (
    EARLIEST,
    LATEST,
    MAX_ACCELERATORS,
    MAX_REQUESTS_PER_S,
    MAX_TOKENS,
    MAX_TOKENS_PER_S,
    MAX_USD,
    MAX_USD_PER_HOUR,
    Frozen,
    Hours,
    Id,
    Name,
    NonNeg,
    Pct,
    PlanDate,
    Pos,
    Share,
    Usd,
    UsdPerHour,
)

__all__ = [  # re-exported: the spec language is imported from this module
    "EARLIEST",
    "LATEST",
    "MAX_ACCELERATORS",
    "MAX_REQUESTS_PER_S",
    "MAX_TOKENS",
    "MAX_TOKENS_PER_S",
    "MAX_USD",
    "MAX_USD_PER_HOUR",
    "AcceleratorDecl",
    "CapacityLimit",
    "CapacityStep",
    "CloudActExclusionRule",
    "Contract",
    "ContractScope",
    "CostCapital",
    "CostPerNodeHour",
    "DiscountTier",
    "DiversificationRule",
    "EgressRates",
    "ExclusivityRule",
    "Frozen",
    "Hours",
    "Id",
    "MigrationLimitRule",
    "MinProvidersRule",
    "Name",
    "NonNeg",
    "OfferingDecl",
    "OwnCost",
    "Pct",
    "PlanDate",
    "Pos",
    "RampStep",
    "RegionDecl",
    "ReservationOption",
    "ReservedBlock",
    "ResidencyRule",
    "Rule",
    "Share",
    "SpotTerms",
    "SurvivabilityRule",
    "TrafficRampRule",
    "TrainingJob",
    "Usd",
    "UsdPerHour",
    "Work",
    "WorkAcceleratorHours",
    "WorkFlops",
]


# --------------------------------------------------------------------------- time


class Horizon(Frozen):
    """The planning horizon: ``periods`` consecutive periods from ``start``.

    ``month`` and ``quarter`` periods are for strategic plans over years; ``hour`` periods are
    for a tactical plan over a day or a week.
    """

    start: PlanDate = Field(
        description="First day of the first period (months/quarters start on day 1)."
    )
    granularity: Literal["month", "quarter", "hour"] = "quarter"
    periods: int = Field(ge=1, le=10_000, description="How many periods the plan covers.")

    @model_validator(mode="after")
    def _aligned(self) -> Horizon:
        if self.granularity != "hour" and self.start.day != 1:
            raise ValueError(
                f"a {self.granularity}ly horizon must start on the first day of a month, "
                f"not {self.start.isoformat()}; use {self.start.replace(day=1).isoformat()}"
            )
        if self.granularity == "quarter" and self.start.month not in (1, 4, 7, 10):
            raise ValueError(
                "a quarterly horizon must start in January, April, July or October; "
                "use granularity: month for other starts"
            )
        months = {"month": 1, "quarter": 3}.get(self.granularity)
        end_year = (
            self.start.year + (self.start.month - 1 + months * self.periods) // 12
            if months
            else self.start.year + 2
        )
        if end_year > LATEST.year:
            raise ValueError(f"the horizon ends after {LATEST.year}; plan fewer or shorter periods")
        return self


# --------------------------------------------------------------------------- catalog & providers


class CatalogSelection(Frozen):
    """Which offerings of the catalog the plan may use."""

    source: str = Field(
        "builtin",
        description="'builtin' for the shipped snapshot, or a path to a snapshot directory.",
    )
    providers: list[Id] | None = Field(None, description="Only these providers (default: all).")
    accelerators: list[Name] | None = Field(
        None, description="Only these accelerators (default: all)."
    )
    purchase_options: list[PurchaseOption] = Field(
        default_factory=lambda: [PurchaseOption.ON_DEMAND, PurchaseOption.SPOT],
        description="Catalog purchase options to consider; reserved capacity comes from contracts.",
    )
    exclude_assumed: bool = Field(
        False,
        description="Leave out offerings whose price or availability the catalog assumes rather "
        "than knows (flagged rows; see `archipel catalog report`).",
    )


class PriceOverride(Frozen):
    """A negotiated price replacing the catalog's list price for an instance type."""

    instance_type: Name
    region: Name | None = Field(
        None, description="Region id 'provider:code'; default: every region."
    )
    purchase_option: PurchaseOption = PurchaseOption.ON_DEMAND
    usd_per_node_hour: UsdPerHour


class ProviderSettings(Frozen):
    """Per-provider settings on top of the catalog, or a provider of your own.

    A provider the catalog does not know (your own data centres, a colocation partner) is
    declared here with ``hq_country`` and ``cloud_act``; its offerings come from ``offerings:``.
    """

    id: Id
    name: str | None = Field(None, max_length=200, description="A display name.")
    hq_country: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="ISO-3166 alpha-2 headquarters; required for a provider not in the catalog.",
    )
    cloud_act: bool | None = Field(
        None, description="Override whether the provider is subject to the US CLOUD Act."
    )
    capacity: list[CapacityLimit] = Field(default_factory=list)
    prices: list[PriceOverride] = Field(default_factory=list)
    egress: EgressRates | None = Field(
        None, description="Negotiated data-transfer rates replacing the built-in list rates."
    )


# --------------------------------------------------------------------------- demand & models


class Geography(Frozen):
    """Where demand comes from: a point (a metro area's centre) and its country."""

    id: Id
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: str = Field(min_length=2, max_length=2, description="ISO-3166 alpha-2 code.")
    gateway_region: Name | None = Field(
        None,
        description="Region id 'provider:code' where this geography's requests enter the fleet "
        "(its API gateway) and its responses leave for users; default: users reach the serving "
        "region directly.",
    )


class MeasuredThroughput(Frozen):
    """A measured serving profile; it replaces the estimate for that accelerator."""

    accelerator: Name
    accelerators_per_replica: int = Field(ge=1, le=100_000)
    request_class: str | None = Field(None, description="Default: applies to every class.")
    requests_per_s_per_replica: float = Field(gt=0.0, le=1e6)


class ModelSpec(Frozen):
    """A model to serve or train; its size decides which accelerators can host a replica.

    The architecture fields (``layers``, ``hidden_size``, ``kv_heads``, ``head_dim``) size the
    KV cache; each one not given is derived from ``parameters_b`` (docs/estimates.md).
    """

    id: Id
    parameters_b: float = Field(gt=0.0, le=100_000.0, description="Total parameters, in billions.")
    active_parameters_b: float | None = Field(
        None,
        gt=0.0,
        le=100_000.0,
        description="Parameters active per token (mixture of experts); default: all.",
    )
    bytes_per_parameter: float = Field(2.0, ge=0.1, le=8.0)
    context_length_tokens: int = Field(
        8192, ge=1, le=MAX_TOKENS, description="The longest sequence (input + output) served."
    )
    layers: int | None = Field(None, ge=1, le=10_000)
    hidden_size: int | None = Field(None, ge=1, le=1_000_000)
    kv_heads: int | None = Field(None, ge=1, le=4096, description="Key/value heads (GQA).")
    head_dim: int | None = Field(None, ge=1, le=65_536)
    kv_bytes_per_value: float = Field(2.0, ge=0.1, le=8.0, description="KV cache precision.")
    multi_node_replicas: bool = Field(
        False,
        description="Allow one replica to span several nodes joined by a scale-out fabric "
        "(EFA, InfiniBand, RoCE); a replica then takes whole nodes.",
    )
    throughput: list[MeasuredThroughput] = Field(default_factory=list)

    @model_validator(mode="after")
    def _active(self) -> ModelSpec:
        if self.active_parameters_b is not None and self.active_parameters_b > self.parameters_b:
            raise ValueError(
                f"active_parameters_b {self.active_parameters_b:g} is above parameters_b "
                f"{self.parameters_b:g}"
            )
        return self


class RequestClass(Frozen):
    """A class of requests of similar size; a service's classes' shares sum to 1."""

    name: Id
    share: Share
    input_tokens: int = Field(ge=0, le=MAX_TOKENS)
    output_tokens: int = Field(ge=1, le=MAX_TOKENS)
    request_bytes: WireBytes | None = Field(
        None,
        description="Bytes one request carries to the service; default 1,000 + 4 per input "
        "token (archipel.spec.network).",
    )
    response_bytes: WireBytes | None = Field(
        None,
        description="Bytes one response carries back; default streamed: 1,000 + 250 per output "
        "token, one server-sent event per token (archipel.spec.network).",
    )

    @property
    def request_size_bytes(self) -> int:
        """``request_bytes``, or the default for ``input_tokens``."""
        given = self.request_bytes
        return default_request_bytes(self.input_tokens) if given is None else given

    @property
    def response_size_bytes(self) -> int:
        """``response_bytes``, or the streamed default for ``output_tokens``."""
        given = self.response_bytes
        return default_response_bytes(self.output_tokens) if given is None else given


def _default_classes() -> list[RequestClass]:
    return [RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)]


DemandUnit = Literal["requests_per_s", "total_tokens_per_s", "output_tokens_per_s"]
DEMAND_UNITS_DOC = (
    "requests_per_s; total_tokens_per_s (input + output tokens); output_tokens_per_s "
    "(generated tokens only). Tokens are turned into requests with the request-class mix."
)
Rate = Annotated[float, Field(ge=0.0, le=MAX_TOKENS_PER_S)]


def _check_rate(unit: str, values: list[float]) -> None:
    top = max(values, default=0.0)
    if unit == "requests_per_s" and top > MAX_REQUESTS_PER_S:
        raise ValueError(
            f"{top:g} requests/s is above {MAX_REQUESTS_PER_S:g}, about a thousand times the "
            "largest public service; is the unit right?"
        )


class DemandTable(Frozen):
    """Average demand per geography in each period (the list is as long as the horizon)."""

    kind: Literal["table"] = "table"
    unit: DemandUnit = Field("requests_per_s", description=DEMAND_UNITS_DOC)
    by_geography: dict[Id, list[Rate]]

    @model_validator(mode="after")
    def _bounded(self) -> DemandTable:
        _check_rate(self.unit, [v for vs in self.by_geography.values() for v in vs])
        return self


class DemandGrowth(Frozen):
    """Demand per geography at the horizon's start, growing by a yearly rate (compounded).

    Capacity is sized for the highest demand inside each period: at the period's end when
    demand grows, at its start when it shrinks.
    """

    kind: Literal["growth"] = "growth"
    unit: DemandUnit = Field("requests_per_s", description=DEMAND_UNITS_DOC)
    base_by_geography: dict[Id, Rate]
    growth_pct_per_year: float = Field(
        ge=-99.0, le=1000.0, description="Yearly growth in percent (e.g. 45); no default."
    )

    @model_validator(mode="after")
    def _bounded(self) -> DemandGrowth:
        _check_rate(self.unit, list(self.base_by_geography.values()))
        return self


Demand = Annotated[DemandTable | DemandGrowth, Field(discriminator="kind")]


class InferenceService(Frozen):
    """A model served to users in some geographies, within a latency SLO."""

    id: Id
    model: Id
    demand: Demand
    latency_slo_rtt_ms: float = Field(
        100.0,
        gt=0.0,
        le=10_000.0,
        description="Largest network round trip allowed between a geography and a region.",
    )
    serving_regions: dict[Id, list[Name]] | None = Field(
        None, description="Per geography, the regions allowed regardless of estimated RTT."
    )
    data_class: Name | None = None
    request_classes: list[RequestClass] = Field(default_factory=_default_classes)
    purchase_options: list[PurchaseOption] = Field(
        default_factory=lambda: [PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED]
    )
    peak_to_average: float = Field(
        1.0,
        ge=1.0,
        le=100.0,
        description="Peak demand inside a day over its average; capacity covers the peak.",
    )
    daily_profile: list[Annotated[float, Field(ge=0.0, le=1e6)]] | None = Field(
        None,
        min_length=24,
        max_length=24,
        description="Relative demand per hour of the day (24 values); its peak over its mean "
        "is the peak-to-average factor.",
    )
    spot_max_share: Share = Field(
        0.5,
        description="At most this share of the service's serving capacity in a period may be "
        "spot (counted after derating by spot availability).",
    )
    max_utilization: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="Plan capacity so that the peak load uses at most this share of each "
        "replica's throughput: headroom for bursts and the first-token SLO (queues grow as "
        "load nears capacity). 1: sized at full throughput.",
    )

    @model_validator(mode="after")
    def _shares(self) -> InferenceService:
        total = sum(c.share for c in self.request_classes)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"request class shares sum to {total:g}; they must sum to 1")
        names = [c.name for c in self.request_classes]
        if len(set(names)) != len(names):
            raise ValueError("request class names must be unique")
        if self.daily_profile is not None:
            if "peak_to_average" in self.model_fields_set:
                raise ValueError("give peak_to_average or daily_profile, not both")
            if sum(self.daily_profile) <= 0:
                raise ValueError("daily_profile must have at least one positive hour")
        return self

    def requests_per_unit(self) -> float:
        """Requests/s per unit of this service's demand: 1 for requests_per_s, else one over
        the mean tokens per request of the class mix (input + output, or output only)."""
        unit = self.demand.unit
        if unit == "requests_per_s":
            return 1.0
        per = sum(
            c.share * (c.output_tokens + (c.input_tokens if unit == "total_tokens_per_s" else 0))
            for c in self.request_classes
        )
        return 1.0 / per

    @property
    def peak_factor(self) -> float:
        """Peak over average demand: from ``daily_profile`` when given, else ``peak_to_average``."""
        if self.daily_profile is not None:
            return max(self.daily_profile) * 24.0 / sum(self.daily_profile)
        return self.peak_to_average


# --------------------------------------------------------------------------- the spec


class Spec(Frozen):
    """A fleet: workloads, contracts and rules over a horizon."""

    version: Literal[1] = 1
    name: str = Field("fleet", max_length=200)
    horizon: Horizon
    catalog: CatalogSelection = Field(default_factory=CatalogSelection)
    providers: list[ProviderSettings] = Field(default_factory=list)
    regions: list[RegionDecl] = Field(default_factory=list)
    accelerators: list[AcceleratorDecl] = Field(default_factory=list)
    offerings: list[OfferingDecl] = Field(default_factory=list)
    spot: list[SpotTerms] = Field(default_factory=list)
    geographies: list[Geography] = Field(default_factory=list)
    models: list[ModelSpec] = Field(default_factory=list)
    services: list[InferenceService] = Field(default_factory=list)
    training: list[TrainingJob] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    reservations: list[ReservationOption] = Field(
        default_factory=list,
        description="Capacity commitments the planner may buy (docs/semantics.md).",
    )
    rules: list[Rule] = Field(default_factory=list)
