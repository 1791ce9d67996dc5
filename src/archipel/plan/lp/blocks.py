"""Independent blocks of a linear program: the connected components of its rows and columns.

Two columns are in the same block when some row links them, directly or through other rows.
A block shares no row with another, so the blocks can be solved one by one and their solutions
and bounds added up: the optimum of the whole is the sum of the blocks' optima. In a plan the
blocks are usually the calendar years (contracts couple the periods of a year; a training run
couples the periods of its window; a diversification cap couples everything). Pure: arrays in,
arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from archipel.plan.lp.program import IntArray, LinearProgram


@dataclass(frozen=True)
class Block:
    rows: IntArray
    cols: IntArray
    has_integer: bool


def independent_blocks(lp: LinearProgram) -> list[Block]:
    """The components of the row–column graph, largest first; columns in no row and rows with
    no column form their own one-element blocks (kept so that nothing is lost)."""
    m, n = lp.num_rows, lp.num_cols
    coo = lp.matrix.tocoo()
    graph = sp.coo_matrix((np.ones(coo.nnz), (coo.row, m + coo.col)), shape=(m + n, m + n)).tocsr()
    count, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    blocks = []
    for k in range(count):
        members = order[bounds[k] : bounds[k + 1]]
        rows = members[members < m].astype(np.int64)
        cols = (members[members >= m] - m).astype(np.int64)
        blocks.append(Block(rows, cols, bool(lp.integer[cols].any())))
    blocks.sort(key=lambda b: -(b.rows.size + b.cols.size))
    return blocks


def merge_blocks(blocks: list[Block]) -> Block:
    """One block holding the rows and columns of several (still independent inside)."""
    rows = np.sort(np.concatenate([b.rows for b in blocks])) if blocks else np.zeros(0, np.int64)
    cols = np.sort(np.concatenate([b.cols for b in blocks])) if blocks else np.zeros(0, np.int64)
    return Block(rows, cols, any(b.has_integer for b in blocks))


def restrict(lp: LinearProgram, block: Block) -> LinearProgram:
    """The sub-problem of one block: its rows, its columns, no objective offset."""
    matrix = lp.matrix[block.rows][:, block.cols].tocsr()
    return replace(
        lp,
        cost=lp.cost[block.cols],
        col_lower=lp.col_lower[block.cols],
        col_upper=lp.col_upper[block.cols],
        integer=lp.integer[block.cols],
        matrix=matrix,
        row_lower=lp.row_lower[block.rows],
        row_upper=lp.row_upper[block.rows],
        offset=0.0,
        var_blocks={},
        row_blocks=(),
    )
