"""The verifier's checks of what a plan claims about itself and of its units (whole nodes, whole
replicas), and how stale figures are grouped in its report (see :mod:`archipel.plan.verify`)."""

from __future__ import annotations

from collections.abc import Sequence

from archipel.plan.result import Allocation, Plan
from archipel.plan.verify_costs import Costs
from archipel.plan.verify_facts import Cells, Facts
from archipel.plan.verify_rules import ABS, Problem, close


def check_claims(plan: Plan) -> list[Problem]:
    """What a plan claims about itself must be possible: a bound at most its cost, a gap ≥ 0."""
    out: list[Problem] = []
    obj, bound, gap = plan.objective_usd, plan.lower_bound_usd, plan.gap
    if obj is None:
        out.append(("plan-claims", "the plan states no objective_usd"))
        return out
    if bound is not None and bound > obj + ABS + 1e-6 * abs(obj):
        out.append(
            (
                "plan-claims",
                f"lower_bound_usd {bound:,.2f} is above the plan's own cost {obj:,.2f}: no plan "
                "costs less than a true lower bound",
            )
        )
    if gap is not None and gap < -1e-9:
        out.append(("plan-claims", f"gap {gap:g} is negative; a gap is at least 0"))
    return out


def check_units(
    allocs: Sequence[Allocation], facts: Facts, cells: Cells, whole: bool
) -> list[Problem]:
    """Replicas fit nodes (topology), nodes are whole, and stated replicas match the nodes."""
    out: list[Problem] = []
    for a in range(len(cells.nodes)):
        al = allocs[cells.index[a]]
        n, o = cells.nodes[a], cells.offering[a]
        where = f"allocation {al.workload} on {al.offering_id}, period {al.period_label}"
        if whole and abs(n - round(n)) > 1e-6:
            out.append(("whole-nodes", f"{where}: {n:g} nodes is not a whole number"))
        if cells.is_training[a] or n <= ABS:
            continue
        sf = facts.services[cells.workload[a]]
        per_node, per_replica = sf.replicas_per_node[o], sf.nodes_per_replica[o]
        if per_node == 0 and per_replica == 1:
            continue  # the cell breaks replica-topology (reported by the masks)
        if per_replica > 1 and abs(n / per_replica - round(n / per_replica)) > 1e-6:
            out.append(
                (
                    "replica-topology",
                    f"{where}: {n:g} nodes is not a whole number of {per_replica:g}-node replicas",
                )
            )
        want = n * per_node if per_node > 0 else n / per_replica
        if not close(al.replicas, want):
            out.append(
                ("allocation-replicas", f"{where}: replicas is {al.replicas:g}, expected {want:g}")
            )
    return out


def group_stale(found: list[Problem], plan: Plan, costs: Costs) -> list[str]:
    """Stale figures, counted by kind, with the true cost first; the first few listed."""
    if not found:
        return []
    stated = plan.objective_usd
    delta = costs.objective_usd - (stated or 0.0)
    head = (
        f"stale figures: the plan really costs {costs.objective_usd:,.2f} USD, "
        f"{'more' if delta > 0 else 'less'} than the {stated or 0.0:,.2f} USD it states "
        f"({delta:+,.2f} USD)"
        if stated is not None and not close(stated, costs.objective_usd)
        else "stale figures: the plan's total cost is right but some figures differ"
    )
    kinds: dict[str, int] = {}
    for k, _ in found:
        kinds[k] = kinds.get(k, 0) + 1
    counts = ", ".join(f"{n} {k}" for k, n in kinds.items())
    return [f"{head}; {counts}", *(m for _, m in found[:10])] + (
        [f"… and {len(found) - 10} more"] if len(found) > 10 else []
    )
