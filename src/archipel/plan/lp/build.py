"""Assemble the planning LP from its families: the *build* step of build → solve → extract."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.plan.inputs import PlanInputs
from archipel.plan.lp.contracts import ContractColumns, add_contracts
from archipel.plan.lp.egress import FlowEgress, flow_egress
from archipel.plan.lp.problem import Problem, build_problem
from archipel.plan.lp.program import IntArray, LinearProgram, LPBuilder, VarBlock
from archipel.plan.lp.ramps import add_migration_limits, add_traffic_ramps
from archipel.plan.lp.reservations import Purchases, add_purchases, on_base, with_spend
from archipel.plan.lp.serving import BoolArray, FloatArray, ServingCells, serving_cells
from archipel.plan.lp.serving_rows import Carriers, add_serving, add_spot_caps
from archipel.plan.lp.shared import (
    NodeView,
    add_diversification,
    add_min_providers,
    add_offering_capacity,
    add_provider_limits,
)
from archipel.plan.lp.training import TrainingCells, add_training, training_cells
from archipel.spec.models import SurvivabilityRule

# Capacity is priced a millionth above its cost in the objective (contracts, shares and reports
# use the true cost): between buying nodes that serve nothing and paying the same amount as
# take-or-pay shortfall, the plan pays the shortfall, so unused commitment shows as such. A
# bound from this objective is divided by (1 + SPEND_TIE_BREAK) to stay a bound on true cost.
SPEND_TIE_BREAK = 1e-6


@dataclass(frozen=True)
class Built:
    """The LP and everything extraction needs to read a solution back."""

    lp: LinearProgram
    problem: Problem
    serving: ServingCells
    training: TrainingCells
    n: VarBlock  # service units
    y: VarBlock  # training nodes
    flow: VarBlock  # base flows, over the flow cells ``flow_cells``
    flow_cells: IntArray
    carriers: Carriers  # base carriers: what each capacity group carries
    view: NodeView  # node columns, then purchases' spend entries: what contracts count
    contracts: ContractColumns
    scenarios: tuple[str, ...]
    egress: FlowEgress  # network cost of every flow cell; the base flows carry it
    purchases: Purchases  # reservations bought (archipel.plan.lp.reservations)


def _scenarios(
    prob: Problem, cells: ServingCells
) -> list[tuple[str, FloatArray, BoolArray, BoolArray]]:
    """(name, fraction per service, surviving groups, surviving flows) per failure scenario.

    Only firm capacity survives (spot too when the rule says ``count_spot``). A scenario is kept
    for a service only when the lost provider (region) holds cells of it: losing one that holds
    none leaves every node in place, which any other scenario of the service already covers.
    """
    spec = prob.inputs.spec
    out = []
    svc_ids = [s.id for s in spec.services]
    S = len(svc_ids)
    for rule in spec.rules:
        if not isinstance(rule, SurvivabilityRule) or rule.served_fraction <= 0:
            continue
        listed = np.array([rule.services is None or s in rule.services for s in svc_ids], bool)
        if not listed.any():
            continue
        region_provider = np.array(
            [prob.providers.index(r.split(":", 1)[0]) for r in prob.regions], dtype=np.int64
        )
        if rule.loss == "provider":
            lost_of_region = region_provider
            names = [f"provider:{p}" for p in prob.providers]
        else:
            lost_of_region = np.arange(len(prob.regions), dtype=np.int64)
            names = [f"region:{r}" for r in prob.regions]
        cell_lost = lost_of_region[prob.off_region[cells.n_o]]
        firm_q = ~cells.q_spot | rule.count_spot
        for k, name in enumerate(names):
            holds = np.zeros(S, dtype=bool)
            holds[np.unique(cells.n_s[cell_lost == k])] = True
            chosen = listed & holds
            if not chosen.any():
                continue
            frac = np.where(chosen, rule.served_fraction, 0.0)
            keep_q = chosen[cells.q_s] & (lost_of_region[cells.q_r] != k) & firm_q
            keep_f = chosen[cells.f_s] & (lost_of_region[cells.f_r] != k)
            out.append((name, frac, keep_q, keep_f))
    return out


def build_lp(inputs: PlanInputs, integer: bool = True) -> Built:
    """Build the planning model (docs/semantics.md) from arrays, one block per family.

    Node units and training nodes are integer columns (whole nodes); solving the relaxation
    gives the fractional view and the lower bound.
    """
    prob = build_problem(inputs)
    cells = serving_cells(prob)
    tcells = training_cells(prob)
    b = LPBuilder()
    b.offset = float(inputs.reserved_fixed_usd.sum())
    tie = 1.0 + SPEND_TIE_BREAK
    n = b.add_vars("nodes_service", cells.n_s.size, cells.n_cost * tie, integer=integer)
    y = b.add_vars(
        "nodes_training", tcells.y_j.size, tcells.y_cost * tie, 0.0, tcells.y_max, integer=integer
    )
    S = len(inputs.spec.services)
    egress = flow_egress(prob, cells)
    flow, fi, carriers = add_serving(
        b,
        prob,
        cells,
        n,
        np.ones(S),
        np.ones(cells.q_s.size, bool),
        np.ones(cells.f_s.size, bool),
        "",
        egress.coef,
    )
    add_spot_caps(b, prob, cells, carriers)
    add_training(b, prob, tcells, y)
    view = NodeView(
        col=np.concatenate([n.cols(), y.cols()]),
        o=np.concatenate([cells.n_o, tcells.y_o]),
        t=np.concatenate([cells.n_t, tcells.y_t]),
        w=np.concatenate([cells.n_s, S + tcells.y_j]),
        nodes=np.concatenate([cells.n_nodes, np.ones(tcells.y_j.size)]),
        cost=np.concatenate([cells.n_cost, tcells.y_cost]),
    )
    add_offering_capacity(b, prob, on_base(prob, view))  # reserved nodes share the offering's
    add_provider_limits(b, prob, view)
    # reservations bought: their columns; their spend counts in contracts (at their own price,
    # no discount on top) and in the provider share rows like the nodes' spend
    bought = add_purchases(b, prob, view, integer, tie)
    spend = with_spend(view, bought)
    contracts = add_contracts(b, prob, spend.col, spend.o, spend.t, spend.w, spend.cost)
    add_diversification(b, prob, spend, contracts)
    add_min_providers(b, prob, cells, flow, fi)
    add_traffic_ramps(b, prob, cells, flow, fi)
    add_migration_limits(b, prob, cells, flow, fi)
    names = []
    for name, frac, keep_q, keep_f in _scenarios(prob, cells):
        add_serving(b, prob, cells, n, frac, keep_q, keep_f, f"@{name}")
        names.append(name)
    return Built(
        b.build(),
        prob,
        cells,
        tcells,
        n,
        y,
        flow,
        fi,
        carriers,
        spend,
        contracts,
        tuple(names),
        egress,
        bought,
    )
