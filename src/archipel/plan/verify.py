"""The independent verifier: recompute a plan's costs, capacity, demand and rules from scratch.

``verify(plan, inputs)`` reads only the plan's allocations and flows, plus the spec, catalog and
perf estimates, and recomputes every quantity docs/semantics.md defines; it shares no code with
the LP build. Each problem is a sentence naming the entity and both figures; ``rules_broken``
names each kind of rule broken (the spec's rule kinds ``residency``, ``cloud_act_exclusion``,
``exclusivity``, ``diversification``, ``survivability``, ``min_providers``, ``traffic_ramp``,
``migration_limit``, and family names such as ``demand-served``, ``offering-capacity`` or
``availability`` for the rest).

Tolerance: relative 1e-6 plus absolute 1e-6; relative 1e-5 for figures from the verifier's own
LP (serving capacity split over request classes, survivability).

Two kinds of finding: **problems** make the plan wrong — a rule broken, demand not served,
capacity exceeded, a replica or gang that cannot be built, a false claim (a bound above the
cost, a plan for another spec); **stale figures** are numbers the file states that differ from
the recomputation (costs, totals, contract rows) while the plan itself holds — for example
after nodes were added by hand, which is safe but costs more. A plan with stale figures and no
problem holds; the report says how much more (or less) it really costs.

Module layout: ``verify_facts`` (what the spec says, as arrays), ``verify_costs`` (costs and
contract years), ``verify_egress`` (network cost of the flows), ``verify_rules`` (demand,
capacity, training, cross-workload rules), ``verify_ramps`` (capacity over time, traffic ramps,
migration limits), ``verify_reservations`` (reservations bought: economics, windows, capacity),
``verify_survive`` (failure scenarios), ``verify_lp`` (the max-served-fraction LP).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from archipel.plan.inputs import PlanInputs, spec_sha256
from archipel.plan.result import Allocation, ContractYear, Plan, ScenarioResult, Status
from archipel.plan.verify_claims import check_claims, check_units, group_stale
from archipel.plan.verify_contracts import check_contract_rows
from archipel.plan.verify_costs import Costs, recompute_costs
from archipel.plan.verify_egress import check_egress, recompute_egress, with_egress
from archipel.plan.verify_facts import Cells, Facts, derive_facts
from archipel.plan.verify_ramps import (
    check_migration_limits,
    check_provider_capacity,
    check_traffic_ramps,
)
from archipel.plan.verify_reservations import check_reservations
from archipel.plan.verify_rules import (
    ABS,
    LP_REL,
    Problem,
    check_diversification,
    check_flows,
    check_min_providers,
    check_offering_capacity,
    check_serving_capacity,
    check_training,
    close,
)
from archipel.plan.verify_survive import survivability

__all__ = ["Costs", "Recomputed", "VerificationReport", "verify", "verify_and_stamp"]


@dataclass(frozen=True)
class Recomputed:
    """The figures the verifier derived itself, to compare with (or show beside) the plan's."""

    costs: Costs  # objective, by provider/period/purchase option, shortfall, reserved fixed
    contracts: list[ContractYear]
    survivability: list[ScenarioResult]  # one per survivability rule and failure scenario
    egress_usd: float = 0.0  # network cost of the flows (in costs' totals and objective)


@dataclass(frozen=True)
class VerificationReport:
    """What the verifier found and what it recomputed."""

    ok: bool  # no problem (stale figures allowed)
    problems: list[str]  # what makes the plan wrong, most severe kind first
    recomputed: Recomputed | None  # None when the plan's status leaves nothing to verify
    rules_broken: list[str]  # each kind of problem, once, in order of severity
    stale: list[str] = field(default_factory=list)  # figures the file states that differ
    cost_delta_usd: float = 0.0  # recomputed objective minus the stated one

    @property
    def exact(self) -> bool:
        """No problem and every stated figure equals the recomputation."""
        return self.ok and not self.stale


# Kinds of finding that are bookkeeping: a stated figure that differs from the recomputation.
STALE_KINDS = frozenset(
    {
        "allocation-fields",
        "allocation-hours",
        "allocation-accelerators",
        "allocation-cost",
        "allocation-replicas",
        "flow-egress",
        "contract-rows",
        "cost-totals",
        "reservation-fields",
        "reservation-figures",
        "survivability-report",
    }
)
# Problems in order of severity: the rules a person chose, then serving, capacity, topology.
SEVERITY = (
    "plan-claims",
    "plan-spec",
    "residency",
    "cloud_act_exclusion",
    "exclusivity",
    "availability",
    "replica-topology",
    "training-fabric",
    "gang-type",
    "whole-nodes",
    "demand-served",
    "serving-capacity",
    "survivability",
    "offering-capacity",
    "reservation-offering",
    "reservation-window",
    "reservation-nodes",
    "reservation-capacity",
    "reservation-limit",
    "provider-capacity",
    "training-work",
    "gang-min",
    "gang-max",
    "single-region",
    "spot-share",
    "diversification",
    "min_providers",
    "traffic_ramp",
    "migration_limit",
    "contract-scope",
    "contract-max",
    "contract-carry",
)


