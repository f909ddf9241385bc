"""Strain design: from a target compound to ranked, gene-level designs of engineered strains.

- :mod:`~cellfoundry.metabolism.design._types`: :class:`StrainDesign` and its parts.
- :mod:`~cellfoundry.metabolism.design.evaluate`: every design re-checked by FVA in the engine.
- :mod:`~cellfoundry.metabolism.design.rank`: best first, the Pareto front, side by side.
- :mod:`~cellfoundry.metabolism.design.universe`: the BiGG universe of reactions (CarveMe's).
- :mod:`~cellfoundry.metabolism.design.pathway`: heterologous pathways to a target compound.
- :mod:`~cellfoundry.metabolism.design.knockouts`: growth-coupled knock-outs (OptKnock with
  HiGHS; minimal cut sets through StrainDesign).
- :mod:`~cellfoundry.metabolism.design.fseof`: over- and under-expression targets (FSEOF).
- :mod:`~cellfoundry.metabolism.design.combine`: a pathway plus knock-outs that couple it.
"""

from cellfoundry.metabolism.design._types import (
    DESIGN_METHODS,
    MODIFICATION_KINDS,
    DesignEvaluation,
    GeneticModification,
    StrainDesign,
)
from cellfoundry.metabolism.design.combine import combined_designs
from cellfoundry.metabolism.design.evaluate import evaluate, evaluate_design, knocked_spec
from cellfoundry.metabolism.design.fseof import FseofResult, FseofTarget, fseof
from cellfoundry.metabolism.design.knockouts import (
    KnockoutSearch,
    growth_coupled_designs,
    knockout_candidates,
    minimal_cut_sets,
    optknock,
)
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
    "FseofResult",
    "FseofTarget",
    "GeneticModification",
    "InsertedGene",
    "KnockoutSearch",
    "Pathway",
    "PathwayReaction",
    "StrainDesign",
    "Universe",
    "combined_designs",
    "compare",
    "evaluate",
    "evaluate_design",
    "extend_chassis",
    "find_pathways",
    "fseof",
    "growth_coupled_designs",
    "knocked_spec",
    "knockout_candidates",
    "load_universe",
    "minimal_cut_sets",
    "optknock",
    "pareto",
    "rank",
    "resolve_target",
]
