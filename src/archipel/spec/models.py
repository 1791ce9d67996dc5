"""The spec language: what a fleet description says, as frozen pydantic v2 models.

Units are in field names. Every model forbids unknown fields, so a typo is an error rather than
a silently ignored setting. Variants (demand, training work, rules) are discriminated by ``kind``.
Cross-references (a service's model, a rule's provider, a region id) are checked against the
catalog by :mod:`archipel.spec.check`, which reports every problem at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from archipel.catalog.model import PurchaseOption

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Pct = Annotated[float, Field(ge=0.0, lt=100.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


# --------------------------------------------------------------------------- time


class Horizon(Frozen):
    """The planning horizon: ``periods`` consecutive periods from ``start``.

    ``month`` and ``quarter`` periods are for strategic plans over years; ``hour`` periods are
    for a tactical plan over a day or a week.
    """

    start: dt.date = Field(
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
        return self


# --------------------------------------------------------------------------- catalog & providers


class CatalogSelection(Frozen):
    """Which offerings of the catalog the plan may use."""

    source: str = Field(
        "builtin",
        description="'builtin' for the shipped snapshot, or a path to a snapshot directory.",
    )
    providers: list[Id] | None = Field(None, description="Only these providers (default: all).")
    accelerators: list[str] | None = Field(
        None, description="Only these accelerators (default: all)."
    )
    purchase_options: list[PurchaseOption] = Field(
        default_factory=lambda: [PurchaseOption.ON_DEMAND, PurchaseOption.SPOT],
        description="Catalog purchase options to consider; reserved capacity comes from contracts.",
    )


class CapacityLimit(Frozen):
    """At most ``max_accelerators`` of a provider (optionally a region/accelerator) per period."""

    region: str | None = Field(None, description="Region id 'provider:code'; default: all regions.")
    accelerator: str | None = None
    max_accelerators: NonNeg


class PriceOverride(Frozen):
    """A negotiated price replacing the catalog's list price for an instance type."""

    instance_type: str
    region: str | None = Field(
        None, description="Region id 'provider:code'; default: every region."
    )
    purchase_option: PurchaseOption = PurchaseOption.ON_DEMAND
    usd_per_node_hour: NonNeg


class ProviderSettings(Frozen):
    """Per-provider settings on top of the catalog."""

    id: Id
    cloud_act: bool | None = Field(
        None, description="Override whether the provider is subject to the US CLOUD Act."
    )
    capacity: list[CapacityLimit] = Field(default_factory=list)
    prices: list[PriceOverride] = Field(default_factory=list)


# --------------------------------------------------------------------------- demand & models


class Geography(Frozen):
    """Where demand comes from: a point (a metro area's centre) and its country."""

    id: Id
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: str = Field(min_length=2, max_length=2, description="ISO-3166 alpha-2 code.")


class MeasuredThroughput(Frozen):
    """A measured serving profile; it replaces the roofline estimate for that accelerator."""

    accelerator: str
    accelerators_per_replica: int = Field(ge=1)
    request_class: str | None = Field(None, description="Default: applies to every class.")
    requests_per_s_per_replica: Pos


class ModelSpec(Frozen):
    """A model to serve or train; its size decides which accelerators can host a replica."""

    id: Id
    parameters_b: Pos = Field(description="Total parameters, in billions.")
    active_parameters_b: Pos | None = Field(
        None, description="Parameters active per token (mixture of experts); default: all."
    )
    bytes_per_parameter: Pos = 2.0
    context_length_tokens: int = Field(8192, ge=1)
    throughput: list[MeasuredThroughput] = Field(default_factory=list)


class RequestClass(Frozen):
    """A class of requests of similar size; a service's classes' shares sum to 1."""

    name: Id
    share: Share
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=1)


def _default_classes() -> list[RequestClass]:
    return [RequestClass(name="default", share=1.0, input_tokens=1000, output_tokens=250)]


class DemandTable(Frozen):
    """Demand per geography, one value per period (the list is as long as the horizon)."""

    kind: Literal["table"] = "table"
    unit: Literal["requests_per_s", "tokens_per_s"] = "requests_per_s"
    by_geography: dict[Id, list[NonNeg]]


class DemandGrowth(Frozen):
    """Demand per geography in the first period, growing by a yearly rate (compounded)."""

    kind: Literal["growth"] = "growth"
    unit: Literal["requests_per_s", "tokens_per_s"] = "requests_per_s"
    base_by_geography: dict[Id, NonNeg]
    growth_pct_per_year: float = Field(45.0, ge=-100.0, le=1000.0)


Demand = Annotated[DemandTable | DemandGrowth, Field(discriminator="kind")]


class InferenceService(Frozen):
    """A model served to users in some geographies, within a latency SLO."""

    id: Id
    model: Id
    demand: Demand
    latency_slo_rtt_ms: Pos = Field(
        100.0, description="Largest network round trip allowed between a geography and a region."
    )
    serving_regions: dict[Id, list[str]] | None = Field(
        None, description="Per geography, the regions allowed regardless of estimated RTT."
    )
    data_class: str | None = None
    request_classes: list[RequestClass] = Field(default_factory=_default_classes)
    purchase_options: list[PurchaseOption] = Field(
        default_factory=lambda: [PurchaseOption.ON_DEMAND, PurchaseOption.RESERVED]
    )

    @model_validator(mode="after")
    def _shares(self) -> InferenceService:
        total = sum(c.share for c in self.request_classes)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"request class shares sum to {total:g}; they must sum to 1")
        names = [c.name for c in self.request_classes]
        if len(set(names)) != len(names):
            raise ValueError("request class names must be unique")
        return self


