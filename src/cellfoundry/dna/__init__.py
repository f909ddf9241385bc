"""Pure DNA sequence engines, from guides to editing plans.

Similarity search, CRISPR guides, off-targets, donors, integration, synthesis planning,
codon optimisation, assembly and editing plans. No database, web or network imports;
numpy and scientific libraries only (DNA Chisel and pydna are imported when first used).
"""

from cellfoundry.dna.codon import CodonOptimisation, codon_adaptation_index, optimise_codons
from cellfoundry.dna.constructs import moclo_level0, transcription_unit
from cellfoundry.dna.crispr import (
    MIT_MISMATCH_WEIGHTS,
    Guide,
    find_guides,
    mit_hit_score,
    mit_specificity,
)
from cellfoundry.dna.donors import Donor, PointMutationDonor, knockout_donor, point_mutation_donor
from cellfoundry.dna.gibson import GibsonResult, gibson_assembly
from cellfoundry.dna.golden_gate import GoldenGateResult, golden_gate, overhang_fidelity
from cellfoundry.dna.guides import GuideDesign, design_guides, find_offtargets, guide_library
from cellfoundry.dna.integration import Integration, NeutralLocus, integrate, suggest_neutral_loci
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex
from cellfoundry.dna.plan import EditingPlan, plan_edits
from cellfoundry.dna.primers import PrimerPair, design_primers
from cellfoundry.dna.scores import cfd_score, rule_set_1
from cellfoundry.dna.similarity import (
    Hit,
    KmerIndex,
    SeedChain,
    Sketch,
    align_exhaustive,
    search,
    sketch,
)
from cellfoundry.dna.synthesis import SynthesisPlan, plan_synthesis

__all__ = [
    "MIT_MISMATCH_WEIGHTS",
    "CodonOptimisation",
    "Donor",
    "EditingPlan",
    "GibsonResult",
    "GoldenGateResult",
    "Guide",
    "GuideDesign",
    "Hit",
    "Integration",
    "KmerIndex",
    "NeutralLocus",
    "OffTargetHit",
    "OffTargetIndex",
    "PointMutationDonor",
    "PrimerPair",
    "SeedChain",
    "Sketch",
    "SynthesisPlan",
    "align_exhaustive",
    "cfd_score",
    "codon_adaptation_index",
    "design_guides",
    "design_primers",
    "find_guides",
    "find_offtargets",
    "gibson_assembly",
    "golden_gate",
    "guide_library",
    "integrate",
    "knockout_donor",
    "mit_hit_score",
    "mit_specificity",
    "moclo_level0",
    "optimise_codons",
    "overhang_fidelity",
    "plan_edits",
    "plan_synthesis",
    "point_mutation_donor",
    "rule_set_1",
    "search",
    "sketch",
    "suggest_neutral_loci",
    "transcription_unit",
]
