"""Production envelopes and theoretical yields.

:func:`production_envelope` is COBRApy's ``cobra.flux_analysis.production_envelope``, same
arguments and same frame, computed on one hot-started LP: each grid point only moves the bounds
of the grid reactions, so the solver restarts from the neighbouring point's basis.
:func:`theoretical_yield` gives the best molar, mass and carbon yield of a product on a
substrate, with growth free or held at a fraction of its optimum.

Molecular weights and element counts come from the metabolites' formulas, read as COBRApy
reads them (``cobra.Metabolite.elements`` and ``formula_weight``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.flux import base_lp, flux_variability_analysis, raise_for_status
from cellfoundry.metabolism.loopless import TOLERANCE, reaction_positions
from cellfoundry.metabolism.lp import SolverName, make_lp, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = [
    "TheoreticalYield",
    "formula_elements",
    "formula_weight",
    "production_envelope",
    "theoretical_yield",
]

# COBRApy's formula grammar (cobra.core.metabolite.element_re)
_ELEMENT = re.compile(r"([A-Z][a-z]?)([0-9.]+[0-9.]?|(?=[A-Z])?)")


def formula_elements(formula: str | None) -> dict[str, float] | None:
    """Element counts of a chemical formula, as ``cobra.Metabolite.elements`` reads it.

    ``None`` when the formula cannot be read (parentheses, a malformed count); an empty dict
    when there is no formula.

    Examples
    --------
    >>> formula_elements("C6H12O6")
    {'C': 6, 'H': 12, 'O': 6}
    >>> formula_elements("C10H12N5O7PR")
    {'C': 10, 'H': 12, 'N': 5, 'O': 7, 'P': 1, 'R': 1}
    """
    if not formula:
        return {}
    text = formula.replace("*", "")
    if "(" in text or ")" in text:
        return None
    out: dict[str, float] = {}
    for element, count in _ELEMENT.findall(text):
        if count == "":
            amount: float = 1
        else:
            try:
                amount = float(count)
            except ValueError:
                return None
            if amount == int(amount):
                amount = int(amount)
        out[element] = out.get(element, 0) + amount
    return out


def formula_weight(formula: str | None) -> float | None:
    """Molecular weight in g/mol (COBRApy's ``formula_weight``); ``None`` if it is unknown.

    Examples
    --------
    >>> round(formula_weight("C6H12O6"), 2)
    180.16
    """
    from cobra.core.formula import elements_and_molecular_weights

    elements = formula_elements(formula)
    if not elements:
        return None
    total = 0.0
    for element, count in elements.items():
        weight = elements_and_molecular_weights.get(element)
        if weight is None:
            return None
        total += count * weight
    return total


# ---------------------------------------------------------------------------------------------
# production envelope


def _column(spec: ModelSpec, j: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    csc = sp.csc_matrix(spec.S)
    lo, hi = csc.indptr[j], csc.indptr[j + 1]
    return csc.indices[lo:hi], csc.data[lo:hi]


def _carbon_terms(spec: ModelSpec, j: int) -> list[float]:
    """COBRApy's ``_reaction_elements``: coefficient times carbon count, nonzero only."""
    rows, coefs = _column(spec, j)
    out = []
    for i, coef in zip(rows.tolist(), coefs.tolist(), strict=True):
        elements = formula_elements(spec.formulas[i]) or {}
        term = coef * elements.get("C", 0)
        if term != 0:
            out.append(term)
    return out


def _weight_terms(spec: ModelSpec, j: int) -> list[float] | None:
    """COBRApy's ``_reaction_weight``: coefficient times molecular weight of the one metabolite.

    ``None`` when the reaction has more than one metabolite or the weight is unknown.
    """
    rows, coefs = _column(spec, j)
    if len(rows) != 1:
        return None
    formula = spec.formulas[int(rows[0])]
    # COBRApy weighs a metabolite without a formula as 0 g/mol
    weight = formula_weight(formula) if formula else 0.0
    return None if weight is None else [float(coefs[0]) * weight]


def _component_flux(flux: float, terms: Sequence[float], consumption: bool) -> float:
    """COBRApy's ``_total_components_flux``: the consumed (or produced) amount of the terms."""
    sign = 1.0 if consumption else -1.0
    return sum(x for x in (t * flux * sign for t in terms) if x > 0)


def _total_yield(
    in_fluxes: Sequence[float],
    in_terms: Sequence[Sequence[float]],
    out_flux: float,
    out_terms: Sequence[float],
) -> float:
    """Output per input (carbon atoms or grams); ``nan`` when nothing goes in."""
    consumed = sum(
        _component_flux(f, t, consumption=True) for f, t in zip(in_fluxes, in_terms, strict=False)
    )
    produced = _component_flux(out_flux, out_terms, consumption=False)
    return produced / consumed if consumed != 0 else math.nan


def _find_carbon_sources(spec: ModelSpec, solver: SolverName) -> list[int]:
    """Medium reactions that take up carbon in an optimal solution of the model's objective."""
    lp = base_lp(spec, solver)
    status, _ = lp.solve()
    if status != "optimal":
        return []
    v = lp.values()
    out = []
    for rid in spec.medium:
        j = spec.reaction_index(rid)
        if _component_flux(float(v[j]), _carbon_terms(spec, j), consumption=True) > 0:
            out.append(j)
    return out


def _envelope_objective(spec: ModelSpec, objective: object | None) -> ModelSpec:
    if objective is not None:
        rid = str(getattr(objective, "id", objective))
        return spec.with_objective(rid, maximize=spec.maximize)
    if np.count_nonzero(spec.objective) != 1:
        raise ValidationError(
            "cannot calculate yields for objectives with multiple reactions: name one "
            "reaction as the objective",
            source=spec.source,
            field="objective",
        )
    return spec


def production_envelope(
    model: ModelSource,
    reactions: Sequence[object],
    objective: object | None = None,
    carbon_sources: Sequence[object] | None = None,
    points: int = 20,
    threshold: float | None = None,
    *,
    solver: SolverName = "glpk",
) -> pd.DataFrame:
    r"""Compute the objective's range at each point of a grid over some reactions' fluxes.

    COBRApy's ``production_envelope``. Each reaction in ``reactions`` spans its own feasible
    range (FVA with the objective at 0 % of its optimum, i.e. only required to be
    :math:`\ge 0` when maximised) in ``points`` steps; at every combination the grid reactions
    are fixed and the objective is minimised and maximised. Yields divide the objective's
    carbon (or mass) output by the carbon sources' carbon (or mass) input in that solution.

    Parameters
    ----------
    model
        A model file path, a ``cobra.Model`` or a :class:`ModelSpec`.
    reactions
        Reaction ids to span (one for a curve, two for a surface...).
    objective
        Reaction id of the product (default: the model's objective, which must be one
        reaction). The model's objective direction is kept.
    carbon_sources
        Reaction ids of the carbon sources (default: the medium reactions taking up carbon at
        the model's optimum).
    points
        Grid steps per reaction: the frame has ``points ** len(reactions)`` rows.
    threshold
        Values below this are zero (default: the solver tolerance, 1e-7).
    solver
        ``"glpk"`` or ``"highs"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``carbon_source``, ``flux_minimum``, ``carbon_yield_minimum``,
        ``mass_yield_minimum``, ``flux_maximum``, ``carbon_yield_maximum``,
        ``mass_yield_maximum`` and one per grid reaction; ``nan`` where a point is infeasible
        or a yield undefined.

    Raises
    ------
    ValidationError
        An unknown reaction, an objective of several reactions, or ``points < 1``.

    Examples
    --------
    >>> import cobra.io
    >>> model = cobra.io.load_model("textbook")
    >>> frame = production_envelope(model, ["EX_o2_e"], objective="EX_ac_e", points=3)
    >>> frame[["EX_o2_e", "flux_maximum", "carbon_yield_maximum"]].round(3)
       EX_o2_e  flux_maximum  carbon_yield_maximum
    0    -60.0           0.0                 0.000
    1    -30.0          15.0                 0.500
    2      0.0          10.0                 0.333
    """
    base = load_model(model)
    spec = _envelope_objective(base, objective)
    if not (isinstance(points, int) and points >= 1):
        raise ValidationError(f"points {points!r} must be a whole number ≥ 1", field="points")
    cutoff = TOLERANCE if threshold is None else float(threshold)
    grid_cols = reaction_positions(spec, reactions)
    grid_ids = [spec.reactions[j] for j in grid_cols]
    if carbon_sources is None:
        c_input = _find_carbon_sources(base, solver)
    else:
        c_input = reaction_positions(spec, carbon_sources)
    ranges = flux_variability_analysis(spec, grid_ids, fraction_of_optimum=0.0, solver=solver)
    ranges = ranges.mask(ranges.abs() < cutoff, 0.0)
    axes = [
        np.linspace(ranges.at[rid, "minimum"], ranges.at[rid, "maximum"], points)
        for rid in grid_ids
    ]
    grid = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(grid_ids))
    size = len(grid)
    data: dict[str, object] = {"carbon_source": ", ".join(spec.reactions[j] for j in c_input)}
    for direction in ("minimum", "maximum"):
        for kind in ("flux", "carbon_yield", "mass_yield"):
            data[f"{kind}_{direction}"] = np.full(size, np.nan)
    frame = pd.DataFrame(data, index=pd.RangeIndex(size))
    for k, rid in enumerate(grid_ids):
        frame[rid] = grid[:, k]

    (out_col,) = np.flatnonzero(spec.objective)
    in_carbon = [_carbon_terms(spec, j) for j in c_input]
    out_carbon = _carbon_terms(spec, int(out_col))
    weights = [_weight_terms(spec, j) for j in c_input]
    out_weight = _weight_terms(spec, int(out_col))
    in_weights: list[list[float]] = []
    if out_weight is not None and all(w is not None for w in weights):
        in_weights = [w for w in weights if w is not None]
    else:
        out_weight = []

    lp = make_lp(solver, spec.S, np.asarray(spec.lb), np.asarray(spec.ub))
    cols, vals = objective_terms(spec.objective)
    for direction in ("minimum", "maximum"):
        lp.set_objective(cols, vals, direction == "maximum")
        flux = np.full(size, np.nan)
        carbon = np.full(size, np.nan)
        mass = np.full(size, np.nan)
        for i in range(size):
            for j, value in zip(grid_cols, grid[i].tolist(), strict=True):
                lp.set_col_bounds(j, value, value)
            status, value = lp.solve()
            if status != "optimal":
                continue
            flux[i] = 0.0 if abs(value) < cutoff else value
            if c_input:
                v = lp.values()
                in_fluxes = [float(v[j]) for j in c_input]
                carbon[i] = _total_yield(in_fluxes, in_carbon, value, out_carbon)
                mass[i] = _total_yield(in_fluxes, in_weights, value, out_weight)
        frame[f"flux_{direction}"] = flux
        frame[f"carbon_yield_{direction}"] = carbon
        frame[f"mass_yield_{direction}"] = mass
    return frame