def verify(plan: Plan, inputs: PlanInputs) -> VerificationReport:
    """Check ``plan`` against ``inputs`` and docs/semantics.md; see the module docstring."""
    if plan.status not in (Status.OPTIMAL, Status.FEASIBLE):
        msg = f"plan status is {plan.status.value}; only optimal or feasible plans can be verified"
        return VerificationReport(False, [msg], None, ["status"])
    facts = derive_facts(inputs)
    found: list[Problem] = _check_header(plan, facts) + check_claims(plan)
    cells, alloc_problems = _read_allocations(plan.allocations, facts)
    found += alloc_problems
    bought_problems, bought = check_reservations(facts, cells, plan.reservations, plan.whole_nodes)
    found += bought_problems
    network = recompute_egress(facts, plan.flows)
    costs = with_egress(
        recompute_costs(
            facts,
            cells,
            plan.allocations,
            plan.contracts,
            bought,
            plan.savings_plans_usd_per_hour,
            plan.reservations,
        ),
        network,
    )
    found += list(costs.problems)
    found += _check_allocation_figures(plan.allocations, facts, cells, costs)
    found += check_egress(plan, network)
    found += check_contract_rows(plan.contracts, costs.contracts)
    found += _check_totals(plan, costs)
    flow_problems, loads = check_flows(facts, plan.flows)
    found += flow_problems
    found += check_serving_capacity(facts, cells, loads)
    found += check_offering_capacity(facts, cells)
    found += check_provider_capacity(facts, cells)
    found += check_training(facts, cells)
    found += check_diversification(facts, costs.share_spend_by_provider_usd)
    found += check_min_providers(facts, plan.flows)
    found += check_traffic_ramps(facts, plan.flows)
    found += check_migration_limits(facts, plan.flows)
    scenarios, surv_problems = survivability(facts, cells)
    found += surv_problems
    found += _check_reported_scenarios(plan.survivability, scenarios)
    found += check_units(plan.allocations, facts, cells, plan.whole_nodes)
    broken = [f for f in found if f[0] not in STALE_KINDS]
    rank = {k: i for i, k in enumerate(SEVERITY)}
    broken.sort(key=lambda f: rank.get(f[0], len(rank)))
    rules: list[str] = []
    for rule, _ in broken:
        if rule not in rules:
            rules.append(rule)
    stale = group_stale([f for f in found if f[0] in STALE_KINDS], plan, costs)
    stated = plan.objective_usd if plan.objective_usd is not None else 0.0
    return VerificationReport(
        ok=not broken,
        problems=[m for _, m in broken],
        recomputed=Recomputed(costs, list(costs.contracts), scenarios, network.total_usd),
        rules_broken=rules,
        stale=stale,
        cost_delta_usd=costs.objective_usd - stated if math.isfinite(stated) else math.inf,
    )


def verify_and_stamp(plan: Plan, inputs: PlanInputs) -> Plan:
    """The plan with ``verified`` (no problem, no stale figure) and its findings."""
    report = verify(plan, inputs)
    return plan.model_copy(
        update={
            "verified": report.exact,
            "verification_problems": report.problems + report.stale,
        }
    )


def _check_header(plan: Plan, facts: Facts) -> list[Problem]:
    out: list[Problem] = []
    inputs = facts.inputs
    if plan.spec_sha256 and plan.spec_sha256 != spec_sha256(inputs.spec):
        out.append(
            (
                "plan-spec",
                "the plan was made for another spec (its spec_sha256 differs from this spec's); "
                "plan this spec again, or verify against the spec the plan was made from",
            )
        )
    if plan.catalog_sha256 and plan.catalog_sha256 != inputs.catalog.manifest.content_sha256:
        out.append(
            (
                "plan-spec",
                f"the plan was made with another catalog ({plan.catalog_sha256[:12]}…, this one "
                f"is {inputs.catalog.manifest.content_sha256[:12]}…); plan again or pass the "
                "catalog it was made with (--catalog)",
            )
        )
    if list(plan.periods) != list(facts.labels):
        out.append(
            (
                "periods",
                f"plan periods {plan.periods} differ from the horizon's {list(facts.labels)}",
            )
        )
    if len(plan.period_hours) != len(facts.hours) or not all(
        close(a, float(b)) for a, b in zip(plan.period_hours, facts.hours, strict=False)
    ):
        out.append(
            ("periods", f"plan period hours {plan.period_hours} differ from {facts.hours.tolist()}")
        )
    return out


