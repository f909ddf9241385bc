"""Linear programs over a model's stoichiometry, kept alive between solves.

COBRApy rebuilds optlang (sympy) expressions whenever an objective changes; here a problem is
loaded into the solver once and then edited in place: column bounds, one objective vector, extra
rows. Each solve starts from the basis the previous one ended on (a hot start), so an FVA step or
a deletion is a handful of simplex pivots.

Two solvers sit behind one small interface:

- ``"glpk"`` (swiglpk, the solver COBRApy uses by default). Its per-solve fixed cost is the lowest
  measured here (about 0.16 ms on iJO1366), and its primal simplex re-optimises after an
  objective change in a few pivots. Used for the loops of FVA and deletion screens.
- ``"highs"`` (highspy). Exact about statuses, returns whole solution vectors at once; used for
  one-off solves where reading 2,500 values one by one through SWIG would cost more than the
  solve.

When a hot start ends in anything but an optimum, the problem is solved again from a fresh
basis with the other simplex variant before a status is believed (GLPK can stop on a basis that
lost feasibility through bound edits).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["LP", "GlpkLP", "HighsLP", "SolverName", "make_lp"]

SolverName = Literal["glpk", "highs"]
Status = Literal["optimal", "infeasible", "unbounded", "failed"]

FloatArray = NDArray[np.float64]


class LP(Protocol):
    """A linear program ``min/max c·x  s.t.  row_lb ≤ A x ≤ row_ub,  lb ≤ x ≤ ub``."""

    n_cols: int
    n_rows: int

    def set_col_bounds(self, j: int, lb: float, ub: float) -> None:
        """Set the bounds of column ``j``."""

    def set_row_bounds(self, i: int, lb: float, ub: float) -> None:
        """Set the bounds of row ``i``."""

    def add_row(self, cols: Sequence[int], vals: Sequence[float], lb: float, ub: float) -> int:
        """Append a row; returns its index."""

    def add_cols(self, n: int, lb: Sequence[float], ub: Sequence[float]) -> int:
        """Append ``n`` columns with no coefficients; returns the index of the first."""

    def set_coefficients(self, i: int, cols: Sequence[int], vals: Sequence[float]) -> None:
        """Replace row ``i``'s coefficients."""

    def set_objective(self, cols: Sequence[int], vals: Sequence[float], maximize: bool) -> None:
        """Make ``Σ vals[k]·x[cols[k]]`` the objective (all other coefficients zero)."""

    def solve(self, dual: bool = False, fresh: bool = False) -> tuple[Status, float]:
        """Optimise from the current basis; the status and the objective value (nan if none).

        ``fresh=True`` starts from a new (advanced) basis instead of the last one.

        ``dual=True`` asks for the dual simplex: the right start after bound changes (the old
        basis stays dual feasible), where the primal simplex suits objective changes.
        """

    def save_basis(self) -> object:
        """Return the current basis, to come back to with :meth:`restore_basis`."""

    def restore_basis(self, basis: object) -> None:
        """Start the next solve from a saved basis."""

    def value(self, j: int) -> float:
        """Return the primal value of column ``j`` in the last solution."""

    def values(self) -> FloatArray:
        """All primal column values of the last solution."""

    def row_duals(self) -> FloatArray:
        """Dual values of the rows (shadow prices) of the last solution."""

    def col_duals(self) -> FloatArray:
        """Reduced costs of the columns of the last solution."""


def _bounds_kind(lb: float, ub: float) -> tuple[int, float, float]:
    import swiglpk as glp

    lo_inf = math.isinf(lb) and lb < 0
    up_inf = math.isinf(ub) and ub > 0
    if lo_inf and up_inf:
        return glp.GLP_FR, 0.0, 0.0
    if lo_inf:
        return glp.GLP_UP, 0.0, ub
    if up_inf:
        return glp.GLP_LO, lb, 0.0
    if lb == ub:
        return glp.GLP_FX, lb, ub
    return glp.GLP_DB, lb, ub


def _int_array(glp: Any, values: list[int]) -> Any:
    """Return a 1-based GLPK int array (index 0 unused) owning its memory."""
    arr = glp.intArray(len(values) + 1)
    setitem = glp._swiglpk.intArray___setitem__
    for k, v in enumerate(values, 1):
        setitem(arr, k, v)
    return arr


def _double_array(glp: Any, values: list[float]) -> Any:
    """Return a 1-based GLPK double array (index 0 unused) owning its memory."""
    arr = glp.doubleArray(len(values) + 1)
    setitem = glp._swiglpk.doubleArray___setitem__
    for k, v in enumerate(values, 1):
        setitem(arr, k, v)
    return arr