# ---------------------------------------------------------------------------------------------
# theoretical yield


@dataclass(frozen=True, slots=True)
class TheoreticalYield:
    """The best yield of a product on a substrate (fluxes in mmol/gDW/h)."""

    product: str
    substrate: str
    substrate_uptake: float
    product_flux: float
    growth: float  # the objective in the solution found (one of many when growth is free)
    molar_yield: float  # mol product / mol substrate
    mass_yield: float  # g product / g substrate
    carbon_yield: float  # C-mol product / C-mol substrate

    def __repr__(self) -> str:
        return (
            f"<TheoreticalYield {self.product} on {self.substrate}: "
            f"{self.molar_yield:.3f} mol/mol, {self.mass_yield:.3f} g/g, "
            f"{self.carbon_yield:.3f} C-mol/C-mol at growth {self.growth:.3g}>"
        )


def _exchange_metabolite(spec: ModelSpec, j: int, role: str) -> tuple[int, float]:
    rows, coefs = _column(spec, j)
    if len(rows) != 1:
        raise ValidationError(
            f"{spec.reactions[j]!r} has {len(rows)} metabolites; the {role} must be an "
            "exchange (or demand) reaction of one metabolite",
            source=spec.source,
            record=spec.reactions[j],
            field=role,
        )
    return int(rows[0]), float(coefs[0])


