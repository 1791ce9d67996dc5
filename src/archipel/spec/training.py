"""Training jobs in the spec: work (accelerator-hours or FLOPs), gangs and windows."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from archipel.spec.types import (
    MAX_ACCELERATORS,
    Frozen,
    Hours,
    Id,
    Name,
    PlanDate,
)


class WorkAcceleratorHours(Frozen):
    """Work measured in hours of a reference accelerator (others scale by BF16 peak)."""

    kind: Literal["accelerator_hours"] = "accelerator_hours"
    reference_accelerator: str
    accelerator_hours: float = Field(gt=0.0, le=1e13)


class WorkFlops(Frozen):
    """Work measured in FLOPs (e.g. 6 · parameters · tokens), done at ``mfu`` of BF16 peak."""

    kind: Literal["flops"] = "flops"
    flops: float = Field(gt=0.0, le=1e33, description="Total FLOPs, e.g. 3.8e25.")
    mfu: float = Field(0.4, gt=0.0, le=1.0)


Work = Annotated[WorkAcceleratorHours | WorkFlops, Field(discriminator="kind")]


class TrainingJob(Frozen):
    """A training run: an amount of work to finish inside a window on allowed accelerators."""

    id: Id
    model: Id | None = None
    work: Work
    accelerators: list[Name] = Field(min_length=1)
    gang_min_accelerators: int = Field(
        0,
        ge=0,
        le=MAX_ACCELERATORS,
        description="Accelerators held in every period of the window.",
    )
    gang_max_accelerators: int | None = Field(None, ge=1, le=MAX_ACCELERATORS)
    single_region: bool = True
    start: PlanDate | None = Field(
        None, description="Earliest start; default: the horizon's start."
    )
    deadline: PlanDate = Field(description="The work must be done by this date.")
    preemptible: bool = False
    checkpoint_interval_h: float = Field(1.0, gt=0.0, le=10_000.0)
    restart_h: Hours = 0.25
    data_class: Name | None = None

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
