"""The verifier's own small LP: the largest fraction of demand a set of nodes can serve.

One LP answers the regional capacity check (flows fixed by the plan), the spot-share check and
survivability (flows chosen afresh over the surviving nodes). It is built with scipy.sparse and
solved with ``scipy.optimize.linprog(method="highs")``; it shares nothing with the planner's LP.

Sets: demand entries e (requests/s D_e > 0 of one request class c_e, grouped into keys k such as
a service's period), flows φ (entry e_φ into block b_φ = one service's nodes in one region and
period), cells a (one offering's nodes n_a in block b_a, serving class c at r_ac requests/s per
node, derated by spot availability), optional cap groups (cells whose carried requests/s are
capped together: a service's spot capacity in a period).

    maximize Σ_k λ_k  subject to
      λ_k(e) · D_e − Σ_{φ: e_φ = e} f_φ ≤ 0                      (each entry served at λ)
      Σ_{φ: b_φ = b, c_φ = c} f_φ − Σ_{a ∈ b} l_{a,c} ≤ 0          (class loads of a block)
      Σ_c l_{a,c} / r_{a,c} ≤ n_a                                  (node capacity)
      Σ_{a ∈ group} Σ_c l_{a,c} ≤ cap_group                        (spot share)
      0 ≤ λ ≤ 1, f ≥ 0, l ≥ 0.

Keys share no row unless a cap group spans their blocks, so maximizing the sum maximizes every
λ_k in the checks that use no caps.
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
    entry_class: Int  # [E] class column of the entry in cell_rate
    entry_demand: Float  # [E] requests/s, > 0
    flow_entry: Int  # [F]
    flow_block: Int  # [F]
    n_blocks: int
    cell_block: Int  # [A]
    cell_nodes: Float  # [A]
    cell_rate: Float  # [A, C] requests/s per node (0 where a class cannot run)
    cell_cap_group: Int | None = None  # [A] cap group or -1
    cap: Float | None = None  # [groups] requests/s


def max_fractions(lp: FractionLP) -> tuple[Float, bool]:
    """λ_k for each key (1 for keys with no entry), and whether HiGHS solved the LP."""
    n_k, n_e, n_f = lp.n_keys, len(lp.entry_key), len(lp.flow_entry)
    n_c = lp.cell_rate.shape[1] if lp.cell_rate.ndim == 2 else 1
    if n_e == 0:
        return np.ones(n_k), True
    flow_class = lp.entry_class[lp.flow_entry]
    # (block, class) pairs that receive flows; loads exist only there and where r > 0
    wanted = np.zeros((lp.n_blocks, n_c), dtype=bool)
    wanted[lp.flow_block, flow_class] = True
    la, lc = np.nonzero((lp.cell_rate > 0) & wanted[lp.cell_block])
    n_l = la.size
    off_f, off_l = n_k, n_k + n_f
    n_var = n_k + n_f + n_l

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
    r2 = sp.coo_matrix(
        (
            np.concatenate([np.ones(n_f), -np.ones(n_l)]),
            (
                np.concatenate([lp.flow_block * n_c + flow_class, lp.cell_block[la] * n_c + lc]),
                np.concatenate([off_f + np.arange(n_f), off_l + np.arange(n_l)]),
            ),
        ),
        shape=(lp.n_blocks * n_c, n_var),
    )
    r3 = sp.coo_matrix(
        (1.0 / lp.cell_rate[la, lc], (la, off_l + np.arange(n_l))),
        shape=(len(lp.cell_block), n_var),
    )
    parts = [r1, r2, r3]
    b_ub = [np.zeros(n_e + lp.n_blocks * n_c), lp.cell_nodes]
    if lp.cell_cap_group is not None and lp.cap is not None:
        g = lp.cell_cap_group[la]
        on = g >= 0
        parts.append(
            sp.coo_matrix(
                (np.ones(int(on.sum())), (g[on], off_l + np.nonzero(on)[0])),
                shape=(lp.cap.size, n_var),
            )
        )
        b_ub.append(lp.cap)
    a_ub = sp.vstack(parts).tocsr()
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = np.inf
    bounds[:n_k, 1] = 1.0
    cost = np.zeros(n_var)
    cost[:n_k] = -1.0
    res = linprog(cost, A_ub=a_ub, b_ub=np.concatenate(b_ub), bounds=bounds, method="highs")
    if res.status != 0:
        return np.zeros(n_k), False
    lam = np.clip(np.asarray(res.x[:n_k], dtype=float), 0.0, 1.0)
    has_entry = np.zeros(n_k, dtype=bool)
    has_entry[lp.entry_key] = True
    return np.where(has_entry, lam, 1.0), True
