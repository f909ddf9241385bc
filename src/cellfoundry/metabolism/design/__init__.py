"""Strain design: from a target compound to ranked, gene-level designs of engineered strains.

- :mod:`~cellfoundry.metabolism.design._types`: :class:`StrainDesign` and its parts.
- :mod:`~cellfoundry.metabolism.design.evaluate`: every design re-checked by FVA in the engine.
- :mod:`~cellfoundry.metabolism.design.rank`: best first, the Pareto front, side by side.
- :mod:`~cellfoundry.metabolism.design.universe`: the BiGG universe of reactions (CarveMe's).
- :mod:`~cellfoundry.metabolism.design.pathway`: heterologous pathways to a target compound.
"""

from cellfoundry.metabolism.design._types import (
    DESIGN_METHODS,
    MODIFICATION_KINDS,
    DesignEvaluation,
    GeneticModification,
    StrainDesign,
)
from cellfoundry.metabolism.design.evaluate import evaluate, evaluate_design, knocked_spec
from cellfoundry.metabolism.design.pathway import (
    InsertedGene,
    Pathway,
    PathwayReaction,
    find_pathways,
    resolve_target,
)
from cellfoundry.metabolism.design.rank import compare, pareto, rank
from cellfoundry.metabolism.design.universe import Universe, extend_chassis, load_universe

__all__ = [
    "DESIGN_METHODS",
    "MODIFICATION_KINDS",
    "DesignEvaluation",
    "GeneticModification",
    "InsertedGene",
    "Pathway",
    "PathwayReaction",
    "StrainDesign",
    "Universe",
    "compare",
    "evaluate",
    "evaluate_design",
    "extend_chassis",
    "find_pathways",
    "knocked_spec",
    "load_universe",
    "pareto",
    "rank",
    "resolve_target",
]
