"""Thermodynamically infeasible loops: which reactions can cycle, and loopless FVA.

A *loop* (a type III pathway) is a steady-state flux distribution that uses no boundary
reaction: flux goes round a cycle of internal reactions, as a perpetual-motion machine would.
Plain FVA reports such cycles as huge ranges (``FRD7`` and ``SUCDi`` of *E. coli* core each
reach 1000 by driving each other round). Two analyses, with COBRApy's names and shapes:

* :func:`find_cyclic_reactions` (``cobra.flux_analysis.find_cyclic_reactions``): the internal
  reactions that can take part in a loop, and in which direction, from the stoichiometry and
  the reaction directions alone.
* :func:`loopless_ranges`, used by ``flux_variability_analysis(..., loopless=True)``: COBRApy's
  default loopless FVA (``loopless="cycleFreeFlux"``). Only the extremes a cyclic reaction can
  reach through a loop are revisited; each is cleaned with CycleFreeFlux (Desouki et al. 2015):
  with the boundary fluxes of the extreme fixed, and every internal flux kept in its direction
  and below its value, the least total flux removes the loops. If the extreme survives it is
  loopless; otherwise the reactions that only the loop uses are closed and the extreme is
  solved again (COBRApy's ``loopless_fva_iter``).

One departure from COBRApy: the reaction being optimised is never among the reactions closed
in that last step. COBRApy closes it when the loop-free solution happens not to use it, which
makes the answer 0 whatever the true loopless extreme is (on *E. coli* core at 50 % of the
optimal growth, COBRApy with GLPK gives ``SUCDi`` a loopless maximum of 0; with HiGHS, from
another optimal vertex, 13.36, which is right). Where COBRApy does not hit that case the
results are the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.flux import base_lp, raise_for_status
from cellfoundry.metabolism.lp import LP, SolverName, make_lp, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = ["TOLERANCE", "find_cyclic_reactions", "loopless_ranges"]

# COBRApy's ``model.tolerance`` (the solvers' feasibility tolerance): the default zero cutoff
TOLERANCE = 1e-7

# random objectives in a row that must find no new cyclic reaction before the search stops
_STOP_CHECKS = 3


def zero_cutoff_or_default(zero_cutoff: float | None) -> float:
    """COBRApy's ``normalize_cutoff``: the tolerance by default, never below it."""
    if zero_cutoff is None:
        return TOLERANCE
    if not (isinstance(zero_cutoff, int | float) and zero_cutoff >= TOLERANCE):
        raise ValidationError(
            f"zero cutoff {zero_cutoff!r} must be a number no smaller than the solver "
            f"tolerance {TOLERANCE:g}",
            field="zero_cutoff",
        )
    return float(zero_cutoff)


def internal_reactions(spec: ModelSpec) -> NDArray[np.int64]:
    """Columns of the reactions that are not boundary reactions."""
    mask = np.ones(spec.n_reactions, dtype=bool)
    mask[spec.boundary] = False
    return np.flatnonzero(mask)


def find_cyclic_reactions(
    model: ModelSource,
    zero_cutoff: float | None = None,
    bound: float = 1e4,
    *,
    solver: SolverName = "glpk",
    seed: int = 0,
) -> tuple[list[str], list[tuple[bool, bool]]]:
    """Find the internal reactions that can carry flux in a loop, and in which directions.

    COBRApy's ``find_cyclic_reactions``: only the stoichiometry and the reaction directions
    count (every boundary reaction is closed, every internal reaction may run up to ``bound``
    in each direction its bounds allow). A reaction reported here may still be unable to loop
    under the model's actual bounds; a reaction not reported cannot loop at all.

    Parameters
    ----------
    model
        A model file path, a ``cobra.Model`` or a :class:`ModelSpec`.
    zero_cutoff
        Fluxes below this are zero (default: the solver tolerance, 1e-7).
    bound
        The flux bound each internal reaction gets in its allowed directions.
    solver
        ``"glpk"`` or ``"highs"``.
    seed
        Seed of the random objectives that find many cyclic reactions at once (the result does
        not depend on it, up to a vanishing chance of a missed reaction, as in COBRApy).

    Returns
    -------
    tuple of (list of str, list of (bool, bool))
        Reaction ids in model order, and for each ``(can_be_negative, can_be_positive)``.

    Examples
    --------
    >>> import cobra.io
    >>> find_cyclic_reactions(cobra.io.load_model("textbook"))
    (['FRD7', 'SUCDi'], [(False, True), (False, True)])
    """
    spec = load_model(model)
    cutoff = zero_cutoff_or_default(zero_cutoff)
    internal = internal_reactions(spec)
    n = len(internal)
    if n == 0:
        return [], []
    s_int = sp.csr_matrix(spec.S[:, internal])
    s_int = s_int[np.flatnonzero(np.diff(s_int.indptr)), :]
    lo = np.where(spec.lb[internal] < 0, -bound, 0.0)
    up = np.where(spec.ub[internal] > 0, bound, 0.0)
    lp = make_lp(solver, sp.csr_matrix(s_int), lo, up)
    can_pos = np.zeros(n, dtype=bool)
    can_neg = np.zeros(n, dtype=bool)

    def record(x: NDArray[np.float64]) -> None:
        can_pos[x > cutoff] = True
        can_neg[x < -cutoff] = True

    # phase 1 (COBRApy's "optimized" method): random weights on the reactions not yet known to
    # be cyclic; any loop left moves a random objective off zero with probability one
    rng = np.random.default_rng(seed)
    misses = 0
    order = [True, False]
    while misses < _STOP_CHECKS:
        unknown = np.flatnonzero(~(can_pos | can_neg))
        if len(unknown) == 0:
            break
        weights = rng.uniform(0.5, 1.0, len(unknown)) * rng.choice([-1.0, 1.0], len(unknown))
        found = False
        for maximize in order:
            lp.set_objective(unknown.tolist(), weights.tolist(), maximize)
            status, value = lp.solve()
            _check(spec, status)
            if abs(value) > cutoff:
                record(lp.values())
                # a new cyclic reaction, not just a sum of fluxes each below the cutoff
                found = bool((can_pos | can_neg)[unknown].any())
                break
        if found:
            misses = 0
        else:
            misses += 1
            order.reverse()
    # phase 2: the other direction of each cyclic reaction, one LP each
    for k in np.flatnonzero(can_pos | can_neg):
        for maximize, known, allowed in ((True, can_pos, up), (False, can_neg, lo)):
            if known[k] or allowed[k] == 0:
                continue
            lp.set_objective([int(k)], [1.0 if maximize else -1.0], True)
            status, value = lp.solve()
            _check(spec, status)
            if value > cutoff:
                record(lp.values())
    ids: list[str] = []
    directions: list[tuple[bool, bool]] = []
    for k in np.flatnonzero(can_pos | can_neg):
        ids.append(spec.reactions[int(internal[k])])
        directions.append((bool(can_neg[k]), bool(can_pos[k])))
    return ids, directions


