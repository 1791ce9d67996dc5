"""The figures every report derives from a plan, computed once so that all reports agree.

The terminal summary, the HTML report and ``archipel diff`` show the same placements, totals,
bounds and survivability verdicts; the derivations live here, apart from how each report draws
them. Pure functions of the plan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from archipel.plan.result import Allocation, BindingRule, Plan, RuleCost, ScenarioResult
from archipel.report.fmt import bound_label, format_gap, format_usd

MAX_BINDING_RULES = 15
FRACTION_TOLERANCE = 1e-6
WHOLE_TOLERANCE = 1e-6


class PlacementKey(NamedTuple):
    """Where one workload runs, periods aside: one instance type in one region, one option."""

    workload: str
    workload_kind: str
    provider: str
    region: str
    instance_type: str
    accelerator: str
    purchase_option: str


@dataclass(frozen=True, slots=True)
class PlacementTotals:
    """A placement over all periods: peaks of per-period sums, sums and means over the horizon.

    ``utilisation`` and ``availability`` are means weighted by node-hours (None when no
    allocation of the placement states one); ``sources`` are the throughput sources named.
    """

    peak_nodes: float
    peak_accelerators: float
    peak_replicas: float
    accelerators_per_node: float
    node_hours: float
    accelerator_hours: float
    cost_usd: float
    periods: int
    utilisation: float | None
    availability: float
    sources: tuple[str, ...]


def placement_key(a: Allocation) -> PlacementKey:
    return PlacementKey(
        a.workload,
        a.workload_kind,
        a.provider,
        a.region,
        a.instance_type,
        a.accelerator,
        a.purchase_option,
    )


@dataclass(slots=True)
class _Sums:
    nodes: dict[int, float]
    accelerators: dict[int, float]
    replicas: dict[int, float]
    node_hours: float = 0.0
    accelerator_hours: float = 0.0
    cost_usd: float = 0.0
    used_node_hours: float = 0.0  # Σ utilisation × node-hours, where utilisation is stated
    stated_node_hours: float = 0.0
    up_node_hours: float = 0.0  # Σ availability × node-hours

    def add(self, a: Allocation) -> None:
        self.nodes[a.period] = self.nodes.get(a.period, 0.0) + a.nodes
        self.accelerators[a.period] = self.accelerators.get(a.period, 0.0) + a.accelerators
        self.replicas[a.period] = self.replicas.get(a.period, 0.0) + a.replicas
        node_hours = a.nodes * a.hours
        self.node_hours += node_hours
        self.accelerator_hours += a.accelerators * a.hours
        self.cost_usd += a.cost_usd
        self.up_node_hours += a.availability * node_hours
        if a.utilisation is not None and math.isfinite(a.utilisation):
            self.used_node_hours += a.utilisation * node_hours
            self.stated_node_hours += node_hours

    def totals(self, sources: set[str]) -> PlacementTotals:
        peak_nodes = max(self.nodes.values())
        peak_accelerators = max(self.accelerators.values())
        return PlacementTotals(
            peak_nodes=peak_nodes,
            peak_accelerators=peak_accelerators,
            peak_replicas=max(self.replicas.values()),
            accelerators_per_node=peak_accelerators / peak_nodes if peak_nodes > 0 else 0.0,
            node_hours=self.node_hours,
            accelerator_hours=self.accelerator_hours,
            cost_usd=self.cost_usd,
            periods=len(self.nodes),
            utilisation=(
                self.used_node_hours / self.stated_node_hours if self.stated_node_hours else None
            ),
            availability=self.up_node_hours / self.node_hours if self.node_hours > 0 else 1.0,
            sources=tuple(sorted(sources)),
        )


def aggregate_placements(allocations: Iterable[Allocation]) -> dict[PlacementKey, PlacementTotals]:
    """Allocations grouped by placement, in key order: peaks of per-period sums, horizon sums."""
    sums: dict[PlacementKey, _Sums] = {}
    sources: dict[PlacementKey, set[str]] = defaultdict(set)
    for a in allocations:
        key = placement_key(a)
        if key not in sums:
            sums[key] = _Sums({}, {}, {})
        sums[key].add(a)
        if a.throughput_source:
            sources[key].add(a.throughput_source)
    return {key: sums[key].totals(sources[key]) for key in sorted(sums)}


def plan_total_usd(plan: Plan) -> float:
    """The plan's total cost: the objective, or the providers' sum when there is none."""
    if plan.objective_usd is not None:
        return plan.objective_usd
    return sum(plan.cost_by_provider_usd.values())


def ranked_rule_costs(plan: Plan, limits: int = MAX_BINDING_RULES) -> list[RuleCost]:
    """Rules and contracts by decreasing |effect| (unpriced last), then at most ``limits``
    binding limits by decreasing |marginal|."""
    priced = [r for r in plan.rule_costs if r.kind != "limit"]
    priced.sort(key=lambda r: (r.effect_usd is None, -abs(r.effect_usd or 0.0), r.name))
    rest = [r for r in plan.rule_costs if r.kind == "limit"]
    rest.sort(key=lambda r: (-abs(r.marginal_usd or 0.0), r.name))
    return priced + rest[:limits]


def ranked_binding_rules(plan: Plan, limit: int = MAX_BINDING_RULES) -> list[BindingRule]:
    """Binding rules by decreasing |shadow price| (ties by family, entity), at most ``limit``."""
    ranked = sorted(
        plan.binding_rules, key=lambda r: (-abs(r.shadow_price_usd), r.family, r.entity)
    )
    return ranked[:limit]


def served_ok(required: float, served: float) -> bool:
    """Whether a served fraction meets the required one, within the verifier's tolerance."""
    return served >= required - FRACTION_TOLERANCE


def survivability_rows(scenario: ScenarioResult) -> list[tuple[str, float, bool]]:
    """(service, min served fraction, ok) per service of a failure scenario, by service name."""
    return [
        (service, served, served_ok(scenario.required_fraction, served))
        for service, served in sorted(scenario.served_fraction.items())
    ]


def nodes_are_whole(plan: Plan) -> bool:
    """Whether the plan is in whole nodes: it says so and every allocation's nodes are whole."""
    return plan.whole_nodes and all(
        abs(a.nodes - round(a.nodes)) <= WHOLE_TOLERANCE for a in plan.allocations
    )


def node_view(plan: Plan) -> str:
    """``whole nodes``, or ``fractional view`` when nodes may be (or are) fractional."""
    return "whole nodes" if nodes_are_whole(plan) else "fractional view"


def bound_parts(plan: Plan) -> list[str]:
    """The plan's bound and gap, each labelled for what it is: ``LP relaxation bound $9.2B``."""
    parts = []
    if plan.lower_bound_usd is not None:
        parts.append(f"{bound_label(plan.lower_bound_kind)} {format_usd(plan.lower_bound_usd)}")
    if plan.gap is not None:
        parts.append(f"gap {format_gap(plan.gap)}")
    return parts


def blocks_solved(plan: Plan) -> int:
    """How many independent blocks the planner solved (1 when it did not decompose)."""
    return max(1, plan.stats.get("blocks", 1))


def period_labels(plan: Plan) -> list[str]:
    """A label for every period the plan mentions (``#3`` where the plan names none)."""
    n = max(
        len(plan.periods),
        len(plan.cost_by_period_usd),
        max((a.period + 1 for a in plan.allocations), default=0),
    )
    return [plan.periods[i] if i < len(plan.periods) else f"#{i}" for i in range(n)]
