"""Infeasible is an answer: an elastic re-solve that finds the smallest relaxation.

Each row of a relaxable family gets a slack column (on the side that can bind), weighted by
1 / max(1, |rhs|) so that relaxations are compared relative to their size, and every original
cost is set to zero. The rows whose slack is positive at the optimum are the blockers; the slack
is how much that rule or capacity would have to give.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from archipel.plan.lp.build import Built
from archipel.plan.lp.program import LinearProgram, RowBlock
from archipel.plan.result import Blocker
from archipel.plan.solvers.highs import Outcome, solve

# family (without scenario tag) -> (unit, what it means when relaxed)
RELAXABLE: dict[str, tuple[str, str]] = {
    "service-demand-equal": ("requests/s", "demand that no allowed region can serve"),
    "job-work-lower": ("share of the job", "training work that cannot be finished in the window"),
    "job-accelerators-lower": ("accelerators", "accelerators short of the job's smallest gang"),
    "job-accelerators-upper": ("accelerators", "accelerators above the job's largest gang"),
    "offering-nodes-upper": ("nodes", "nodes needed beyond the offering's capacity"),
    "provider-accelerators-upper": (
        "accelerators",
        "accelerators needed beyond the provider limit",
    ),
    "provider-spend-share-upper": ("USD", "spend above the diversification cap"),
    "service-providers-lower": ("providers", "providers missing for the minimum-providers rule"),
    "service-spot-share-upper": ("requests/s", "requests/s above the service's spot share"),
    "provider-ramp-share-lower": (
        "requests/s",
        "requests/s the traffic ramp requires on the provider that it cannot carry",
    ),
    "provider-ramp-share-upper": ("requests/s", "requests/s above the traffic ramp's max_share"),
    "provider-share-gain-upper": (
        "requests/s",
        "requests/s moved onto the provider beyond the migration limit",
    ),
    "provider-share-loss-upper": (
        "requests/s",
        "requests/s moved off the provider beyond the migration limit",
    ),
    "job-single-node-upper": ("nodes", "nodes beyond one on instance types without a fabric"),
    "job-choice-work-lower": (
        "share of the job",
        "training work that no one accelerator type (and region) can finish in the window",
    ),
    "job-choice-gang-lower": (
        "accelerators",
        "accelerators short of the smallest gang on the job's accelerator type (and region)",
    ),
}


def explain(built: Built, time_limit_s: float | None = None) -> list[Blocker]:
    """The smallest relaxation: of the LP relaxation when it is infeasible, else of the
    whole-node model (whole nodes that cannot fit a capacity the fractional plan fits)."""
    lp = built.lp
    relaxed = solve(lp, integer=False, time_limit_s=time_limit_s)
    integer = relaxed.outcome != Outcome.INFEASIBLE
    sides: list[tuple[int, float, RowBlock]] = []  # (row, sign, its row block)
    for block in lp.row_blocks:
        base = block.family.split("@", 1)[0]
        if base not in RELAXABLE:
            continue
        rows = np.arange(block.start, block.start + block.size)
        lo, hi = lp.row_lower[rows], lp.row_upper[rows]
        # several blocks may share a family name (one per provider limit): keep the block
        sides += [(int(r), 1.0, block) for r in rows[np.isfinite(lo)]]
        sides += [(int(r), -1.0, block) for r in rows[np.isfinite(hi) & ~np.isfinite(lo)]]
    if not sides:
        return []
    rows = np.array([s[0] for s in sides])
    signs = np.array([s[1] for s in sides])
    rhs = np.where(signs > 0, lp.row_lower[rows], lp.row_upper[rows])
    k = rows.size
    slack = sp.csr_matrix((signs, (rows, np.arange(k))), shape=(lp.num_rows, k))
    elastic = replace(
        lp,
        cost=np.concatenate([np.zeros(lp.num_cols), 1.0 / np.maximum(1.0, np.abs(rhs))]),
        col_lower=np.concatenate([lp.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([lp.col_upper, np.full(k, np.inf)]),
        integer=np.concatenate([lp.integer, np.zeros(k, bool)]),
        matrix=sp.hstack([lp.matrix, slack], format="csr"),
        offset=0.0,
    )
    sol = solve(elastic, integer=integer, time_limit_s=time_limit_s)
    if sol.x is None or sol.outcome not in (Outcome.OPTIMAL, Outcome.FEASIBLE):
        return []
    s = sol.x[lp.num_cols :]
    out: list[Blocker] = []
    for j in np.nonzero(s > 1e-9 * np.maximum(1.0, np.abs(rhs)))[0]:
        block = sides[j][2]
        family = block.family
        entity = block.label(np.array([rows[j] - block.start]))[0]
        unit, meaning = RELAXABLE[family.split("@", 1)[0]]
        extra = ""
        if family.startswith("service-demand-equal") and _empty_row(lp, int(rows[j])):
            extra = " (no region is both within the latency SLO and allowed by the rules)"
        scen = f" when {family.split('@', 1)[1]} is lost" if "@" in family else ""
        out.append(
            Blocker(
                family=family,
                entity=entity,
                shortfall=float(s[j]),
                unit=unit,
                description=f"{meaning}{scen}{extra}: relax by {s[j]:,.4g} {unit}",
            )
        )
    out.sort(key=lambda b: -b.shortfall)
    return out


def _empty_row(lp: LinearProgram, row: int) -> bool:
    return bool(lp.matrix.indptr[row + 1] == lp.matrix.indptr[row])
