"""Strain design: from a target compound to ranked, gene-level designs of engineered strains.

- :mod:`~cellfoundry.metabolism.design._types`: :class:`StrainDesign` and its parts.
- :mod:`~cellfoundry.metabolism.design.evaluate`: every design re-checked by FVA in the engine.
- :mod:`~cellfoundry.metabolism.design.rank`: best first, the Pareto front, side by side.
"""

from cellfoundry.metabolism.design._types import (
    DESIGN_METHODS,
    MODIFICATION_KINDS,
    DesignEvaluation,
    GeneticModification,
    StrainDesign,
)
from cellfoundry.metabolism.design.evaluate import evaluate, evaluate_design, knocked_spec
from cellfoundry.metabolism.design.rank import compare, pareto, rank

__all__ = [
    "DESIGN_METHODS",
    "MODIFICATION_KINDS",
    "DesignEvaluation",
    "GeneticModification",
    "StrainDesign",
    "compare",
    "evaluate",
    "evaluate_design",
    "knocked_spec",
    "pareto",
    "rank",
]
