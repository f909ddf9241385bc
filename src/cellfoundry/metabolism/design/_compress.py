"""Network compression for strain-design MILPs: fewer columns, same steady states.

A knock-out search on a genome-scale model spends its time in the size of the MILP, so the
network is first reduced to what can matter, without changing any steady state:

1. bounds are tightened to the flux ranges of the wild type (flux variability at 0 % of the
   optimum): knock-outs only remove steady states, so the ranges bound every mutant too; a
   reversible reaction that can run one way only becomes irreversible;
2. reactions that cannot carry flux (range ``[0, 0]``) are removed;
3. a metabolite that only two reactions touch fixes their ratio
   (``S[i,a]·v[a] + S[i,b]·v[b] = 0``): the two become one column (a lumped reaction, as in
   the compression of elementary-mode tools), the metabolite row goes, and the lumped
   column's bounds are the intersection of both. Repeated until no such metabolite is left
   (each merge can make another);
4. rows left without coefficients are dropped.

Knocking out a lumped column is knocking out any one of its members. Every column remembers
its members and their ratios (``v[member] = ratio · v[column]``), so solutions map back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.metabolism.model import ModelSpec

__all__ = ["CompressedNetwork", "compress"]

FloatArray = NDArray[np.float64]

# coefficients below this after a merge are rounding noise (a metabolite the merge cancelled)
_ZERO_COEF = 1e-11
# a flux range within this of zero is a blocked reaction
_ZERO_FLUX = 1e-8


@dataclass(frozen=True)
class CompressedNetwork:
    """A compressed network: ``S v = 0``, ``lb ≤ v ≤ ub`` over lumped columns.

    ``members[k]`` lists ``(reaction index, ratio)`` of column ``k``: each member's flux is
    ``ratio · v[k]``. ``column_of[j]`` is the column of original reaction ``j`` (-1 when the
    reaction is blocked) and ``ratio_of[j]`` its ratio.
    """

    S: sp.csr_matrix
    lb: FloatArray
    ub: FloatArray
    members: tuple[tuple[tuple[int, float], ...], ...]
    column_of: NDArray[np.int64]
    ratio_of: FloatArray
    n_original: int

    @property
    def n_columns(self) -> int:
        """N columns."""
        return int(self.S.shape[1])

    def lift(self, c: FloatArray) -> FloatArray:
        """Return a linear function of the original fluxes as one of the columns.

        ``c·v_original = lift(c)·v_columns`` because every original flux is a multiple of one
        column's (blocked reactions carry none).
        """
        out = np.zeros(self.n_columns)
        for j in np.flatnonzero(c):
            k = int(self.column_of[j])
            if k >= 0:
                out[k] += float(c[j]) * float(self.ratio_of[j])
        return out

    def expand(self, x: FloatArray) -> FloatArray:
        """Return the original fluxes of a column flux vector."""
        v = np.zeros(self.n_original)
        keep = self.column_of >= 0
        v[keep] = self.ratio_of[keep] * x[self.column_of[keep]]
        return v


def compress(spec: ModelSpec, lb: FloatArray, ub: FloatArray) -> CompressedNetwork:
    """Compress ``spec``'s network under the bounds ``lb``/``ub`` (see the module docstring).

    ``lb`` and ``ub`` should be the flux ranges of the network (flux variability at 0 % of the
    optimum), so that blocked reactions are exactly those with ``lb = ub = 0``.

    Examples
    --------
    >>> import cobra.io
    >>> from cellfoundry.metabolism import fva, load_model
    >>> spec = load_model(cobra.io.load_model("textbook"))
    >>> ranges = fva(spec, fraction_of_optimum=0.0)
    >>> net = compress(spec, ranges["minimum"].to_numpy(), ranges["maximum"].to_numpy())
    >>> net.n_columns < spec.n_reactions
    True
    """
    n = spec.n_reactions
    csc = sp.csc_matrix(spec.S)
    lo = np.array(lb, dtype=float)
    hi = np.array(ub, dtype=float)
    lo[np.abs(lo) < _ZERO_FLUX] = 0.0
    hi[np.abs(hi) < _ZERO_FLUX] = 0.0
    alive = ~((lo == 0.0) & (hi == 0.0))
    # columns as {row: coefficient}; rows as the set of columns touching them
    cols: dict[int, dict[int, float]] = {}
    rows: dict[int, set[int]] = {}
    members: dict[int, list[tuple[int, float]]] = {}
    for j in np.flatnonzero(alive).tolist():
        start, stop = csc.indptr[j], csc.indptr[j + 1]
        entries = dict(
            zip(csc.indices[start:stop].tolist(), csc.data[start:stop].tolist(), strict=True)
        )
        cols[j] = entries
        members[j] = [(j, 1.0)]
        for i in entries:
            rows.setdefault(i, set()).add(j)
    queue = [i for i, touching in rows.items() if len(touching) <= 2]
    while queue:
        i = queue.pop()
        touching = rows.get(i)
        if touching is None:
            continue
        if len(touching) == 0:
            del rows[i]
            continue
        if len(touching) == 1:
            # one reaction alone on a metabolite cannot carry flux at steady state
            (a,) = touching
            _drop_column(a, cols, rows, queue)
            members.pop(a)
            continue
        if len(touching) > 2:
            continue
        a, b = sorted(touching)
        r = -cols[a][i] / cols[b][i]  # v_b = r·v_a
        # v_b's bounds, seen as bounds on v_a
        b_lo, b_hi = (lo[b] / r, hi[b] / r) if r > 0 else (hi[b] / r, lo[b] / r)
        lo[a] = max(lo[a], b_lo)
        hi[a] = min(hi[a], b_hi)
        merged = dict(cols[a])
        for row, coef in cols[b].items():
            value = merged.get(row, 0.0) + r * coef
            merged[row] = value
        _drop_column(b, cols, rows, None)
        for row in list(cols[a]):
            rows[row].discard(a)
        cols[a] = {}
        for row, coef in merged.items():
            if abs(coef) > _ZERO_COEF:
                cols[a][row] = coef
                rows[row].add(a)
        for row in merged:
            if row in rows and len(rows[row]) <= 2:
                queue.append(row)
        members[a].extend((m, ratio * r) for m, ratio in members.pop(b))
        if hi[a] - lo[a] < -_ZERO_FLUX or (abs(lo[a]) < _ZERO_FLUX and abs(hi[a]) < _ZERO_FLUX):
            # the two ranges do not meet away from zero: the pair is blocked
            _drop_column(a, cols, rows, queue)
            members.pop(a)
    kept_cols = sorted(cols)
    kept_rows = sorted(i for i, touching in rows.items() if touching)
    row_pos = {i: k for k, i in enumerate(kept_rows)}
    data: list[float] = []
    r_idx: list[int] = []
    c_idx: list[int] = []
    for k, j in enumerate(kept_cols):
        for i, coef in cols[j].items():
            r_idx.append(row_pos[i])
            c_idx.append(k)
            data.append(coef)
    matrix = sp.csr_matrix(
        (data, (r_idx, c_idx)), shape=(len(kept_rows), len(kept_cols)), dtype=float
    )
    column_of = np.full(n, -1, dtype=np.int64)
    ratio_of = np.zeros(n)
    out_members: list[tuple[tuple[int, float], ...]] = []
    for k, j in enumerate(kept_cols):
        group = tuple(members[j])
        out_members.append(group)
        for m, ratio in group:
            column_of[m] = k
            ratio_of[m] = ratio
    return CompressedNetwork(
        S=matrix,
        lb=np.array([lo[j] for j in kept_cols]),
        ub=np.array([hi[j] for j in kept_cols]),
        members=tuple(out_members),
        column_of=column_of,
        ratio_of=ratio_of,
        n_original=n,
    )


def _drop_column(
    j: int,
    cols: dict[int, dict[int, float]],
    rows: dict[int, set[int]],
    queue: list[int] | None,
) -> None:
    for row in cols.pop(j, {}):
        touching = rows.get(row)
        if touching is None:
            continue
        touching.discard(j)
        if queue is not None and len(touching) <= 2:
            queue.append(row)
