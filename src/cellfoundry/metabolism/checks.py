"""Model checks: mass and charge balance, blocked reactions, dead ends and loops.

COBRApy's names and result shapes where COBRApy has the check
(``cobra.manipulation.check_mass_balance``, ``cobra.flux_analysis.find_blocked_reactions``);
:func:`check_model` runs them all for the ``check`` action of the command line and web page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.envelope import formula_elements
from cellfoundry.metabolism.flux import InfeasibleError, UnboundedError, base_lp, raise_for_status
from cellfoundry.metabolism.loopless import (
    TOLERANCE,
    find_cyclic_reactions,
    reaction_positions,
    zero_cutoff_or_default,
)
from cellfoundry.metabolism.lp import LP, SolverName, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = [
    "ModelCheck",
    "check_mass_balance",
    "check_model",
    "find_blocked_reactions",
    "find_dead_end_metabolites",
]

# an open exchange, as COBRApy opens them in find_blocked_reactions(open_exchanges=True)
_OPEN = 1000.0


def _pseudo_reactions(spec: ModelSpec) -> set[int]:
    """Reactions not expected to balance: boundary, objective and biomass reactions.

    COBRApy skips reactions annotated with the SBO terms of exchange, demand, sink, biomass
    and pseudo-reactions; a compiled model keeps no annotations, so these are recognised by
    structure (one metabolite), by being in the objective, or by "biomass" in the id.
    """
    out = {int(j) for j in spec.boundary}
    out.update(int(j) for j in np.flatnonzero(spec.objective))
    out.update(j for j, rid in enumerate(spec.reactions) if "biomass" in rid.lower())
    return out


def _balance(
    spec: ModelSpec, *, strict: bool
) -> tuple[dict[str, dict[str, float]], list[str], list[str]]:
    """Unbalanced reactions, metabolites whose formula cannot be read, and reactions skipped."""
    elements = [formula_elements(f) for f in spec.formulas]
    unreadable = [spec.metabolites[i] for i, e in enumerate(elements) if e is None]
    skip = _pseudo_reactions(spec)
    csc = sp.csc_matrix(spec.S)
    unbalanced: dict[str, dict[str, float]] = {}
    skipped: list[str] = []
    for j, rid in enumerate(spec.reactions):
        if j in skip:
            continue
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        totals: dict[str, float] = {}
        readable = True
        for i, coef in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
            charge = spec.charges[i]
            if charge is not None:
                totals["charge"] = totals.get("charge", 0.0) + coef * charge
            composition = elements[i]
            if composition is None:
                if strict:
                    raise ValidationError(
                        f"the formula {spec.formulas[i]!r} of metabolite "
                        f"{spec.metabolites[i]!r} cannot be read, so reaction {rid!r} cannot "
                        "be checked: write it as element symbols and counts, e.g. C6H12O6",
                        source=spec.source,
                        record=spec.metabolites[i],
                        field="formula",
                    )
                readable = False
                break
            for element, amount in composition.items():
                totals[element] = totals.get(element, 0.0) + coef * amount
        if not readable:
            skipped.append(rid)
            continue
        off = {k: v for k, v in totals.items() if not math.isclose(v, 0.0, abs_tol=TOLERANCE)}
        if off:
            unbalanced[rid] = off
    return unbalanced, unreadable, skipped


def check_mass_balance(model: ModelSource) -> dict[str, dict[str, float]]:
    """Reactions whose elements or charge do not balance, with the imbalance of each.

    COBRApy's ``check_mass_balance``, keyed by reaction id: ``{reaction: {element: amount}}``
    with products counted positive and ``"charge"`` as one more element. Boundary reactions,
    the objective and biomass reactions are skipped; a metabolite without a formula counts
    as having no atoms.

    Raises
    ------
    ValidationError
        A formula cannot be read (COBRApy raises ``ValueError`` there too).

    Examples
    --------
    >>> import cobra.io
    >>> model = cobra.io.load_model("textbook")
    >>> check_mass_balance(model)
    {}
    >>> model.metabolites.get_by_id("h_c").charge = 0
    >>> check_mass_balance(model)["PFK"]
    {'charge': -1.0}
    """
    unbalanced, _, _ = _balance(load_model(model), strict=True)
    return unbalanced


# ---------------------------------------------------------------------------------------------
# blocked reactions


def _open_exchanges(spec: ModelSpec) -> ModelSpec:
    changes = {
        spec.reactions[j]: (min(float(spec.lb[j]), -_OPEN), max(float(spec.ub[j]), _OPEN))
        for j in spec.exchanges
    }
    return spec.with_bounds(changes)


def _fraction_row(lp: LP, spec: ModelSpec, bound: float) -> None:
    cols, vals = objective_terms(spec.objective)
    lp.add_row(
        cols,
        vals,
        bound if spec.maximize else -math.inf,
        math.inf if spec.maximize else bound,
    )


def _dead_ends(
    S: sp.coo_matrix, lb: NDArray[np.float64], ub: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Metabolites that no allowed reaction direction makes, or none uses up."""
    forward = ub[S.col] > 0
    backward = lb[S.col] < 0
    positive = S.data > 0
    makes = (positive & forward) | (~positive & backward)
    uses = (positive & backward) | (~positive & forward)
    m = S.shape[0]
    produced = np.bincount(S.row[makes], minlength=m) > 0
    consumed = np.bincount(S.row[uses], minlength=m) > 0
    touched = np.bincount(S.row[forward | backward], minlength=m) > 0
    return np.asarray(touched & ~(produced & consumed))