def _read_allocations(allocs: Sequence[Allocation], facts: Facts) -> tuple[Cells, list[Problem]]:
    """Allocations as arrays; unknown offerings/workloads/periods and mismatched fields reported."""
    inputs = facts.inputs
    index = inputs.offering_index()
    kinds = {s: "service" for s in facts.services} | {j: "training" for j in facts.jobs}
    out: list[Problem] = []
    keep: list[tuple[int, int, int]] = []
    for i, a in enumerate(allocs):
        where = f"allocation {a.workload} on {a.offering_id}, period {a.period_label or a.period}"
        o = index.get(a.offering_id)
        if o is None:
            out.append(("allocation-offering", f"{where}: no such offering in the inputs"))
            continue
        if kinds.get(a.workload) != a.workload_kind:
            out.append(("allocation-workload", f"{where}: no {a.workload_kind} named {a.workload}"))
            continue
        if not 0 <= a.period < len(facts.hours):
            out.append(
                ("allocation-period", f"{where}: period index {a.period} outside the horizon")
            )
            continue
        off = inputs.offerings[o]
        want = {
            "provider": off.provider,
            "region": off.region_id,
            "instance_type": off.instance_type,
            "accelerator": off.accelerator,
            "purchase_option": str(off.purchase_option),
            "period_label": facts.labels[a.period],
            "availability": str(off.availability),
        }
        got = {k: str(getattr(a, k)) for k in want}
        got["availability"] = str(float(a.availability))
        out.extend(
            ("allocation-fields", f"{where}: {k} is {got[k]!r}, the offering says {v!r}")
            for k, v in want.items()
            if got[k] != v
        )
        if a.nodes < -ABS:
            out.append(("allocation-nodes", f"{where}: {a.nodes} nodes is negative"))
        keep.append((i, o, a.period))
    idx = np.array([k[0] for k in keep], dtype=np.int64)
    cells = Cells(
        index=idx,
        is_training=np.array([allocs[i].workload_kind == "training" for i in idx], dtype=bool),
        workload=tuple(allocs[i].workload for i in idx),
        offering=np.array([k[1] for k in keep], dtype=np.int64),
        period=np.array([k[2] for k in keep], dtype=np.int64),
        nodes=np.array([allocs[i].nodes for i in idx], dtype=float),
    )
    return cells, out + _check_masks(allocs, facts, cells)


def _check_masks(allocs: Sequence[Allocation], facts: Facts, cells: Cells) -> list[Problem]:
    """Each allocation with nodes sits in an allowed cell; name every rule its cell breaks."""
    out: list[Problem] = []
    for a in range(len(cells.nodes)):
        if cells.nodes[a] <= ABS:
            continue
        w, o, t = cells.workload[a], cells.offering[a], cells.period[a]
        masks = facts.jobs[w].masks if cells.is_training[a] else facts.services[w].masks
        al = allocs[cells.index[a]]
        for rule, m in masks.items():
            if not m[o if m.shape[0] > 1 else 0, t if m.shape[1] > 1 else 0]:
                out.append(
                    (
                        rule,
                        f"allocation {w} on {al.offering_id}, period {facts.labels[t]}: "
                        + _why(rule, facts, w, o),
                    )
                )
    return out


def _why(rule: str, facts: Facts, workload: str, o: int) -> str:
    off = facts.inputs.offerings[o]
    region = (
        facts.inputs.catalog.region(off.region_id)
        if facts.inputs.catalog.has_region(off.region_id)
        else None
    )
    svc = facts.services.get(workload)
    job = facts.jobs.get(workload)
    data_class = svc.service.data_class if svc else job.job.data_class if job else None
    model = svc.service.model if svc else job.job.model if job else None
    country = region.country if region else "?"
    jur = list(region.jurisdictions) if region else []
    where = f"{off.region_id} ({country}, jurisdictions {jur})"
    reasons = {
        "purchase-option": f"purchase option {off.purchase_option} is not allowed for the workload",
        "model-fit": f"model {model} does not fit on {off.accelerator}",
        "residency": f"region {where} breaks the residency rules of data class {data_class}",
        "cloud_act_exclusion": f"provider {off.provider} is subject to the CLOUD Act, "
        f"excluded for data class {data_class}",
        "exclusivity": f"model {model} is exclusive to providers other than {off.provider} "
        "in this period",
        "training-accelerator": f"accelerator {off.accelerator} is not in the job's accelerators",
        "training-window": "the period does not overlap the job's [start, deadline) window",
        "replica-topology": f"a replica of model {model} needs more accelerators than a "
        f"{off.instance_type} node holds, and the nodes cannot be joined into one replica "
        "(no scale-out fabric, or the model does not allow multi-node replicas)",
        "training-fabric": f"{off.instance_type} has no scale-out fabric, and the job's gang "
        "does not fit in one node",
    }
    return reasons.get(rule, rule)


