"""Rules in the spec: residency, CLOUD Act exclusion, exclusivity, diversification,
survivability, minimum providers — discriminated by ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from archipel.spec.types import (
    Frozen,
    Id,
    Name,
    PlanDate,
    Share,
)


class ResidencyRule(Frozen):
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


class CloudActExclusionRule(Frozen):
    """Workloads of these data classes never run on a provider subject to the US CLOUD Act."""

    kind: Literal["cloud_act_exclusion"] = "cloud_act_exclusion"
    data_classes: list[Name] = Field(min_length=1)


class ExclusivityRule(Frozen):
    """Until ``until``, the model is served and trained only on ``providers``."""

    kind: Literal["exclusivity"] = "exclusivity"
    model: Id
    providers: list[Id] = Field(min_length=1)
    until: PlanDate


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
    count_spot: bool = Field(
        False,
        description="Count surviving spot capacity (derated) toward the served fraction; by "
        "default only firm capacity (on-demand, reserved, own) counts.",
    )


class MinProvidersRule(Frozen):
    """Each service runs on at least ``count`` providers, each with ``min_share`` of its demand."""

    kind: Literal["min_providers"] = "min_providers"
    count: int = Field(ge=1, le=1000)
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