# --------------------------------------------------------------------------- training


class WorkAcceleratorHours(Frozen):
    """Work measured in hours of a reference accelerator (others scale by BF16 peak)."""

    kind: Literal["accelerator_hours"] = "accelerator_hours"
    reference_accelerator: str
    accelerator_hours: Pos


class WorkFlops(Frozen):
    """Work measured in FLOPs (e.g. 6 · parameters · tokens), done at ``mfu`` of BF16 peak."""

    kind: Literal["flops"] = "flops"
    flops: Pos
    mfu: float = Field(0.4, gt=0.0, le=1.0)


Work = Annotated[WorkAcceleratorHours | WorkFlops, Field(discriminator="kind")]


class TrainingJob(Frozen):
    """A training run: an amount of work to finish inside a window on allowed accelerators."""

    id: Id
    model: Id | None = None
    work: Work
    accelerators: list[str] = Field(min_length=1)
    gang_min_accelerators: int = Field(
        0, ge=0, description="Accelerators held in every period of the window."
    )
    gang_max_accelerators: int | None = Field(None, ge=1)
    single_region: bool = True
    start: dt.date | None = Field(None, description="Earliest start; default: the horizon's start.")
    deadline: dt.date = Field(description="The work must be done by this date.")
    preemptible: bool = False
    checkpoint_interval_h: Pos = 1.0
    restart_h: NonNeg = 0.25
    data_class: str | None = None

    @model_validator(mode="after")
    def _window(self) -> TrainingJob:
        if self.start is not None and self.start >= self.deadline:
            raise ValueError(f"start {self.start} is not before deadline {self.deadline}")
        if (
            self.gang_max_accelerators is not None
            and self.gang_max_accelerators < self.gang_min_accelerators
        ):
            raise ValueError("gang_max_accelerators is below gang_min_accelerators")
        return self


# --------------------------------------------------------------------------- contracts


class ReservedBlock(Frozen):
    """Capacity reserved and paid for whether used or not."""

    region: str = Field(description="Region id 'provider:code'.")
    instance_type: str
    nodes: int = Field(ge=1)
    usd_per_node_hour: NonNeg
    start: dt.date
    end: dt.date


class Contract(Frozen):
    """A committed-spend agreement with a provider."""

    id: Id
    provider: Id
    regions: list[str] | None = Field(None, description="Region ids in scope; default: all.")
    start: dt.date
    end: dt.date
    committed_usd_per_year: NonNeg = 0.0
    discount_pct: Pct = 0.0
    take_or_pay: bool = True
    reserved_blocks: list[ReservedBlock] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        return self


# --------------------------------------------------------------------------- rules


class ResidencyRule(Frozen):
    """Workloads of ``data_class`` run only in regions carrying one of ``jurisdictions``/``countries``."""

    kind: Literal["residency"] = "residency"
    data_class: str
    jurisdictions: list[str] = Field(default_factory=list, description="e.g. ['EU'] (EU/EEA).")
    countries: list[str] = Field(default_factory=list, description="ISO-3166 alpha-2 codes.")

    @model_validator(mode="after")
    def _some(self) -> ResidencyRule:
        if not self.jurisdictions and not self.countries:
            raise ValueError("give at least one of jurisdictions or countries")
        return self


class CloudActExclusionRule(Frozen):
    """Workloads of these data classes never run on a provider subject to the US CLOUD Act."""

    kind: Literal["cloud_act_exclusion"] = "cloud_act_exclusion"
    data_classes: list[str] = Field(min_length=1)


class ExclusivityRule(Frozen):
    """Until ``until``, the model is served and trained only on ``providers``."""

    kind: Literal["exclusivity"] = "exclusivity"
    model: Id
    providers: list[Id] = Field(min_length=1)
    until: dt.date


class DiversificationRule(Frozen):
    """No provider takes more than ``max_share`` of the total compute spend over the horizon."""

    kind: Literal["diversification"] = "diversification"
    max_share: Share


class SurvivabilityRule(Frozen):
    """After the loss of any one provider (or region), the rest still serves ``served_fraction``."""

    kind: Literal["survivability"] = "survivability"
    loss: Literal["provider", "region"] = "provider"
    served_fraction: Share = 1.0
    services: list[Id] | None = Field(None, description="Default: every service.")


class MinProvidersRule(Frozen):
    """Each service runs on at least ``count`` providers, each with ``min_share`` of its demand."""

    kind: Literal["min_providers"] = "min_providers"
    count: int = Field(ge=1)
    min_share: Share = 0.1
    services: list[Id] | None = None


Rule = Annotated[
    ResidencyRule
    | CloudActExclusionRule
    | ExclusivityRule
    | DiversificationRule
    | SurvivabilityRule
    | MinProvidersRule,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- the spec


class Spec(Frozen):
    """A fleet: workloads, contracts and rules over a horizon."""

    version: Literal[1] = 1
    name: str = "fleet"
    horizon: Horizon
    catalog: CatalogSelection = Field(default_factory=CatalogSelection)
    providers: list[ProviderSettings] = Field(default_factory=list)
    geographies: list[Geography] = Field(default_factory=list)
    models: list[ModelSpec] = Field(default_factory=list)
    services: list[InferenceService] = Field(default_factory=list)
    training: list[TrainingJob] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
