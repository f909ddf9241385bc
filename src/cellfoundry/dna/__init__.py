"""Pure DNA sequence engines: similarity search (more engines to come).

No database, web or network imports; numpy and scientific libraries only.
"""

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
    "Hit",
    "KmerIndex",
    "SeedChain",
    "Sketch",
    "align_exhaustive",
    "search",
    "sketch",
]
