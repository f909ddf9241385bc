"""Strain design: from a target compound to ranked, gene-level designs of engineered strains.

- :mod:`~cellfoundry.metabolism.design._types`: :class:`StrainDesign` and its parts.
- :mod:`~cellfoundry.metabolism.design.evaluate`: every design re-checked by FVA in the engine.
"""

from cellfoundry.metabolism.design._types import (
    DESIGN_METHODS,
    MODIFICATION_KINDS,
    DesignEvaluation,
    GeneticModification,
    StrainDesign,
)
from cellfoundry.metabolism.design.evaluate import evaluate, evaluate_design, knocked_spec

__all__ = [
    "DESIGN_METHODS",
    "MODIFICATION_KINDS",
    "DesignEvaluation",
    "GeneticModification",
    "StrainDesign",
    "evaluate",
    "evaluate_design",
    "knocked_spec",
]