class GlpkLP:
    """A GLPK problem (swiglpk) edited in place and re-solved from its last basis."""

    def __init__(
        self,
        matrix: sp.csr_matrix,
        lb: FloatArray,
        ub: FloatArray,
        row_lb: FloatArray,
        row_ub: FloatArray,
        *,
        tolerance: float = 1e-7,
    ) -> None:
        import swiglpk as glp

        self._glp = glp
        self._raw: Any = glp._swiglpk
        glp.glp_term_out(glp.GLP_OFF)
        self.n_rows: int = int(matrix.shape[0])
        self.n_cols: int = int(matrix.shape[1])
        lp = glp.glp_create_prob()
        self._lp = lp
        glp.glp_set_obj_dir(lp, glp.GLP_MAX)
        if self.n_rows:
            glp.glp_add_rows(lp, self.n_rows)
        glp.glp_add_cols(lp, self.n_cols)
        for i in range(self.n_rows):
            kind, lo, up = _bounds_kind(float(row_lb[i]), float(row_ub[i]))
            glp.glp_set_row_bnds(lp, i + 1, kind, lo, up)
        for j in range(self.n_cols):
            kind, lo, up = _bounds_kind(float(lb[j]), float(ub[j]))
            glp.glp_set_col_bnds(lp, j + 1, kind, lo, up)
        coo = matrix.tocoo()
        ne = int(coo.nnz)
        if ne:
            ia = _int_array(glp, (coo.row + 1).tolist())
            ja = _int_array(glp, (coo.col + 1).tolist())
            ar = _double_array(glp, coo.data.tolist())
            glp.glp_load_matrix(lp, ne, ia, ja, ar)
        self._objective: list[int] = []
        params = glp.glp_smcp()
        glp.glp_init_smcp(params)
        params.msg_lev = glp.GLP_MSG_OFF
        params.presolve = glp.GLP_OFF
        params.meth = glp.GLP_PRIMAL
        params.tol_bnd = tolerance
        params.tol_dj = tolerance
        self._it_lim = max(1000, self.n_rows // 2)
        params.it_lim = self._it_lim
        self._params = params
        glp.glp_scale_prob(lp, glp.GLP_SF_AUTO)
        glp.glp_adv_basis(lp, 0)

    def __del__(self) -> None:
        lp = getattr(self, "_lp", None)
        if lp is None:
            return
        self._lp = None
        delete = getattr(self._glp, "glp_delete_prob", None)
        # at interpreter exit swiglpk may be torn down before the problems kept in
        # flux.solved_lp's cache; the process's memory goes with it anyway
        if callable(delete):
            delete(lp)

    def __getstate__(self) -> None:  # pragma: no cover - guard
        raise TypeError("a GLPK problem cannot be pickled; send the ModelSpec instead")

    def clone(self) -> GlpkLP:
        """Return an independent copy: matrix, bounds, objective, scaling and basis.

        GLPK copies the problem in C (``glp_copy_prob``, ~0.4 ms on iJO1366, where rebuilding
        it from Python takes ~50 ms); the copy factorises its basis on its first solve.
        """
        twin = GlpkLP.__new__(GlpkLP)
        glp = self._glp
        twin._glp = glp
        twin._raw = self._raw
        twin._lp = glp.glp_create_prob()
        params = glp.glp_smcp()
        glp.glp_init_smcp(params)
        for name in ("msg_lev", "presolve", "meth", "tol_bnd", "tol_dj", "it_lim"):
            setattr(params, name, getattr(self._params, name))
        twin._params = params
        twin._it_lim = self._it_lim
        twin.load_from(self)
        return twin

    def load_from(self, other: GlpkLP) -> None:
        """Make this problem a copy of ``other`` (bounds, rows, objective and basis).

        Going back to a saved state this way costs a third of restoring 4,400 basis statuses
        one SWIG call at a time (measured on iJO1366: 0.4 ms against 0.9 ms).
        """
        self._glp.glp_copy_prob(self._lp, other._lp, self._glp.GLP_OFF)
        self.n_rows = other.n_rows
        self.n_cols = other.n_cols
        self._objective = list(other._objective)

    def set_col_bounds(self, j: int, lb: float, ub: float) -> None:
        """See :meth:`LP.set_col_bounds`."""
        kind, lo, up = _bounds_kind(lb, ub)
        self._glp.glp_set_col_bnds(self._lp, j + 1, kind, lo, up)

    def set_row_bounds(self, i: int, lb: float, ub: float) -> None:
        """See :meth:`LP.set_row_bounds`."""
        kind, lo, up = _bounds_kind(lb, ub)
        self._glp.glp_set_row_bnds(self._lp, i + 1, kind, lo, up)

    def add_row(self, cols: Sequence[int], vals: Sequence[float], lb: float, ub: float) -> int:
        """See :meth:`LP.add_row`."""
        glp = self._glp
        i = glp.glp_add_rows(self._lp, 1)
        self.n_rows += 1
        self.set_coefficients(i - 1, cols, vals)
        self.set_row_bounds(i - 1, lb, ub)
        return int(i - 1)

    def add_cols(self, n: int, lb: Sequence[float], ub: Sequence[float]) -> int:
        """See :meth:`LP.add_cols`."""
        glp = self._glp
        first = glp.glp_add_cols(self._lp, n)
        self.n_cols += n
        for k in range(n):
            self.set_col_bounds(first - 1 + k, float(lb[k]), float(ub[k]))
        return int(first - 1)

    def set_coefficients(self, i: int, cols: Sequence[int], vals: Sequence[float]) -> None:
        """See :meth:`LP.set_coefficients`."""
        glp = self._glp
        ind = _int_array(glp, [int(c) + 1 for c in cols])
        val = _double_array(glp, [float(v) for v in vals])
        glp.glp_set_mat_row(self._lp, i + 1, len(cols), ind, val)

    def set_objective(self, cols: Sequence[int], vals: Sequence[float], maximize: bool) -> None:
        """See :meth:`LP.set_objective`."""
        glp = self._glp
        lp = self._lp
        for j in self._objective:
            glp.glp_set_obj_coef(lp, j + 1, 0.0)
        for j, v in zip(cols, vals, strict=True):
            glp.glp_set_obj_coef(lp, int(j) + 1, float(v))
        self._objective = [int(j) for j in cols]
        glp.glp_set_obj_dir(lp, glp.GLP_MAX if maximize else glp.GLP_MIN)

    def _status(self) -> Status:
        glp = self._glp
        status = glp.glp_get_status(self._lp)
        if status == glp.GLP_OPT:
            return "optimal"
        if status == glp.GLP_NOFEAS:  # proven by phase 1; GLP_INFEAS is not a proof
            return "infeasible"
        if status == glp.GLP_UNBND:
            return "unbounded"
        return "failed"

    def solve(self, dual: bool = False, fresh: bool = False) -> tuple[Status, float]:
        """See :meth:`LP.solve`."""
        glp = self._glp
        lp = self._lp
        params = self._params
        if fresh:
            glp.glp_adv_basis(lp, 0)
        code = self._run(glp.GLP_DUALP, self._it_lim * 20) if dual else glp.glp_simplex(lp, params)
        if code == glp.GLP_EITLIM:
            # the primal simplex stalls on some degenerate vertices (hot starts of FVA on
            # iJO1366 at 90 % of optimum: EX_ac_e needs >20,000 primal pivots); the dual
            # simplex from the same basis finishes in a few hundred
            code = self._run(glp.GLP_DUALP, self._it_lim * 20)
        status = self._status() if code == 0 else "failed"
        if status == "failed":
            # a hot start can end on a basis the bound edits made singular or infeasible:
            # start again from an advanced basis with the dual simplex, then from the
            # standard basis with the primal simplex, before believing the status
            glp.glp_adv_basis(lp, 0)
            code = self._run(glp.GLP_DUALP, 2**31 - 1)
            status = self._status() if code == 0 else "failed"
            if status == "failed":
                glp.glp_std_basis(lp)
                code = self._run(glp.GLP_PRIMAL, 2**31 - 1)
                status = self._status() if code == 0 else "failed"
        if status != "optimal":
            return status, math.nan
        return status, float(glp.glp_get_obj_val(lp))

    def _run(self, method: int, it_lim: int) -> int:
        glp = self._glp
        params = self._params
        params.meth = method
        params.it_lim = it_lim
        try:
            return int(glp.glp_simplex(self._lp, params))
        finally:
            params.meth = glp.GLP_PRIMAL
            params.it_lim = self._it_lim

    def save_basis(self) -> object:
        """See :meth:`LP.save_basis`."""
        lp = self._lp
        get_row = self._raw.glp_get_row_stat
        get_col = self._raw.glp_get_col_stat
        rows = [get_row(lp, i) for i in range(1, self.n_rows + 1)]
        cols = [get_col(lp, j) for j in range(1, self.n_cols + 1)]
        return rows, cols

    def restore_basis(self, basis: object) -> None:
        """See :meth:`LP.restore_basis`."""
        lp = self._lp
        rows, cols = cast(tuple[list[int], list[int]], basis)
        # the compiled SWIG functions, without swiglpk's Python wrappers: half the cost, and
        # restoring 4,400 statuses is a third of a knock-out's time on iJO1366
        set_row = self._raw.glp_set_row_stat
        set_col = self._raw.glp_set_col_stat
        for i, stat in enumerate(rows, 1):
            set_row(lp, i, stat)
        for j, stat in enumerate(cols, 1):
            set_col(lp, j, stat)

    def value(self, j: int) -> float:
        """See :meth:`LP.value`."""
        return float(self._raw.glp_get_col_prim(self._lp, j + 1))

    def values(self) -> FloatArray:
        """See :meth:`LP.values`."""
        get = self._raw.glp_get_col_prim
        lp = self._lp
        return np.fromiter((get(lp, j) for j in range(1, self.n_cols + 1)), float, self.n_cols)

    def row_duals(self) -> FloatArray:
        """See :meth:`LP.row_duals`."""
        get = self._raw.glp_get_row_dual
        lp = self._lp
        return np.fromiter((get(lp, i) for i in range(1, self.n_rows + 1)), float, self.n_rows)

    def col_duals(self) -> FloatArray:
        """See :meth:`LP.col_duals`."""
        get = self._raw.glp_get_col_dual
        lp = self._lp
        return np.fromiter((get(lp, j) for j in range(1, self.n_cols + 1)), float, self.n_cols)


_HIGHS_GREETED = False


def _quiet_highs(highspy: Any) -> Any:
    """Return a new ``Highs`` object, without HiGHS's banner on the process's stdout.

    The first ``Highs`` of a process prints it before any option can be set, so that one is
    made with file descriptor 1 pointed at /dev/null.
    """
    global _HIGHS_GREETED
    if _HIGHS_GREETED:
        return highspy.Highs()
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _HIGHS_GREETED = True
    return h


class HighsLP:
    """A HiGHS problem (highspy) edited in place; HiGHS keeps its basis between runs."""

    def __init__(
        self,
        matrix: sp.csr_matrix,
        lb: FloatArray,
        ub: FloatArray,
        row_lb: FloatArray,
        row_ub: FloatArray,
        *,
        tolerance: float = 1e-7,
    ) -> None:
        import highspy

        self._hs = highspy
        h = _quiet_highs(highspy)
        h.setOptionValue("output_flag", False)
        # one thread: HiGHS starts its scheduler once per process, and a later Highs asking
        # for another thread count (optlang's, in the same notebook) would abort
        h.setOptionValue("threads", 1)
        h.setOptionValue("primal_feasibility_tolerance", tolerance)
        h.setOptionValue("dual_feasibility_tolerance", tolerance)
        h.setOptionValue("presolve", "off")
        self._h = h
        self.n_rows: int = int(matrix.shape[0])
        self.n_cols: int = int(matrix.shape[1])
        csc = sp.csc_matrix(matrix)
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = np.zeros(self.n_cols)
        lp.col_lower_ = np.where(np.isinf(lb), -highspy.kHighsInf, lb).astype(float)
        lp.col_upper_ = np.where(np.isinf(ub), highspy.kHighsInf, ub).astype(float)
        lp.row_lower_ = np.where(np.isinf(row_lb), -highspy.kHighsInf, row_lb).astype(float)
        lp.row_upper_ = np.where(np.isinf(row_ub), highspy.kHighsInf, row_ub).astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        lp.a_matrix_.num_col_ = self.n_cols
        lp.a_matrix_.num_row_ = self.n_rows
        h.passModel(lp)
        self._objective: list[int] = []
        self._solution: object | None = None

    @staticmethod
    def _inf(x: float) -> float:
        import highspy

        if math.isinf(x):
            return highspy.kHighsInf if x > 0 else -highspy.kHighsInf
        return x

    def set_col_bounds(self, j: int, lb: float, ub: float) -> None:
        """See :meth:`LP.set_col_bounds`."""
        self._h.changeColBounds(j, self._inf(lb), self._inf(ub))

    def set_row_bounds(self, i: int, lb: float, ub: float) -> None:
        """See :meth:`LP.set_row_bounds`."""
        self._h.changeRowBounds(i, self._inf(lb), self._inf(ub))

    def add_row(self, cols: Sequence[int], vals: Sequence[float], lb: float, ub: float) -> int:
        """See :meth:`LP.add_row`."""
        self._h.addRow(
            self._inf(lb),
            self._inf(ub),
            len(cols),
            np.asarray(cols, dtype=np.int32),
            np.asarray(vals, dtype=float),
        )
        self.n_rows += 1
        return self.n_rows - 1

    def add_cols(self, n: int, lb: Sequence[float], ub: Sequence[float]) -> int:
        """See :meth:`LP.add_cols`."""
        first = self.n_cols
        self._h.addVars(
            n,
            np.array([self._inf(float(x)) for x in lb]),
            np.array([self._inf(float(x)) for x in ub]),
        )
        self.n_cols += n
        return first

    def set_coefficients(self, i: int, cols: Sequence[int], vals: Sequence[float]) -> None:
        """See :meth:`LP.set_coefficients`."""
        for j, v in zip(cols, vals, strict=True):
            self._h.changeCoeff(i, int(j), float(v))

    def set_objective(self, cols: Sequence[int], vals: Sequence[float], maximize: bool) -> None:
        """See :meth:`LP.set_objective`."""
        hs = self._hs
        h = self._h
        if self._objective:
            idx = np.asarray(self._objective, dtype=np.int32)
            h.changeColsCost(len(idx), idx, np.zeros(len(idx)))
        if len(cols):
            h.changeColsCost(
                len(cols), np.asarray(cols, dtype=np.int32), np.asarray(vals, dtype=float)
            )
        self._objective = [int(j) for j in cols]
        h.changeObjectiveSense(hs.ObjSense.kMaximize if maximize else hs.ObjSense.kMinimize)

    def solve(self, dual: bool = False, fresh: bool = False) -> tuple[Status, float]:
        """See :meth:`LP.solve`."""
        hs = self._hs
        h = self._h
        if fresh:
            h.clearSolver()
        h.run()
        status = h.getModelStatus()
        self._solution = None
        if status == hs.HighsModelStatus.kOptimal:
            return "optimal", float(h.getInfo().objective_function_value)
        if status == hs.HighsModelStatus.kInfeasible:
            return "infeasible", math.nan
        if status in (hs.HighsModelStatus.kUnbounded, hs.HighsModelStatus.kUnboundedOrInfeasible):
            if status == hs.HighsModelStatus.kUnboundedOrInfeasible:
                # tell the two apart with presolve off and the primal simplex
                h.setOptionValue("simplex_strategy", 4)
                h.clearSolver()
                h.run()
                h.setOptionValue("simplex_strategy", 1)
                if h.getModelStatus() == hs.HighsModelStatus.kInfeasible:
                    return "infeasible", math.nan
            return "unbounded", math.nan
        return "failed", math.nan

    def save_basis(self) -> object:
        """See :meth:`LP.save_basis`."""
        return self._h.getBasis()

    def restore_basis(self, basis: object) -> None:
        """See :meth:`LP.restore_basis`."""
        self._h.setBasis(basis)

    def _sol(self) -> object:
        if self._solution is None:
            self._solution = self._h.getSolution()
        return self._solution

    def value(self, j: int) -> float:
        """See :meth:`LP.value`."""
        return float(self._sol().col_value[j])  # type: ignore[attr-defined]

    def values(self) -> FloatArray:
        """See :meth:`LP.values`."""
        return np.asarray(self._sol().col_value, dtype=np.float64)  # type: ignore[attr-defined]

    def row_duals(self) -> FloatArray:
        """See :meth:`LP.row_duals`."""
        return np.asarray(self._sol().row_dual, dtype=np.float64)  # type: ignore[attr-defined]

    def col_duals(self) -> FloatArray:
        """See :meth:`LP.col_duals`."""
        return np.asarray(self._sol().col_dual, dtype=np.float64)  # type: ignore[attr-defined]


def make_lp(
    solver: SolverName,
    matrix: sp.csr_matrix,
    lb: FloatArray,
    ub: FloatArray,
    row_lb: FloatArray | None = None,
    row_ub: FloatArray | None = None,
    *,
    tolerance: float = 1e-7,
) -> LP:
    """Return a problem of the named solver over ``matrix`` (rows fixed at zero unless given)."""
    m = matrix.shape[0]
    rlb = np.zeros(m) if row_lb is None else row_lb
    rub = np.zeros(m) if row_ub is None else row_ub
    if solver == "glpk":
        return GlpkLP(matrix, lb, ub, rlb, rub, tolerance=tolerance)
    if solver == "highs":
        return HighsLP(matrix, lb, ub, rlb, rub, tolerance=tolerance)
    raise ValueError(f"unknown solver {solver!r}: use 'glpk' or 'highs'")


def objective_terms(c: Iterable[float]) -> tuple[list[int], list[float]]:
    """Return the nonzero entries of an objective vector as (columns, values)."""
    cols: list[int] = []
    vals: list[float] = []
    for j, v in enumerate(c):
        if v:
            cols.append(j)
            vals.append(float(v))
    return cols, vals
