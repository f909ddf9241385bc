"""Genome-scale metabolic analysis: COBRApy's analyses, exact and fast.

Every analysis takes a model file path (SBML, COBRA JSON, MATLAB, YAML), a ``cobra.Model`` or a
compiled :class:`ModelSpec`, and returns COBRApy's result shapes::

    from cellfoundry.metabolism import load_model, fba, fva, single_gene_deletion
    model = load_model("iJO1366.xml")
    fba(model).objective_value
    fva(model, fraction_of_optimum=0.9, processes=2)

Beyond FBA, FVA and deletions: ``production_envelope`` and ``theoretical_yield``, model checks
(``check_mass_balance``, ``find_blocked_reactions``, ``find_dead_end_metabolites``,
``find_cyclic_reactions``, ``check_model``), flux ``sample``-ing and loopless FVA
(``fva(..., loopless=True)``).

Parallel analyses take ``processes`` (a local process pool) or ``executor`` (any
``concurrent.futures.Executor``, e.g. ``distributed.Client(...).get_executor()`` for Dask) and a
``progress(done, total)`` callback. The solver is a parameter (``"glpk"`` or ``"highs"``).
"""

from cellfoundry.metabolism.checks import (
    ModelCheck,
    check_mass_balance,
    check_model,
    find_blocked_reactions,
    find_dead_end_metabolites,
)
from cellfoundry.metabolism.deletion import (
    DeletionScreen,
    double_gene_deletion,
    double_reaction_deletion,
    find_essential_genes,
    find_essential_reactions,
    single_gene_deletion,
    single_reaction_deletion,
)
from cellfoundry.metabolism.envelope import (
    TheoreticalYield,
    production_envelope,
    theoretical_yield,
)
from cellfoundry.metabolism.flux import (
    InfeasibleError,
    Solution,
    UnboundedError,
    fba,
    flux_variability_analysis,
    fva,
    optimize,
    pfba,
)
from cellfoundry.metabolism.loopless import find_cyclic_reactions
from cellfoundry.metabolism.model import ModelSpec, load_model, with_medium
from cellfoundry.metabolism.sampling import sample

__all__ = [
    "DeletionScreen",
    "InfeasibleError",
    "ModelCheck",
    "ModelSpec",
    "Solution",
    "TheoreticalYield",
    "UnboundedError",
    "check_mass_balance",
    "check_model",
    "double_gene_deletion",
    "double_reaction_deletion",
    "fba",
    "find_blocked_reactions",
    "find_cyclic_reactions",
    "find_dead_end_metabolites",
    "find_essential_genes",
    "find_essential_reactions",
    "flux_variability_analysis",
    "fva",
    "load_model",
    "optimize",
    "pfba",
    "production_envelope",
    "sample",
    "single_gene_deletion",
    "single_reaction_deletion",
    "theoretical_yield",
    "with_medium",
]
