"""Assemble the planning LP from its families: the *build* step of build → solve → extract."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archipel.plan.inputs import PlanInputs
from archipel.plan.lp.problem import Problem, build_problem
from archipel.plan.lp.program import LinearProgram, LPBuilder, VarBlock
from archipel.plan.lp.serving import ServingCells, serving_cells
from archipel.plan.lp.serving_rows import add_serving
from archipel.plan.lp.shared import (
    NodeView,
    add_contracts,
    add_diversification,
    add_min_providers,
    add_offering_capacity,
    add_provider_limits,
)
from archipel.plan.lp.training import TrainingCells, add_training, training_cells
from archipel.spec.models import SurvivabilityRule


@dataclass(frozen=True)
class Built:
    """The LP and everything extraction needs to read a solution back."""

    lp: LinearProgram
    problem: Problem
    serving: ServingCells
    training: TrainingCells
    n: VarBlock
    y: VarBlock
    flow: VarBlock
    shortfall: VarBlock
    contract_years: list[tuple[int, int, float, float]]
    scenarios: tuple[str, ...]


def _scenarios(
    prob: Problem, cells: ServingCells
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, fraction per service, surviving flow mask, surviving load mask) per failure."""
    spec = prob.inputs.spec
    out = []
    svc_ids = [s.id for s in spec.services]
    for rule in spec.rules:
        if not isinstance(rule, SurvivabilityRule) or rule.served_fraction <= 0:
            continue
        frac = np.array(
            [
                rule.served_fraction if rule.services is None or s in rule.services else 0.0
                for s in svc_ids
            ]
        )
        if not frac.any():
            continue
        if rule.loss == "provider":
            groups = [
                (f"provider:{p}", prob.off_provider == i) for i, p in enumerate(prob.providers)
            ]
            region_lost = [
                np.array([r.split(":", 1)[0] == p for r in prob.regions], dtype=bool)
                for p in prob.providers
            ]
        else:
            groups = [(f"region:{r}", prob.off_region == i) for i, r in enumerate(prob.regions)]
            region_lost = [np.arange(len(prob.regions)) == i for i in range(len(prob.regions))]
        for (name, off_lost), reg_lost in zip(groups, region_lost, strict=True):
            keep_f = ~reg_lost[cells.f_r] & (frac[cells.f_s] > 0)
            keep_l = ~off_lost[cells.n_o[cells.l_cell]] & (frac[cells.n_s[cells.l_cell]] > 0)
            out.append((name, frac, keep_f, keep_l))
    return out


def build_lp(inputs: PlanInputs, integer: bool = False) -> Built:
    """Build the planning LP (docs/semantics.md) from arrays, one block per family."""
    prob = build_problem(inputs)
    cells = serving_cells(prob)
    tcells = training_cells(prob)
    b = LPBuilder()
    b.offset = float(inputs.reserved_fixed_usd.sum())
    n = b.add_vars("nodes_service", cells.n_s.size, cells.n_cost, integer=integer)
    y = b.add_vars("nodes_training", tcells.y_j.size, tcells.y_cost, integer=integer)
    S = len(inputs.spec.services)
    flow, _ = add_serving(
        b,
        prob,
        cells,
        n,
        np.ones(S),
        np.ones(cells.f_s.size, bool),
        np.ones(cells.l_cell.size, bool),
        "",
    )
    add_training(b, prob, tcells, y)
    view = NodeView(
        col=np.concatenate([n.cols(), y.cols()]),
        o=np.concatenate([cells.n_o, tcells.y_o]),
        t=np.concatenate([cells.n_t, tcells.y_t]),
        cost=np.concatenate([cells.n_cost, tcells.y_cost]),
    )
    add_offering_capacity(b, prob, view)
    add_provider_limits(b, prob, view)
    shortfall, cy = add_contracts(b, prob, view)
    add_diversification(b, prob, view)
    add_min_providers(b, prob, cells, flow)
    names = []
    for name, frac, keep_f, keep_l in _scenarios(prob, cells):
        add_serving(b, prob, cells, n, frac, keep_f, keep_l, f"@{name}")
        names.append(name)
    return Built(b.build(), prob, cells, tcells, n, y, flow, shortfall, cy, tuple(names))
