"""The verifier's own small LP: the largest fraction of demand a set of nodes can serve.

One LP answers both the regional capacity check (flows fixed by the plan) and survivability
(flows chosen afresh over the surviving nodes). It is built with scipy.sparse and solved with
``scipy.optimize.linprog(method="highs")``; it shares nothing with the planner's LP.

Sets: demand entries e (a geography's demand D_e > 0, grouped into keys k such as a service's
period), flows φ (entry e_φ into block b_φ = one service's nodes in one region and period),
cells a (one offering's nodes n_a in block b_a, serving class c at r_ac requests/s per node).

    maximize Σ_k λ_k  subject to
      λ_k(e) · D_e − Σ_{φ: e_φ = e} f_φ ≤ 0                  (each entry served at fraction λ)
      share_{b,c} · Σ_{φ: b_φ = b} f_φ − Σ_{a ∈ b} l_{a,c} ≤ 0   (class loads of a block)
      Σ_c l_{a,c} / r_{a,c} ≤ n_a                                (node capacity)
      0 ≤ λ ≤ 1, f ≥ 0, l ≥ 0.

Blocks are independent across keys, so maximizing the sum maximizes every λ_k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from archipel.plan.verify_facts import Float, Int


@dataclass(frozen=True)
class FractionLP:
    """Arrays describing one instance (see the module docstring)."""

    n_keys: int
    entry_key: Int  # [E]
    entry_demand: Float  # [E] requests/s, > 0
    flow_entry: Int  # [F]
    flow_block: Int  # [F]
    block_shares: Float  # [B, C] class shares of each block's load (0-padded)
    cell_block: Int  # [A]
    cell_nodes: Float  # [A]
    cell_rate: Float  # [A, C] requests/s per node (0 where a class cannot run)


def max_fractions(lp: FractionLP) -> tuple[Float, bool]:
    """λ_k for each key (1 for keys with no entry), and whether HiGHS solved the LP."""
    n_k, n_e, n_f = lp.n_keys, len(lp.entry_key), len(lp.flow_entry)
    n_b, n_c = lp.block_shares.shape
    if n_e == 0:
        return np.ones(n_k), True
    cell_has = (lp.cell_rate > 0) & (lp.block_shares[lp.cell_block] > 0)
    la, lc = np.nonzero(cell_has)  # l variables
    n_l = len(la)
    off_f, off_l = n_k, n_k + n_f
    n_var = n_k + n_f + n_l

    # rows 1: per entry
    r1 = sp.coo_matrix(
        (
            np.concatenate([lp.entry_demand, -np.ones(n_f)]),
            (
                np.concatenate([np.arange(n_e), lp.flow_entry]),
                np.concatenate([lp.entry_key, off_f + np.arange(n_f)]),
            ),
        ),
        shape=(n_e, n_var),
    )
    # rows 2: per (block, class), row id = b * C + c
    fb = np.repeat(lp.flow_block, n_c)
    fc = np.tile(np.arange(n_c), n_f)
    fs = lp.block_shares[fb, fc]
    keep = fs > 0
    r2 = sp.coo_matrix(
        (
            np.concatenate([fs[keep], -np.ones(n_l)]),
            (
                np.concatenate([fb[keep] * n_c + fc[keep], lp.cell_block[la] * n_c + lc]),
                np.concatenate(
                    [off_f + np.repeat(np.arange(n_f), n_c)[keep], off_l + np.arange(n_l)]
                ),
            ),
        ),
        shape=(n_b * n_c, n_var),
    )
    # rows 3: per cell
    r3 = sp.coo_matrix(
        (1.0 / lp.cell_rate[la, lc], (la, off_l + np.arange(n_l))),
        shape=(len(lp.cell_block), n_var),
    )
    a_ub = sp.vstack([r1, r2, r3]).tocsr()
    b_ub = np.concatenate([np.zeros(n_e + n_b * n_c), lp.cell_nodes])
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[:n_k, 1] = 1.0
    cost = np.zeros(n_var)
    cost[:n_k] = -1.0
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        return np.zeros(n_k), False
    lam = np.clip(np.asarray(res.x[:n_k], dtype=float), 0.0, 1.0)
    has_entry = np.zeros(n_k, dtype=bool)
    has_entry[lp.entry_key] = True
    return np.where(has_entry, lam, 1.0), True