def _check(spec: ModelSpec, status: str) -> None:
    if status != "optimal":  # the loop problem always has the zero solution
        raise ValidationError(f"the solver failed on the loop problem of model {spec.id!r}")


def _objective_row(lp: LP, spec: ModelSpec, bound: float) -> None:
    """Keep the model's objective at ``bound`` or better (the FVA fraction constraint)."""
    cols, vals = objective_terms(spec.objective)
    lp.add_row(
        cols,
        vals,
        bound if spec.maximize else -math.inf,
        math.inf if spec.maximize else bound,
    )


def loopless_ranges(
    spec: ModelSpec,
    frame: pd.DataFrame,
    bound: float,
    solver: SolverName = "glpk",
    *,
    zero_cutoff: float | None = None,
) -> pd.DataFrame:
    """Loopless FVA: remove loops from the extremes of a plain FVA frame (CycleFreeFlux).

    Parameters
    ----------
    spec
        The compiled model.
    frame
        Plain FVA result: indexed by reaction id, columns ``minimum`` and ``maximum``.
    bound
        The objective bound of that FVA (``fraction_of_optimum`` times the optimum).
    solver
        ``"glpk"`` or ``"highs"``.
    zero_cutoff
        Fluxes below this are zero (default: the solver tolerance, 1e-7).

    Returns
    -------
    pandas.DataFrame
        The frame with the extremes that only a loop reached replaced by loopless ones.

    References
    ----------
    .. [1] Desouki AA, Jarre F, Gelius-Dietrich G, Lercher MJ. CycleFreeFlux: efficient
       removal of thermodynamically infeasible loops from flux distributions.
       Bioinformatics 31(13):2159-65 (2015). doi:10.1093/bioinformatics/btv096

    Examples
    --------
    >>> import cobra.io
    >>> from cellfoundry.metabolism import flux_variability_analysis
    >>> model = cobra.io.load_model("textbook")
    >>> flux_variability_analysis(model, ["FRD7"], fraction_of_optimum=0.95).round(3)
          minimum   maximum
    FRD7      0.0  999.208
    >>> flux_variability_analysis(model, ["FRD7"], loopless=True, fraction_of_optimum=0.95)
          minimum  maximum
    FRD7      0.0      0.0
    """
    cutoff = zero_cutoff_or_default(zero_cutoff)
    out = frame.copy()
    cyclic, directions = find_cyclic_reactions(spec, cutoff, solver=solver)
    where = dict(zip(cyclic, directions, strict=True))
    todo: list[tuple[str, int, bool]] = []
    # COBRApy's order: every minimum, then every maximum
    for column, maximize in (("minimum", False), ("maximum", True)):
        for rid in frame.index:
            dirs = where.get(str(rid))
            if dirs is not None and dirs[int(maximize)]:
                todo.append((column, spec.reaction_index(str(rid)), maximize))
    if not todo:
        return out
    step = _CycleFreeFlux(spec, solver, bound, cutoff)
    for column, j, maximize in todo:
        out.at[spec.reactions[j], column] = step.extreme(j, maximize)
    return out