def _forced_idle(spec: ModelSpec) -> NDArray[np.bool_]:
    """Reactions every steady state leaves idle because of dead ends, found without an LP.

    At a metabolite that can only be made, every term of its balance is ≥ 0 and they sum to
    0, so each reaction touching it is idle; closing those may make more dead ends.
    """
    S = sp.coo_matrix(spec.S)
    lb = np.array(spec.lb)
    ub = np.array(spec.ub)
    idle = np.zeros(spec.n_reactions, dtype=bool)
    while True:
        dead = _dead_ends(S, lb, ub)
        hit = np.zeros(spec.n_reactions, dtype=bool)
        hit[S.col[dead[S.row]]] = True
        new = hit & ~idle
        if not new.any():
            return idle
        idle |= new
        # an idle reaction whose bounds exclude zero makes the model infeasible: the LP says so
        lb[new] = 0.0
        ub[new] = 0.0


def _blocked(
    spec: ModelSpec, candidates: Sequence[int], cutoff: float, solver: SolverName
) -> list[int]:
    """Of ``candidates``, the reactions with no flux in any solution of FVA at 0 % optimum.

    Exact, with FVA's answer, and most LPs left out: reactions idle because of dead ends need
    none; every solution met marks all the reactions it moves as not blocked (a flux seen is
    inside the range); and a reaction that cannot run backwards is blocked when its maximum
    is below the cutoff (its minimum lies between 0 and that maximum).
    """
    lp = base_lp(spec, solver)
    status, optimum = lp.solve()
    if status != "optimal":
        raise_for_status(spec, status)
    _fraction_row(lp, spec, 0.0 * optimum)
    moving = np.zeros(spec.n_reactions, dtype=bool)
    idle = _forced_idle(spec)

    def record(x: NDArray[np.float64]) -> None:
        moving[np.abs(x[: spec.n_reactions]) >= cutoff] = True

    record(lp.values())
    lb, ub = spec.lb, spec.ub
    for j in candidates:
        if idle[j]:
            continue
        # a reaction fixed at zero is blocked; with no backward (forward) direction, the
        # minimum (maximum) lies between 0 and the other extreme
        for maximize in [d for d, open_ in ((True, ub[j] > 0), (False, lb[j] < 0)) if open_]:
            if moving[j]:
                break
            lp.set_objective([j], [1.0], maximize)
            status, value = lp.solve()
            if status == "unbounded":
                moving[j] = True
            elif status == "optimal":
                if abs(value) >= cutoff:
                    record(lp.values())
                    moving[j] = True
            else:
                raise_for_status(spec, status, f"flux of {spec.reactions[j]}")
    return [j for j in candidates if not moving[j]]