def _check_allocation_figures(
    allocs: Sequence[Allocation], facts: Facts, cells: Cells, costs: Costs
) -> list[Problem]:
    """Hours, accelerators and cost of each allocation equal the recomputation."""
    hours = cells.active_hours(facts)
    accels = cells.nodes * facts.accels_per_node[cells.offering]
    out: list[Problem] = []
    for a, i in enumerate(cells.index):
        al = allocs[i]
        where = (
            f"allocation {al.workload} on {al.offering_id}, period {facts.labels[cells.period[a]]}"
        )
        for name, got, want in (
            ("hours", al.hours, hours[a]),
            ("accelerators", al.accelerators, accels[a]),
            ("cost_usd", al.cost_usd, costs.allocation_usd[a]),
        ):
            if not close(got, float(want)):
                out.append(
                    (
                        "allocation-" + name.split("_")[0],
                        f"{where}: {name} is {got:.6g}, expected {float(want):.6g}",
                    )
                )
    return out


def _check_totals(plan: Plan, costs: Costs) -> list[Problem]:
    """Objective and cost breakdowns equal the recomputation (missing keys count as 0)."""
    out: list[Problem] = []
    scalars = (
        ("objective_usd", plan.objective_usd, costs.objective_usd),
        ("shortfall_usd", plan.shortfall_usd, costs.shortfall_usd),
        ("reserved_fixed_usd", plan.reserved_fixed_usd, costs.reserved_fixed_usd),
        ("discount_usd", plan.discount_usd, costs.discount_usd),
        ("unused_commitment_usd", plan.unused_commitment_usd, costs.unused_commitment_usd),
    )
    for name, got, want in scalars:
        if got is None or not close(got, want):
            out.append(("cost-totals", f"{name} is {got}, expected {want:.6g}"))
    for name, got_d, want_d in (
        ("cost_by_provider_usd", plan.cost_by_provider_usd, costs.cost_by_provider_usd),
        (
            "cost_by_purchase_option_usd",
            plan.cost_by_purchase_option_usd,
            costs.cost_by_purchase_option_usd,
        ),
    ):
        out.extend(
            (
                "cost-totals",
                f"{name}[{k}] is {got_d.get(k, 0.0):.6g}, expected {want_d.get(k, 0.0):.6g}",
            )
            for k in sorted(set(got_d) | set(want_d))
            if not close(got_d.get(k, 0.0), want_d.get(k, 0.0))
        )
    want_p = costs.cost_by_period_usd
    if len(plan.cost_by_period_usd) != len(want_p):
        out.append(
            (
                "cost-totals",
                f"cost_by_period_usd has {len(plan.cost_by_period_usd)} entries, "
                f"expected {len(want_p)}",
            )
        )
    else:
        out.extend(
            ("cost-totals", f"cost_by_period_usd[{t}] is {g:.6g}, expected {float(w):.6g}")
            for t, (g, w) in enumerate(zip(plan.cost_by_period_usd, want_p, strict=True))
            if not close(g, float(w))
        )
    return out


def _check_reported_scenarios(
    reported: Sequence[ScenarioResult], recomputed: Sequence[ScenarioResult]
) -> list[Problem]:
    """A plan may report survivability; it must not claim more than the recomputation finds."""
    truth = {(r.scenario, r.required_fraction): r for r in recomputed}
    out: list[Problem] = []
    for r in reported:
        t = truth.get((r.scenario, r.required_fraction))
        if t is None:
            continue
        if r.ok and not t.ok:
            out.append(
                (
                    "survivability-report",
                    f"scenario {r.scenario}: reported ok, but the recomputation finds it fails",
                )
            )
        out.extend(
            (
                "survivability-report",
                f"scenario {r.scenario}: service {s} reported at {v:.6g}, "
                f"at most {t.served_fraction[s]:.6g} is servable",
            )
            for s, v in r.served_fraction.items()
            if s in t.served_fraction and v > t.served_fraction[s] * (1 + LP_REL) + ABS
        )
    return out
