"""Re-check a design in the engine: growth, product range at maximal growth, yields, envelope.

Whatever method proposed a design (a MILP, a heuristic, a person), its phenotype is computed
here the same way, by LPs over the chassis (with any inserted reactions) and the design's
knock-outs: maximal growth, then the product's minimum and maximum secretion with growth held
at that maximum (FVA at fraction 1.0 of it), the theoretical yields, and the production
envelope. The guaranteed (minimum) yield at maximal growth is the design's robustness: what
the strain must make if it grows as fast as it can.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.design._types import DesignEvaluation, StrainDesign
from cellfoundry.metabolism.envelope import (
    _exchange_metabolite,
    formula_elements,
    formula_weight,
    theoretical_yield,
)
from cellfoundry.metabolism.flux import base_lp, fraction_row_slack
from cellfoundry.metabolism.lp import SolverName, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = ["evaluate", "evaluate_design", "knocked_spec"]


def knocked_spec(spec: ModelSpec, knockouts: Sequence[str]) -> ModelSpec:
    """Return the model with each listed reaction's flux fixed at zero (named error if unknown)."""
    for rid in knockouts:
        spec.reaction_index(rid)
    return spec.with_bounds(dict.fromkeys(knockouts, (0.0, 0.0))) if knockouts else spec


def evaluate(
    model: ModelSource,
    product: str,
    substrate: str,
    knockouts: Sequence[str] = (),
    *,
    points: int = 12,
    solver: SolverName = "glpk",
) -> DesignEvaluation:
    """Compute a design's phenotype (see :class:`DesignEvaluation`).

    Parameters
    ----------
    model
        The chassis, with any inserted reactions already added (a path, a ``cobra.Model`` or a
        :class:`ModelSpec`); its objective is growth.
    product, substrate
        Exchange reaction ids, e.g. ``"EX_succ_e"`` and ``"EX_glc__D_e"``.
    knockouts
        Reaction ids the design disables.
    points
        Growth levels in the production envelope (from 0 to maximal growth).

    A design with no growth is evaluated, not refused: growth 0 and the product's range at
    zero growth.
    """
    if points < 2:
        raise ValidationError(f"points must be at least 2, not {points}", field="points")
    spec = knocked_spec(load_model(model), knockouts)
    jp = spec.reaction_index(product)
    js = spec.reaction_index(substrate)
    mp, cp = _exchange_metabolite(spec, jp, "product")
    ms, cs = _exchange_metabolite(spec, js, "substrate")
    growth_cols, growth_vals = objective_terms(spec.objective)
    lp = base_lp(spec, solver)
    status, growth = lp.solve()
    if status != "optimal":
        # no steady state at all with these knock-outs (a forced flux cannot be carried)
        nan = math.nan
        return DesignEvaluation(0.0, nan, nan, nan, nan, nan, nan, nan, nan, nan, ())
    growth = max(0.0, growth)
    uptake = float(cs * lp.value(js))  # substrate taken up at maximal growth
    # growth held at its maximum exactly, as COBRApy's FVA at fraction 1.0 holds it
    row = lp.add_row(growth_cols, growth_vals, growth, math.inf)

    def product_range() -> tuple[float, float]:
        out = []
        for maximize in (False, True):
            lp.set_objective([jp], [-cp], maximize)
            st, value = lp.solve()
            if st == "infeasible":
                st, value = lp.solve(fresh=True)
            out.append(value if st == "optimal" else math.nan)
        return out[0], out[1]

    low, high = product_range()
    if math.isnan(low) or math.isnan(high):
        # the maximum lost within the tolerances: hold it to GLPK's feasibility tolerance
        lp.set_row_bounds(row, growth - fraction_row_slack(growth), math.inf)
        low, high = product_range()
    envelope: list[tuple[float, float, float]] = []
    for g in np.linspace(0.0, growth, points):
        lp.set_row_bounds(row, float(g), float(g) if g < growth else math.inf)
        lo, hi = product_range()
        envelope.append((float(g), _clean(lo), _clean(hi)))
    w_p, w_s = formula_weight(spec.formulas[mp]), formula_weight(spec.formulas[ms])
    c_p = (formula_elements(spec.formulas[mp]) or {}).get("C", 0)
    c_s = (formula_elements(spec.formulas[ms]) or {}).get("C", 0)
    y_min = low / uptake if uptake > 1e-9 else math.nan
    y_max = high / uptake if uptake > 1e-9 else math.nan
    best = _best_yield(spec, product, substrate, None, solver)
    at_90 = _best_yield(spec, product, substrate, 0.9, solver)
    return DesignEvaluation(
        growth=growth,
        substrate_uptake=uptake,
        product_min=_clean(low),
        product_max=_clean(high),
        yield_min=_clean(y_min),
        yield_max=_clean(y_max),
        yield_min_mass=_clean(y_min * w_p / w_s) if w_p and w_s else math.nan,
        carbon_yield_min=_clean(y_min * c_p / c_s) if c_s else math.nan,
        max_yield=best,
        yield_at_90=at_90,
        envelope=tuple(envelope),
    )


def _clean(x: float) -> float:
    """Solver noise below the tolerance is zero (no -1e-12 yields in a report)."""
    return 0.0 if abs(x) < 1e-9 else float(x)


def _best_yield(
    spec: ModelSpec, product: str, substrate: str, fraction: float | None, solver: SolverName
) -> float:
    try:
        return _clean(
            theoretical_yield(
                spec, product, substrate, growth_fraction=fraction, solver=solver
            ).molar_yield
        )
    except ValidationError:
        return math.nan


def evaluate_design(
    model: ModelSource, design: StrainDesign, *, points: int = 12, solver: SolverName = "glpk"
) -> StrainDesign:
    """Return ``design`` with its :class:`DesignEvaluation` (``model`` must hold its reactions)."""
    evaluation = evaluate(
        model, design.product, design.substrate, design.knockouts, points=points, solver=solver
    )
    return design.with_evaluation(evaluation)