def find_blocked_reactions(
    model: ModelSource,
    reaction_list: Sequence[object] | None = None,
    zero_cutoff: float | None = None,
    open_exchanges: bool = False,
    *,
    solver: SolverName = "glpk",
) -> list[str]:
    """Reactions that cannot carry flux (COBRApy's ``find_blocked_reactions``).

    A reaction is blocked when its flux range, over every steady state with the objective at
    0 % of its optimum (flux variability at ``fraction_of_optimum=0``), stays below
    ``zero_cutoff`` in absolute value.

    Parameters
    ----------
    model
        A model file path, a ``cobra.Model`` or a :class:`ModelSpec`.
    reaction_list
        Reaction ids to test (default: all).
    zero_cutoff
        Fluxes below this are zero (default: the solver tolerance, 1e-7).
    open_exchanges
        Open every exchange reaction to at least ±1000 first, as COBRApy does.
    solver
        ``"glpk"`` or ``"highs"``.

    Returns
    -------
    list of str
        Blocked reaction ids, in the order of ``reaction_list`` (model order by default).

    Raises
    ------
    InfeasibleError
        The model has no steady state at all.

    Examples
    --------
    >>> import cobra.io
    >>> find_blocked_reactions(cobra.io.load_model("textbook"))[:4]
    ['EX_fru_e', 'EX_fum_e', 'EX_gln__L_e', 'EX_mal__L_e']
    """
    spec = load_model(model)
    cutoff = zero_cutoff_or_default(zero_cutoff)
    if open_exchanges:
        spec = _open_exchanges(spec)
    candidates = reaction_positions(spec, reaction_list)
    return [spec.reactions[j] for j in _blocked(spec, candidates, cutoff, solver)]


# ---------------------------------------------------------------------------------------------
# dead ends


def find_dead_end_metabolites(model: ModelSource) -> list[str]:
    """Metabolites that can only be produced, or only consumed, given reaction directions.

    A metabolite is a dead end when no reaction, run in a direction its bounds allow, makes it
    or none uses it up: at steady state every reaction touching it must then be idle.
    Metabolites that no open reaction touches are not reported.

    Returns
    -------
    list of str
        Metabolite ids, in model order.

    Examples
    --------
    >>> import cobra.io
    >>> find_dead_end_metabolites(cobra.io.load_model("textbook"))  # not in the medium
    ['fru_e', 'fum_e', 'gln__L_e', 'mal__L_e']
    """
    spec = load_model(model)
    dead = _dead_ends(sp.coo_matrix(spec.S), spec.lb, spec.ub)
    return [spec.metabolites[i] for i in np.flatnonzero(dead)]


# ---------------------------------------------------------------------------------------------
# all checks