def theoretical_yield(
    model: ModelSource,
    product: str,
    substrate: str,
    *,
    uptake: float | None = None,
    growth_fraction: float | None = None,
    solver: SolverName = "glpk",
) -> TheoreticalYield:
    r"""Find the best molar, mass and carbon yield of a product on a substrate.

    The substrate's uptake is fixed at ``uptake`` and the product's secretion maximised:

    .. math::

        Y_{P/S} = \frac{v_P^{max}}{u_S}, \quad
        Y^{mass} = Y_{P/S} \frac{M_P}{M_S}, \quad Y^{C} = Y_{P/S} \frac{C_P}{C_S}

    with :math:`M` the molecular weights and :math:`C` the carbon counts of the formulas.

    Parameters
    ----------
    model
        A model file path, a ``cobra.Model`` or a :class:`ModelSpec`.
    product
        The product's exchange (or demand) reaction id, e.g. ``"EX_etoh_e"``.
    substrate
        The substrate's exchange reaction id, e.g. ``"EX_glc__D_e"``.
    uptake
        Substrate uptake in mmol/gDW/h (default: the most the model's bounds allow).
    growth_fraction
        ``None`` leaves growth (the model's objective) free; a number in [0, 1] keeps it at
        least that fraction of its optimum at the same uptake.
    solver
        ``"glpk"`` or ``"highs"``.

    Returns
    -------
    TheoreticalYield
        Uptake, product flux, growth and the three yields (``nan`` where a formula is missing).

    Raises
    ------
    ValidationError
        An unknown reaction, a reaction that is not an exchange, no uptake possible, or a bad
        fraction; :class:`~cellfoundry.metabolism.flux.InfeasibleError` when the model cannot
        take up that much substrate.

    Examples
    --------
    >>> import cobra.io
    >>> model = cobra.io.load_model("textbook")
    >>> model.reactions.EX_o2_e.lower_bound = 0  # anaerobic
    >>> y = theoretical_yield(model, "EX_etoh_e", "EX_glc__D_e")
    >>> round(y.molar_yield, 3), round(y.mass_yield, 3), round(y.carbon_yield, 3)
    (2.0, 0.511, 0.667)
    """
    spec = load_model(model)
    jp = spec.reaction_index(product)
    js = spec.reaction_index(substrate)
    mp, cp = _exchange_metabolite(spec, jp, "product")
    ms, cs = _exchange_metabolite(spec, js, "substrate")
    # uptake of the substrate's metabolite is coefficient × flux; secretion of the product's
    # is −coefficient × flux
    most = cs * (spec.lb[js] if cs < 0 else spec.ub[js])
    rate = float(most) if uptake is None else float(uptake)
    if not (math.isfinite(rate) and rate > 0):
        raise ValidationError(
            f"the substrate uptake must be a finite rate > 0, not {rate:g}: open "
            f"{substrate!r} for uptake or give uptake=",
            source=spec.source,
            record=substrate,
            field="uptake",
        )
    v_s = rate / cs
    spec = spec.with_bounds({substrate: (v_s, v_s)})
    lp = base_lp(spec, solver)
    growth_cols, growth_vals = objective_terms(spec.objective)
    if growth_fraction is not None:
        if not (isinstance(growth_fraction, int | float) and 0.0 <= growth_fraction <= 1.0):
            raise ValidationError(
                f"growth fraction {growth_fraction!r} must lie between 0 and 1",
                field="growth_fraction",
            )
        status, optimum = lp.solve()
        raise_for_status(spec, status)
        bound = growth_fraction * optimum
        lp.add_row(
            growth_cols,
            growth_vals,
            bound if spec.maximize else -math.inf,
            math.inf if spec.maximize else bound,
        )
    lp.set_objective([jp], [-cp], True)
    status, best = lp.solve()
    raise_for_status(spec, status, f"secretion of {product!r}")
    v = lp.values()
    growth = float(np.dot(spec.objective, v[: spec.n_reactions]))
    molar = best / rate
    w_p, w_s = formula_weight(spec.formulas[mp]), formula_weight(spec.formulas[ms])
    e_p = formula_elements(spec.formulas[mp]) or {}
    e_s = formula_elements(spec.formulas[ms]) or {}
    mass = molar * w_p / w_s if w_p is not None and w_s else math.nan
    c_s = e_s.get("C", 0)
    carbon = molar * e_p.get("C", 0) / c_s if c_s else math.nan
    return TheoreticalYield(
        product=product,
        substrate=substrate,
        substrate_uptake=rate,
        product_flux=float(best),
        growth=growth,
        molar_yield=float(molar),
        mass_yield=float(mass),
        carbon_yield=float(carbon),
    )
