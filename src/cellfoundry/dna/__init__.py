"""Pure DNA sequence engines: similarity search, CRISPR guides and off-target search.

No database, web or network imports; numpy and scientific libraries only.
"""

from cellfoundry.dna.crispr import (
    MIT_MISMATCH_WEIGHTS,
    Guide,
    find_guides,
    mit_hit_score,
    mit_specificity,
)
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex
from cellfoundry.dna.similarity import (
    Hit,
    KmerIndex,
    SeedChain,
    Sketch,
    align_exhaustive,
    search,
    sketch,
)

__all__ = [
    "MIT_MISMATCH_WEIGHTS",
    "Guide",
    "Hit",
    "KmerIndex",
    "OffTargetHit",
    "OffTargetIndex",
    "SeedChain",
    "Sketch",
    "align_exhaustive",
    "find_guides",
    "mit_hit_score",
    "mit_specificity",
    "search",
    "sketch",
]