class _CycleFreeFlux:
    """COBRApy's ``loopless_fva_iter`` on two problems kept between reactions.

    One is FVA's problem (the model with its objective held at ``bound``), the other the
    CycleFreeFlux problem on the same rows. Both are hot-started; a hot start that ends in
    "infeasible" is not believed (GLPK reports it on iJO1366 after the bounds of every
    reaction move at once) and the problem is built afresh and solved again.
    """

    def __init__(self, spec: ModelSpec, solver: SolverName, bound: float, cutoff: float):
        self.spec, self.solver, self.bound, self.cutoff = spec, solver, bound, cutoff
        self.boundary = np.zeros(spec.n_reactions, dtype=bool)
        self.boundary[spec.boundary] = True
        self.fva_lp = self._problem()
        self.cycle_free = self._problem()

    def _problem(self) -> LP:
        lp = base_lp(self.spec, self.solver)
        _objective_row(lp, self.spec, self.bound)
        return lp

    def _solve_cycle_free(
        self, fluxes: NDArray[np.float64], fixed: tuple[int, float] | None = None
    ) -> NDArray[np.float64] | None:
        """Solve for the least flux with the boundary fluxes of ``fluxes`` (None: no solution)."""
        for attempt in range(2):
            if attempt:
                self.cycle_free = self._problem()
            _set_cycle_free(self.spec, self.cycle_free, fluxes, self.boundary)
            if fixed is not None:
                self.cycle_free.set_col_bounds(fixed[0], fixed[1], fixed[1])
            status, _ = self.cycle_free.solve()
            if status == "optimal":
                return self.cycle_free.values()[: self.spec.n_reactions]
        return None

    def extreme(self, j: int, maximize: bool) -> float:
        """Find the loopless minimum or maximum of reaction ``j``."""
        spec, cutoff = self.spec, self.cutoff
        self.fva_lp.set_objective([j], [1.0], maximize)
        status, current = self.fva_lp.solve()
        if status == "infeasible":  # not believed after a hot start: FVA found this extreme
            self.fva_lp = self._problem()
            self.fva_lp.set_objective([j], [1.0], maximize)
            status, current = self.fva_lp.solve()
        if status == "unbounded":
            return math.inf if maximize else -math.inf
        if status != "optimal":
            raise_for_status(spec, status, f"flux of {spec.reactions[j]}")
        fluxes = self.fva_lp.values()[: spec.n_reactions]
        loop_free = self._solve_cycle_free(fluxes)
        if loop_free is None:  # pragma: no cover - numerical trouble: keep the plain extreme
            return current
        if abs(loop_free[j] - current) < cutoff:
            return current
        # the loops through reaction j: used when j is held at its extreme, unused otherwise
        almost = self._solve_cycle_free(fluxes, fixed=(j, current))
        if almost is None:  # pragma: no cover
            return current
        lb, ub = spec.lb, spec.ub
        closed = [
            int(k)
            for k in np.flatnonzero((np.abs(loop_free) < cutoff) & (np.abs(almost) > cutoff))
            if lb[k] <= 0.0 <= ub[k]
        ]
        best = self._closed_extreme(j, maximize, closed)
        if best is None:
            self.fva_lp = self._problem()
            self.fva_lp.set_objective([j], [1.0], maximize)
            best = self._closed_extreme(j, maximize, closed)
        return current if best is None else best

    def _closed_extreme(self, j: int, maximize: bool, closed: Sequence[int]) -> float | None:
        lp, lb, ub = self.fva_lp, self.spec.lb, self.spec.ub
        for k in closed:
            lp.set_col_bounds(k, max(0.0, float(lb[k])), min(0.0, float(ub[k])))
        try:
            status, best = lp.solve()
        finally:
            for k in closed:
                lp.set_col_bounds(k, float(lb[k]), float(ub[k]))
        return best if status == "optimal" else None


def _set_cycle_free(
    spec: ModelSpec, lp: LP, fluxes: NDArray[np.float64], boundary: NDArray[np.bool_]
) -> None:
    """COBRApy's ``_add_cycle_free``: boundary fluxes fixed, internal ones shrunk toward 0.

    Every internal flux keeps its direction and may not exceed its value; the objective is the
    least total internal flux.
    """
    cols: list[int] = []
    vals: list[float] = []
    lb, ub = spec.lb, spec.ub
    for k, v in enumerate(fluxes.tolist()):
        if boundary[k]:
            lp.set_col_bounds(k, v, v)
            continue
        if v >= 0:
            lo, hi = max(0.0, float(lb[k])), min(v, float(ub[k]))
            vals.append(1.0)
        else:
            lo, hi = max(v, float(lb[k])), min(0.0, float(ub[k]))
            vals.append(-1.0)
        # a flux a hair outside its bound (solver tolerance) must not empty the range;
        # COBRApy stops there with "lower bound must be less than or equal to upper bound"
        lp.set_col_bounds(k, lo, max(lo, hi))
        cols.append(k)
    lp.set_objective(cols, vals, False)


def reaction_positions(spec: ModelSpec, reactions: Sequence[object] | None) -> list[int]:
    """Columns of reactions given by id (or as objects with an ``id``); all when ``None``."""
    if reactions is None:
        return list(range(spec.n_reactions))
    return [spec.reaction_index(str(getattr(r, "id", r))) for r in reactions]
