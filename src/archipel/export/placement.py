"""What the export writes for one allocation, and what reading a written file gives back.

A :class:`Placement` is one plan allocation of the chosen period in whole numbers: the facts every
target file must carry and every reader must give back (the round trip:
``read(write(p)).facts() == p.facts()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from archipel.errors import UserError
from archipel.plan.result import Allocation

Kind = Literal["service", "training"]


@dataclass(frozen=True, slots=True)
class Facts:
    """The allocation as a deployed file states it (compared in the round trip)."""

    provider: str
    region: str  # "provider:code"
    instance_type: str
    spot: bool
    nodes: int
    accelerators: int  # over all nodes
    replicas: int  # serving replicas (0 for training)


@dataclass(frozen=True, slots=True)
class Placement:
    """One allocation of the exported period, checked to be whole and consistent."""

    name: str  # file and object name, an RFC 1123 label: "<workload>-<index>"
    key: str  # "workload/region/offering_id" (a service's key is the gateway's deployment key)
    workload: str
    kind: Kind
    model: str  # the model id the spec names (the workload's id when it names none)
    provider: str
    region: str
    instance_type: str
    accelerator: str
    purchase_option: str
    offering_id: str
    period: int
    period_label: str
    nodes: int
    accelerators_per_node: int
    replicas: int
    accelerators_per_replica: int
    nodes_per_replica: int

    @property
    def spot(self) -> bool:
        return self.purchase_option == "spot"

    @property
    def accelerators(self) -> int:
        return self.nodes * self.accelerators_per_node

    def facts(self) -> Facts:
        return Facts(
            self.provider,
            self.region,
            self.instance_type,
            self.spot,
            self.nodes,
            self.accelerators,
            self.replicas,
        )


def _whole(value: float, what: str, where: str) -> int:
    n = round(value)
    if not math.isfinite(value) or abs(value - n) > 1e-6 or n < 0:
        raise UserError(
            f"{where}: {what} is {value:g}, not a whole number: export deploys whole nodes and "
            "replicas; plan without --fractional (or fix the plan file) and export again"
        )
    return int(n)


def placement(a: Allocation, name: str, model: str) -> Placement:
    """The allocation in whole numbers; a UserError when it cannot be deployed as written."""
    where = f"allocation {a.workload} on {a.offering_id} in period {a.period} ({a.period_label})"
    nodes = _whole(a.nodes, "nodes", where)
    chips = _whole(a.accelerators, "accelerators", where)
    if nodes == 0 or chips % nodes:
        raise UserError(
            f"{where}: {chips} accelerators on {nodes} nodes is not a whole number per node; "
            "fix the plan file (accelerators = nodes × accelerators per node)"
        )
    per_node = chips // nodes
    replicas = _whole(a.replicas, "replicas", where) if a.workload_kind == "service" else 0
    per_replica = a.accelerators_per_replica if replicas else 0
    npr = max(1, a.nodes_per_replica) if replicas else 1
    if replicas:
        if npr > 1 and per_replica != npr * per_node:
            raise UserError(
                f"{where}: a replica of {per_replica} accelerators on {npr} nodes of {per_node} "
                "does not take whole nodes; fix the plan file"
            )
        if npr == 1 and (per_replica < 1 or per_replica > per_node):
            raise UserError(
                f"{where}: a replica of {per_replica} accelerators does not fit a node of "
                f"{per_node}; fix the plan file"
            )
        hosted = (nodes // npr) if npr > 1 else nodes * (per_node // per_replica)
        if replicas > hosted:
            raise UserError(
                f"{where}: {replicas} replicas do not fit {nodes} nodes (at most {hosted}); fix "
                "the plan file"
            )
    return Placement(
        name=name,
        key=f"{a.workload}/{a.region}/{a.offering_id}",
        workload=a.workload,
        kind=a.workload_kind,
        model=model,
        provider=a.provider,
        region=a.region,
        instance_type=a.instance_type,
        accelerator=a.accelerator,
        purchase_option=a.purchase_option,
        offering_id=a.offering_id,
        period=a.period,
        period_label=a.period_label,
        nodes=nodes,
        accelerators_per_node=per_node,
        replicas=replicas,
        accelerators_per_replica=per_replica,
        nodes_per_replica=npr,
    )
