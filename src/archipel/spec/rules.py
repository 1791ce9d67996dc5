"""Rules in the spec: residency, CLOUD Act exclusion, exclusivity, diversification,
survivability, minimum providers, traffic ramps, migration limits — discriminated by ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from archipel.spec.types import (
    Frozen,
    Id,
    Name,
    PlanDate,
    Share,
    in_date_order,
)


class _Rule(Frozen):
    id: Id | None = Field(
        None,
        description="An optional name for the rule: `archipel whatif` paths (rules[eu-only]) "
        "and messages can then name it.",
    )


class ResidencyRule(_Rule):
    """Workloads of ``data_class`` run only in regions carrying one of ``jurisdictions``/``countries``."""

    kind: Literal["residency"] = "residency"
    data_class: Name
    jurisdictions: list[Name] = Field(default_factory=list, description="e.g. ['EU'] (EU/EEA).")
    countries: list[Annotated[str, Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, description="ISO-3166 alpha-2 codes."
    )

    @model_validator(mode="after")
    def _some(self) -> ResidencyRule:
        if not self.jurisdictions and not self.countries:
            raise ValueError("give at least one of jurisdictions or countries")
        return self


class CloudActExclusionRule(_Rule):
    """Workloads of these data classes never run on a provider subject to the US CLOUD Act."""

    kind: Literal["cloud_act_exclusion"] = "cloud_act_exclusion"
    data_classes: list[Name] = Field(min_length=1)


class ExclusivityRule(_Rule):
    """Until ``until``, the model is served and trained only on ``providers``."""

    kind: Literal["exclusivity"] = "exclusivity"
    model: Id
    providers: list[Id] = Field(min_length=1)
    until: PlanDate


class DiversificationRule(_Rule):
    """No provider takes more than ``max_share`` of the total compute spend over the horizon."""

    kind: Literal["diversification"] = "diversification"
    max_share: Share


class SurvivabilityRule(_Rule):
    """After the loss of any one provider (or region), the rest still serves ``served_fraction``."""

    kind: Literal["survivability"] = "survivability"
    loss: Literal["provider", "region"] = "provider"
    served_fraction: Share = 1.0
    services: list[Id] | None = Field(None, description="Default: every service.")
    count_spot: bool = Field(
        False,
        description="Count surviving spot capacity (derated) toward the served fraction; by "
        "default only firm capacity (on-demand, reserved, own) counts.",
    )


class MinProvidersRule(_Rule):
    """Each service runs on at least ``count`` providers, each with ``min_share`` of its demand."""

    kind: Literal["min_providers"] = "min_providers"
    count: int = Field(ge=1, le=1000)
    min_share: Share = 0.1
    services: list[Id] | None = None


class RampStep(Frozen):
    """From ``start`` on (until the next step), the provider carries a share of the service's
    demand between ``min_share`` and ``max_share``."""

    start: PlanDate
    min_share: Share = 0.0
    max_share: Share = 1.0

    @model_validator(mode="after")
    def _order(self) -> RampStep:
        if self.min_share > self.max_share:
            raise ValueError(f"min_share {self.min_share:g} is above max_share {self.max_share:g}")
        return self


class TrafficRampRule(_Rule):
    """A service's share of demand on a provider, step by step: a test phase at a few percent,
    then progressive production. A period takes the step in force at its start; before the
    first step the rule says nothing (docs/semantics.md, "Traffic ramps")."""

    kind: Literal["traffic_ramp"] = "traffic_ramp"
    service: Id
    provider: Id
    steps: list[RampStep] = Field(min_length=1, max_length=1000)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[RampStep]) -> list[RampStep]:
        in_date_order([s.start for s in steps])
        return steps


class MigrationLimitRule(_Rule):
    """Between consecutive periods with demand, each provider's share of a service's demand
    changes by at most ``max_shift`` (up or down): traffic moves between providers gradually."""

    kind: Literal["migration_limit"] = "migration_limit"
    max_shift: Share = Field(
        description="Largest change of a provider's share of demand from one period to the next."
    )
    services: list[Id] | None = Field(None, description="Default: every service.")


Rule = Annotated[
    ResidencyRule
    | CloudActExclusionRule
    | ExclusivityRule
    | DiversificationRule
    | SurvivabilityRule
    | MinProvidersRule
    | TrafficRampRule
    | MigrationLimitRule,
    Field(discriminator="kind"),
]
