"""Rank designs, and lay them side by side.

A strain engineer wants the design that is sure to make the most product, that still grows,
and that takes the fewest genetic changes to build. :func:`rank` orders evaluated designs by
guaranteed yield (the product's minimum at maximal growth, over the substrate), then growth,
then the number of modifications; :func:`pareto` marks the designs no other design beats on
all three; :func:`compare` gives the table a page shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.design._types import DesignEvaluation, StrainDesign

__all__ = ["compare", "pareto", "rank"]

# yields and growth rates equal to this many digits are ties (solver noise is ~1e-9)
_DIGITS = 6


def _evaluation(design: StrainDesign, k: int) -> DesignEvaluation:
    if design.evaluation is None:
        raise ValidationError(
            f"design {k + 1} ({design.label()}) has not been evaluated: run "
            "evaluate_design(model, design) first",
            record=str(k + 1),
            field="evaluation",
        )
    return design.evaluation


def _key(design: StrainDesign, k: int) -> tuple[float, float, int]:
    ev = _evaluation(design, k)

    def value(x: float) -> float:
        return -math.inf if math.isnan(x) else round(x, _DIGITS)

    return (-value(ev.yield_min), -value(ev.growth), design.size)


def rank(designs: Iterable[StrainDesign]) -> list[StrainDesign]:
    """Return evaluated designs best first: guaranteed yield, then growth, then fewest changes.

    Ties keep their given order. A design that does not grow ranks below every one that does.

    Raises
    ------
    ValidationError
        A design has no evaluation (the error names it).
    """
    items = list(designs)
    keys = [_key(d, k) for k, d in enumerate(items)]
    growing = [(_evaluation(d, k).growth > 1e-9) for k, d in enumerate(items)]
    order = sorted(range(len(items)), key=lambda k: (not growing[k], keys[k], k))
    return [items[k] for k in order]


def pareto(designs: Sequence[StrainDesign]) -> list[bool]:
    """Return, for each design, whether it is on the Pareto front.

    A design is off the front when another is at least as good on guaranteed yield, growth and
    number of modifications, and better on one of them.
    """
    keys = [_key(d, k) for k, d in enumerate(designs)]
    out = []
    for a in keys:
        dominated = any(all(bx <= ax for ax, bx in zip(a, b, strict=True)) and b != a for b in keys)
        out.append(not dominated)
    return out


def compare(designs: Sequence[StrainDesign]) -> pd.DataFrame:
    """Return the designs side by side, in the given order, one row each.

    Columns: ``label``, ``method``, ``modifications``, ``growth``, ``yield_min``,
    ``yield_max``, ``max_yield``, ``yield_at_90``, ``growth_coupled``, ``pareto``.
    """
    front = pareto(designs)
    rows = []
    for k, design in enumerate(designs):
        ev = _evaluation(design, k)
        rows.append(
            {
                "label": design.label(),
                "method": design.method,
                "modifications": design.size,
                "growth": ev.growth,
                "yield_min": ev.yield_min,
                "yield_max": ev.yield_max,
                "max_yield": ev.max_yield,
                "yield_at_90": ev.yield_at_90,
                "growth_coupled": ev.growth_coupled,
                "pareto": front[k],
            }
        )
    return pd.DataFrame(rows)
