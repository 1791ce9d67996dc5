"""Provider capacity over time: a limit on a provider's accelerators (optionally one region,
accelerator or instance type) that may change by date, and a window when the capacity exists —
see :class:`archipel.spec.models.ProviderSettings` and docs/semantics.md, "Capacity over time"."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from archipel.spec.types import MAX_ACCELERATORS, Frozen, Name, PlanDate, in_date_order


class CapacityStep(Frozen):
    """From ``start`` on (until the next step), at most ``max_accelerators``."""

    start: PlanDate
    max_accelerators: float = Field(ge=0.0, le=MAX_ACCELERATORS)


class CapacityLimit(Frozen):
    """Capacity of a provider (optionally one region, accelerator or instance type) over time.

    At most ``max_accelerators`` per period (none: no limit), changed from a date by ``steps``;
    nothing before ``available_from`` nor from ``until`` on (a region, a chip generation or an
    instance type that arrives or leaves). A period gets the tightest limit in force at any
    instant of it, and is available only when it lies wholly inside the window
    (docs/semantics.md, "Capacity over time").
    """

    region: Name | None = Field(
        None, description="Region id 'provider:code'; default: all regions."
    )
    accelerator: Name | None = None
    instance_type: Name | None = Field(None, description="Default: every instance type.")
    max_accelerators: float | None = Field(
        None,
        ge=0.0,
        le=MAX_ACCELERATORS,
        description="Accelerators per period before the first step; default: no limit.",
    )
    available_from: PlanDate | None = Field(
        None, description="None of this capacity before this date; default: always."
    )
    until: PlanDate | None = Field(
        None, description="None of this capacity from this date on; default: never ends."
    )
    steps: list[CapacityStep] = Field(
        default_factory=list, description="The limit from a date on, in date order."
    )

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[CapacityStep]) -> list[CapacityStep]:
        in_date_order([s.start for s in steps])
        return steps

    @model_validator(mode="after")
    def _consistent(self) -> CapacityLimit:
        if (
            self.max_accelerators is None
            and not self.steps
            and self.available_from is None
            and self.until is None
        ):
            raise ValueError("give max_accelerators, steps, available_from or until")
        if self.available_from and self.until and self.available_from >= self.until:
            raise ValueError(
                f"available_from {self.available_from} is not before until {self.until}"
            )
        if self.until is not None and self.steps and self.steps[-1].start >= self.until:
            raise ValueError(
                f"steps[{len(self.steps) - 1}] starts on {self.steps[-1].start}, not before "
                f"until {self.until}: it would never apply"
            )
        return self
