"""A linear program as arrays, and the builder that collects variable and row blocks.

Each variable family is one contiguous block of columns; each constraint family adds one block
of rows as sparse triplets ``(row, col, coef)`` in block-local row numbers. ``build`` stacks them
into one CSR matrix. No solver is imported here: the program can be built, inspected and
written without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Labeler = Callable[[IntArray], list[str]]


def concat_int(parts: list[NDArray[np.generic]]) -> IntArray:
    """Concatenate per-entity index arrays into one int64 array (empty when there are none)."""
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def concat_float(parts: list[NDArray[np.generic]]) -> FloatArray:
    """Concatenate per-entity value arrays into one float64 array (empty when there are none)."""
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


@dataclass(frozen=True)
class VarBlock:
    name: str
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size

    def cols(self, local: ArrayLike | None = None) -> IntArray:
        if local is None:
            return np.arange(self.start, self.stop, dtype=np.int64)
        return np.asarray(local, dtype=np.int64) + self.start


@dataclass(frozen=True)
class RowBlock:
    """A constraint family's rows: ``family`` is named ``entity-quantity-bound``."""

    family: str
    start: int
    size: int
    label: Labeler  # block-local row indices -> entity names, for reports
    description: str


@dataclass(frozen=True)
class LinearProgram:
    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    integer: NDArray[np.bool_]
    matrix: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    offset: float
    var_blocks: dict[str, VarBlock]
    row_blocks: tuple[RowBlock, ...]

    @property
    def num_cols(self) -> int:
        return int(self.cost.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def row_block(self, family: str) -> RowBlock | None:
        return next((b for b in self.row_blocks if b.family == family), None)


@dataclass
class LPBuilder:
    """Collects blocks; ``build`` makes the arrays in one pass."""

    _costs: list[FloatArray] = field(default_factory=list)
    _lo: list[FloatArray] = field(default_factory=list)
    _hi: list[FloatArray] = field(default_factory=list)
    _int: list[NDArray[np.bool_]] = field(default_factory=list)
    _vars: dict[str, VarBlock] = field(default_factory=dict)
    _rows: list[RowBlock] = field(default_factory=list)
    _r: list[IntArray] = field(default_factory=list)
    _c: list[IntArray] = field(default_factory=list)
    _v: list[FloatArray] = field(default_factory=list)
    _rlo: list[FloatArray] = field(default_factory=list)
    _rhi: list[FloatArray] = field(default_factory=list)
    num_cols: int = 0
    num_rows: int = 0
    offset: float = 0.0

    def add_vars(
        self,
        name: str,
        size: int,
        cost: ArrayLike = 0.0,
        lower: ArrayLike = 0.0,
        upper: ArrayLike = np.inf,
        integer: bool = False,
    ) -> VarBlock:
        block = VarBlock(name, self.num_cols, size)
        self._costs.append(np.broadcast_to(np.asarray(cost, float), (size,)).copy())
        self._lo.append(np.broadcast_to(np.asarray(lower, float), (size,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(upper, float), (size,)).copy())
        self._int.append(np.full(size, integer))
        self._vars[name] = block
        self.num_cols += size
        return block

    def add_rows(
        self,
        family: str,
        size: int,
        rows: ArrayLike,
        cols: ArrayLike,
        coefs: ArrayLike,
        lower: ArrayLike,
        upper: ArrayLike,
        label: Labeler,
        description: str,
    ) -> RowBlock:
        """Add ``size`` rows; ``rows`` are block-local (0..size-1)."""
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        v = np.broadcast_to(np.asarray(coefs, float), r.shape)
        block = RowBlock(family, self.num_rows, size, label, description)
        self._r.append(r + self.num_rows)
        self._c.append(c)
        self._v.append(np.array(v, dtype=float))
        self._rlo.append(np.broadcast_to(np.asarray(lower, float), (size,)).copy())
        self._rhi.append(np.broadcast_to(np.asarray(upper, float), (size,)).copy())
        self._rows.append(block)
        self.num_rows += size
        return block

    def build(self) -> LinearProgram:
        r = concat_int(list(self._r))
        c = concat_int(list(self._c))
        v = concat_float(list(self._v))
        keep = v != 0.0
        matrix = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=(self.num_rows, self.num_cols))
        matrix.sum_duplicates()
        integer = np.concatenate(self._int) if self._int else np.zeros(0, bool)
        return LinearProgram(
            cost=concat_float(list(self._costs)),
            col_lower=concat_float(list(self._lo)),
            col_upper=concat_float(list(self._hi)),
            integer=integer.astype(bool),
            matrix=matrix,
            row_lower=concat_float(list(self._rlo)),
            row_upper=concat_float(list(self._rhi)),
            offset=self.offset,
            var_blocks=dict(self._vars),
            row_blocks=tuple(self._rows),
        )