@dataclass(frozen=True)
class ModelCheck:
    """What :func:`check_model` found; ``None`` marks a check that could not run."""

    model_id: str
    n_reactions: int
    n_metabolites: int
    n_genes: int
    n_boundary: int
    status: str  # of the model's objective: "optimal", "infeasible" or "unbounded"
    objective_value: float | None
    mass_unbalanced: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    unreadable_formulas: tuple[str, ...] = ()
    missing_formulas: tuple[str, ...] = ()
    blocked_reactions: tuple[str, ...] | None = None
    dead_end_metabolites: tuple[str, ...] = ()
    cyclic_reactions: tuple[str, ...] = ()

    @property
    def n_mass_unbalanced(self) -> int:
        """Number of unbalanced reactions."""
        return len(self.mass_unbalanced)

    @property
    def n_blocked(self) -> int | None:
        """Number of blocked reactions (``None`` if not checked)."""
        return None if self.blocked_reactions is None else len(self.blocked_reactions)

    @property
    def n_dead_ends(self) -> int:
        """Number of dead-end metabolites."""
        return len(self.dead_end_metabolites)

    @property
    def n_cyclic(self) -> int:
        """Number of reactions that can loop."""
        return len(self.cyclic_reactions)

    @property
    def ok(self) -> bool:
        """True when the model solves and its reactions balance.

        Blocked reactions, dead ends and loops are reported, not failed: curated models have
        them (iJO1366 blocks 878 reactions on its default medium; e_coli_core blocks the
        uptake of the four nutrients its medium lacks).
        """
        return (
            self.status == "optimal" and not self.mass_unbalanced and not self.unreadable_formulas
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: counts and lists."""
        return {
            "model_id": self.model_id,
            "ok": self.ok,
            "status": self.status,
            "objective_value": self.objective_value,
            "counts": {
                "reactions": self.n_reactions,
                "metabolites": self.n_metabolites,
                "genes": self.n_genes,
                "boundary": self.n_boundary,
                "mass_unbalanced": self.n_mass_unbalanced,
                "unreadable_formulas": len(self.unreadable_formulas),
                "missing_formulas": len(self.missing_formulas),
                "blocked": self.n_blocked,
                "dead_ends": self.n_dead_ends,
                "cyclic": self.n_cyclic,
            },
            "mass_unbalanced": {k: dict(v) for k, v in self.mass_unbalanced.items()},
            "unreadable_formulas": list(self.unreadable_formulas),
            "missing_formulas": list(self.missing_formulas),
            "blocked_reactions": (
                None if self.blocked_reactions is None else list(self.blocked_reactions)
            ),
            "dead_end_metabolites": list(self.dead_end_metabolites),
            "cyclic_reactions": list(self.cyclic_reactions),
        }

    def __repr__(self) -> str:
        return (
            f"<ModelCheck {self.model_id}: {self.status}, {self.n_mass_unbalanced} unbalanced, "
            f"{self.n_blocked} blocked, {self.n_dead_ends} dead ends, {self.n_cyclic} cyclic>"
        )


def check_model(model: ModelSource, *, solver: SolverName = "glpk") -> ModelCheck:
    """Run every check on a model and summarise what it finds.

    Mass and charge balance (reactions with unreadable formulas are listed, not raised),
    blocked reactions (skipped when the model has no optimum), dead-end metabolites and
    reactions that can run in a loop.

    Examples
    --------
    >>> import cobra.io
    >>> report = check_model(cobra.io.load_model("textbook"))
    >>> report
    <ModelCheck e_coli_core: optimal, 0 unbalanced, 8 blocked, 4 dead ends, 2 cyclic>
    >>> report.to_dict()["counts"]["reactions"]
    95
    """
    spec = load_model(model)
    unbalanced, unreadable, _ = _balance(spec, strict=False)
    lp = base_lp(spec, solver)
    status, value = lp.solve()
    blocked: tuple[str, ...] | None = None
    if status == "optimal":
        try:
            blocked = tuple(find_blocked_reactions(spec, solver=solver))
        except (InfeasibleError, UnboundedError):  # pragma: no cover - solver trouble
            blocked = None
    cyclic, _ = find_cyclic_reactions(spec, solver=solver)
    used = np.bincount(sp.coo_matrix(spec.S).row, minlength=spec.n_metabolites) > 0
    missing = tuple(spec.metabolites[i] for i in np.flatnonzero(used) if not spec.formulas[int(i)])
    return ModelCheck(
        model_id=spec.id,
        n_reactions=spec.n_reactions,
        n_metabolites=spec.n_metabolites,
        n_genes=len(spec.genes),
        n_boundary=len(spec.boundary),
        status=status,
        objective_value=float(value) if status == "optimal" else None,
        mass_unbalanced=unbalanced,
        unreadable_formulas=tuple(unreadable),
        missing_formulas=missing,
        blocked_reactions=blocked,
        dead_end_metabolites=tuple(find_dead_end_metabolites(spec)),
        cyclic_reactions=tuple(cyclic),
    )
