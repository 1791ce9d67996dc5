"""What a spec declares of its own: spot terms, regions, accelerators and offerings (capacity of
the lab's own, or a deal the catalog lacks) — see :class:`archipel.spec.models.Spec`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from archipel.spec.types import (
    MAX_ACCELERATORS,
    Frozen,
    Id,
    Name,
    PlanDate,
    Usd,
    UsdPerHour,
)


class SpotTerms(Frozen):
    """Spot capacity terms for a provider (optionally one region or instance type).

    ``availability`` is the expected share of time a spot node is up (it derates serving
    capacity); ``interruptions_per_hour`` sets the rework of preemptible training. The most
    specific entry wins (instance type, then region, then provider); unmatched offerings keep the
    catalog's figures (derived from public spot traces where they apply: docs/estimates.md).
    """

    provider: Id
    region: Name | None = Field(None, description="Region id 'provider:code'.")
    instance_type: str | None = None
    availability: float | None = Field(None, gt=0.0, le=1.0)
    interruptions_per_hour: float | None = Field(None, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _some(self) -> SpotTerms:
        if self.availability is None and self.interruptions_per_hour is None:
            raise ValueError("give availability, interruptions_per_hour or both")
        return self


class RegionDecl(Frozen):
    """A region of your own (a data centre) that the catalog does not know."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        max_length=130,
        description="'provider:code', the provider being one of yours.",
    )
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO-3166 alpha-2 code.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AcceleratorDecl(Frozen):
    """An accelerator the built-in facts lack: a lab's own chip, or a GPU such as the A10G.

    Spec-sheet facts per chip; ``scale_up`` names the high-bandwidth link inside a node.
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    vendor: str = Field("own", max_length=100)
    memory_gib: float = Field(gt=0.0, le=100_000.0)
    bf16_tflops: float = Field(gt=0.0, le=1_000_000.0, description="Dense BF16 peak per chip.")
    memory_bandwidth_tb_per_s: float = Field(gt=0.0, le=10_000.0)
    kind: Literal["gpu", "trainium", "inferentia", "tpu", "asic"] = "asic"


class CostPerNodeHour(Frozen):
    """A price per node-hour used, like a cloud's on-demand price."""

    kind: Literal["per_node_hour"] = "per_node_hour"
    usd_per_node_hour: UsdPerHour


class CostCapital(Frozen):
    """A bought machine: its price spread evenly over its service life, plus running costs.

    Cost per node-hour = usd_per_node / (amortisation_years × 8,766 h) + opex_usd_per_node_hour.
    """

    kind: Literal["capital"] = "capital"
    usd_per_node: Usd
    amortisation_years: float = Field(gt=0.0, le=30.0)
    opex_usd_per_node_hour: UsdPerHour = 0.0


OwnCost = Annotated[CostPerNodeHour | CostCapital, Field(discriminator="kind")]


class OfferingDecl(Frozen):
    """Capacity of your own (or a deal the catalog lacks): nodes of an instance type in a region.

    Available from ``available_from`` (default: always) until ``until`` (default: always), at
    most ``max_nodes`` nodes in any period (or one value per period with
    ``max_nodes_by_period``).
    """

    provider: Id
    region: Name = Field(
        description="Region id 'provider:code' (declared under regions: or known)."
    )
    instance_type: str = Field(min_length=1, max_length=100)
    accelerator: str = Field(min_length=1, max_length=64)
    accelerators_per_node: int = Field(ge=1, le=100_000)
    scale_up: str = Field(
        "custom", max_length=40, description="Link inside a node (nvswitch, pcie, custom, …)."
    )
    fabric: str = Field(
        "",
        max_length=40,
        description="Scale-out fabric between nodes (infiniband, roce, efa); empty: none.",
    )
    fabric_gbps: float = Field(0.0, ge=0.0, le=1e6, description="Per node.")
    cost: OwnCost
    available_from: PlanDate | None = None
    until: PlanDate | None = None
    max_nodes: float | None = Field(None, ge=0.0, le=MAX_ACCELERATORS)
    max_nodes_by_period: list[Annotated[float, Field(ge=0.0, le=MAX_ACCELERATORS)]] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OfferingDecl:
        if self.max_nodes is not None and self.max_nodes_by_period is not None:
            raise ValueError("give max_nodes or max_nodes_by_period, not both")
        if self.available_from and self.until and self.available_from >= self.until:
            raise ValueError(
                f"available_from {self.available_from} is not before until {self.until}"
            )
        if bool(self.fabric) != (self.fabric_gbps > 0):
            raise ValueError("give fabric and fabric_gbps together (or neither)")
        return self
