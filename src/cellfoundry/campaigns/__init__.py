"""DBTL campaigns: the loop from a design space to built, measured strains and the next designs.

The record lives in the bank (:mod:`cellfoundry.bank._campaigns`); this service runs a cycle
through the engines: designs -> Golden Gate reactions -> worklists and an Opentrons script
(:mod:`cellfoundry.automation`) -> planned strains with lineage -> measurements
(:mod:`cellfoundry.assay`) -> a recommender trained on every cycle so far, its next designs and
what matters (:mod:`cellfoundry.learn`).
"""

from cellfoundry.campaigns.loop import (
    PartStock,
    build_cycle,
    cycle_reactions,
    design_space_of,
    first_designs,
    import_performance,
    recommend_next,
)

__all__ = [
    "PartStock",
    "build_cycle",
    "cycle_reactions",
    "design_space_of",
    "first_designs",
    "import_performance",
    "recommend_next",
]
