"""What each rule, contract and limit costs: one table, a unit on every row, one sign.

Sign: a positive figure is money the rule or contract adds to the plan (removing it would save
it); a negative one is money it saves (a contract's discount outweighing its commitment).

- **effect** (USD over the horizon): for a spec rule, the LP relaxation's optimum with the rule
  minus without it (``re-solve``), when the model is small enough to solve again; otherwise
  Σ dual × right-hand side over the rule's rows (``dual × quantity``, the rule's part of the
  relaxation's dual objective; rules that only remove cells — residency, CLOUD Act,
  exclusivity — have no rows and then no figure). For a contract, the same with its
  commitment removed (its discount kept): what the commitment costs.
- **marginal**: what one more unit of the rule's requirement costs (a limit one unit tighter, a
  commitment one USD larger), in the row family's unit, the largest over the rule's rows.

Every contract with a commitment is listed, binding or not; capacity limits and other binding
rows follow with their marginal only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from archipel.plan.extract import INTERNAL, MECHANICS
from archipel.plan.inputs import PlanInputs
from archipel.plan.lp.build import Built, build_lp
from archipel.plan.result import RuleCost
from archipel.plan.solvers.highs import solve
from archipel.spec.models import (
    DiversificationRule,
    MigrationLimitRule,
    MinProvidersRule,
    Rule,
    SurvivabilityRule,
    TrafficRampRule,
)

Float = NDArray[np.float64]

# family (before any "@scenario" tag) → unit of one row of it
UNITS: dict[str, str] = {
    "contract-spend-lower": "USD per USD committed",
    "contract-spend-upper": "USD per USD of list spend allowed",
    "provider-accelerators-upper": "USD per accelerator in a period",
    "offering-nodes-upper": "USD per node in a period",
    "provider-spend-share-upper": "USD per USD of spend",
    "service-demand-equal": "USD per request/s of peak demand in a period",
    "service-provider-share-lower": "USD per request/s of a provider's share",
    "service-providers-lower": "USD per provider",
    "service-spot-share-upper": "USD per request/s on spot",
    "provider-ramp-share-lower": "USD per request/s (peak) on the provider",
    "provider-ramp-share-upper": "USD per request/s (peak) on the provider",
    "provider-share-gain-upper": "USD per request/s (peak) moved",
    "provider-share-loss-upper": "USD per request/s (peak) moved",
    "job-accelerators-upper": "USD per accelerator",
    "job-accelerators-lower": "USD per accelerator",
    "job-single-node-upper": "USD per node",
    "savings-plan-cover-upper": "USD per USD of list spend a savings plan covers",
    "reservation-nodes-upper": "USD per node held",
    "reservation-option-nodes-upper": "USD per node of the option's max_nodes",
}


_RULE_FAMILIES = (
    "provider-spend-share-upper",
    "service-provider-share-lower",
    "service-providers-lower",
    "provider-ramp-share-lower",
    "provider-ramp-share-upper",
    "provider-share-gain-upper",
    "provider-share-loss-upper",
)


def _rule_families(rule: Rule) -> tuple[str, ...]:
    """Row families a rule adds (scenario rows carry an "@" tag)."""
    if isinstance(rule, SurvivabilityRule):
        return ("@",)
    if isinstance(rule, DiversificationRule):
        return ("provider-spend-share-upper",)
    if isinstance(rule, MinProvidersRule):
        return ("service-provider-share-lower", "service-providers-lower")
    if isinstance(rule, TrafficRampRule):
        return ("provider-ramp-share-lower", "provider-ramp-share-upper")
    if isinstance(rule, MigrationLimitRule):
        return ("provider-share-gain-upper", "provider-share-loss-upper")
    return ()


def _rows(built: Built, families: tuple[str, ...], entity: str | None = None) -> list[int]:
    out: list[int] = []
    for block in built.lp.row_blocks:
        hit = any(
            (f == "@" and "@" in block.family) or (f != "@" and block.family == f) for f in families
        )
        if not hit:
            continue
        if entity is None:
            out += range(block.start, block.start + block.size)
        else:
            labels = block.label(np.arange(block.size))
            out += [block.start + i for i, name in enumerate(labels) if name.startswith(entity)]
    return out


def _dual_terms(built: Built, duals: Float, rows: list[int]) -> tuple[float, float]:
    """(Σ dual × active bound, largest marginal) over ``rows``."""
    if not rows:
        return 0.0, 0.0
    r = np.array(rows, dtype=np.int64)
    y = duals[r]
    lo, hi = built.lp.row_lower[r], built.lp.row_upper[r]
    bound = np.where(y >= 0, lo, hi)
    bound = np.where(np.isfinite(bound), bound, 0.0)
    equal = lo == hi
    marginal = np.where(equal, y, np.abs(y))
    return float((y * bound).sum()), float(marginal.max(initial=0.0))


def _relaxed(inputs: PlanInputs) -> float | None:
    sol = solve(build_lp(inputs, integer=False).lp, integer=False)
    return sol.objective


def rule_costs(
    built: Built,
    duals: Float,
    relaxed_objective: float,
    resolve: bool,
    limit: int = 40,
) -> list[RuleCost]:
    """The table (see the module docstring); ``resolve``: re-solve without each rule/contract."""
    inputs = built.problem.inputs
    spec = inputs.spec
    out: list[RuleCost] = []
    for i, rule in enumerate(spec.rules):
        fams = _rule_families(rule)
        label = f"{rule.kind} (rules[{i}])"
        if resolve:
            rest = [r for k, r in enumerate(spec.rules) if k != i]
            without = _relaxed(replace(inputs, spec=spec.model_copy(update={"rules": rest})))
            effect = None if without is None else relaxed_objective - without
            method = "re-solve"
        else:
            effect, _ = _dual_terms(built, duals, _rows(built, fams)) if fams else (None, 0.0)
            method = (
                "dual × quantity" if fams else "not priced: no rows, model too large to re-solve"
            )
        marginal = _dual_terms(built, duals, _rows(built, fams))[1] if fams else None
        unit = (
            UNITS.get(fams[0], "")
            if fams and fams[0] != "@"
            else (UNITS["service-demand-equal"] if fams else "")
        )
        out.append(
            RuleCost(
                kind="rule",
                name=label,
                effect_usd=effect,
                method=method,
                marginal_usd=marginal,
                unit=unit,
            )
        )
    for ci, c in enumerate(spec.contracts):
        rows = _rows(built, ("contract-spend-lower",), f"{c.id}/")
        dual_effect, marginal = _dual_terms(built, duals, rows)
        committed = any(x.committed_usd > 0 for x in built.contracts.terms if x.contract == ci)
        if not committed and not rows:
            continue
        c_effect: float | None = dual_effect
        method = "dual × quantity"
        if resolve:
            free = c.model_copy(
                update={
                    "committed_usd_per_year": 0.0,
                    "schedule_usd": None,
                    "total_usd": None,
                    "ramp": None,
                }
            )
            others = [free if k == ci else x for k, x in enumerate(spec.contracts)]
            without = _relaxed(replace(inputs, spec=spec.model_copy(update={"contracts": others})))
            if without is not None:
                c_effect, method = relaxed_objective - without, "re-solve"
        out.append(
            RuleCost(
                kind="contract",
                name=f"commitment of {c.id}",
                effect_usd=c_effect,
                method=method,
                marginal_usd=marginal,
                unit=UNITS["contract-spend-lower"],
            )
        )
    out += _binding_rows(built, duals, limit)
    return out


def _binding_rows(built: Built, duals: Float, limit: int) -> list[RuleCost]:
    """Other binding rows (limits, capacity), by decreasing marginal."""
    found: list[tuple[float, RuleCost]] = []
    for block in built.lp.row_blocks:
        base = block.family.split("@", 1)[0]
        if (
            base in INTERNAL
            or base in MECHANICS
            or "@" in block.family
            or base.startswith("contract-spend-lower")
        ):
            continue
        if base in _RULE_FAMILIES:
            continue  # priced with their rule
        d = duals[block.start : block.start + block.size]
        hit = np.flatnonzero(np.abs(d) > 1e-7)
        if hit.size == 0:
            continue
        labels = block.label(hit)
        for k, name in zip(hit.tolist(), labels, strict=True):
            r = block.start + k
            equal = built.lp.row_lower[r] == built.lp.row_upper[r]
            m = float(d[k] if equal else abs(d[k]))
            found.append(
                (
                    abs(m),
                    RuleCost(
                        kind="limit",
                        name=f"{block.family} {name}",
                        effect_usd=None,
                        method="marginal only",
                        marginal_usd=m,
                        unit=UNITS.get(base, "USD per unit of the row"),
                    ),
                )
            )
    found.sort(key=lambda f: -f[0])
    return [rc for _, rc in found[:limit]]
