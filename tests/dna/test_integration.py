"""Neutral loci and integration donors, on the Mycoplasma mycoides genome and hand-made ones."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cellfoundry.bank.formats import read
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, reverse_complement
from cellfoundry.dna.crispr import find_guides
from cellfoundry.dna.donors import find_gene
from cellfoundry.dna.integration import (
    ESSENTIAL_PATTERN,
    NeutralLocus,
    integrate,
    suggest_neutral_loci,
)
from cellfoundry.dna.offtarget import OffTargetIndex

GENOME = Path("sbol-test-suite/GenBank/genomes/20027.gbk")
FRAGMENT = "".join(random.Random(7).choice("ACGT") for _ in range(3000))


@pytest.fixture(scope="module")
def genome(shared_data: Path) -> SequenceRecord:
    (record,) = read(shared_data / GENOME)
    return record


@pytest.fixture(scope="module")
def index(genome: SequenceRecord) -> OffTargetIndex:
    return OffTargetIndex([genome])


@pytest.fixture(scope="module")
def loci(genome: SequenceRecord, index: OffTargetIndex) -> list[NeutralLocus]:
    return suggest_neutral_loci(genome, offtarget_index=index)


def by_tag(genome: SequenceRecord, tag: str) -> Feature:
    return next(f for f in genome.features if f.type == "CDS" and f.qualifier("locus_tag") == tag)


def test_neutral_loci_lie_between_convergent_genes(
    genome: SequenceRecord, loci: list[NeutralLocus]
) -> None:
    assert loci
    assert [x.score for x in loci] == sorted((x.score for x in loci), reverse=True)
    for locus in loci:
        left, right = by_tag(genome, locus.left_gene), by_tag(genome, locus.right_gene)
        assert (left.strand, right.strand) == (1, -1)  # terminators back to back
        assert (left.end, right.start) == (locus.start, locus.end)
        assert locus.length >= 150
        assert locus.start + 40 < locus.insertion_site < locus.end - 40
        # no annotated gene inside the region
        assert not any(
            f.type in ("CDS", "tRNA", "rRNA") and f.start < locus.end and f.end > locus.start
            for f in genome.features
        )


def test_neutral_loci_are_far_from_essential_and_mobile_genes(
    genome: SequenceRecord, loci: list[NeutralLocus]
) -> None:
    flagged = [
        f
        for f in genome.features
        if f.type in ("tRNA", "rRNA", "misc_RNA", "repeat_region")
        or (
            f.type == "CDS"
            and any(
                w in " ".join(v or "" for k, v in f.qualifiers if k in ("gene", "product")).lower()
                for w in ("ribosom", "transpos", "polymerase", "gyrase", "trna", "translation")
            )
        )
    ]
    assert ESSENTIAL_PATTERN.search("50S ribosomal protein L2")
    for locus in loci:
        nearest = min(max(f.start - locus.end, locus.start - f.end, 0) for f in flagged)
        assert nearest >= 2000
        assert locus.distance_to_essential >= 2000


def test_neutral_locus_guides_are_unique(
    genome: SequenceRecord, index: OffTargetIndex, loci: list[NeutralLocus]
) -> None:
    for locus in loci:
        guide = locus.guide
        assert locus.off_target_sites == 0
        hits = index.search([guide.spacer], 2)
        assert [(h.position, h.strand, h.mismatches) for h in hits] == [
            (guide.position, guide.strand, 0)
        ]
        site = genome.sequence[guide.position : guide.end]
        assert (site if guide.strand == 1 else reverse_complement(site)) == guide.spacer + guide.pam
        assert not guide.poly_t


def test_integrate_at_the_best_neutral_locus(
    genome: SequenceRecord, index: OffTargetIndex, loci: list[NeutralLocus]
) -> None:
    result = integrate(genome, FRAGMENT, neutral_loci=loci, offtarget_index=index)
    site = loci[0].insertion_site
    assert result.neutral_locus == loci[0]
    assert result.arm_length == 400
    assert result.left_arm.sequence == genome.sequence[site - 400 : site]
    assert result.right_arm.sequence == genome.sequence[site : site + 400]
    assert result.donor == result.left_arm.sequence + FRAGMENT + result.right_arm.sequence
    assert result.edited_region == result.donor
    assert (result.replaced.start, result.replaced.end) == (site, site)
    assert result.guides == (loci[0].guide,)
    edited_spacers = {g.spacer for g in find_guides(result.edited_region)}
    assert loci[0].guide.spacer not in edited_spacers
    assert not result.warnings


def test_integrate_suggests_the_locus_itself(
    genome: SequenceRecord, index: OffTargetIndex, loci: list[NeutralLocus]
) -> None:
    result = integrate(genome, FRAGMENT[:500], offtarget_index=index, host="s_cerevisiae")
    assert result.neutral_locus == loci[0]
    assert len(result.left_arm) == len(result.right_arm) == 500


def test_integrate_at_a_position_with_a_spanning_guide(genome: SequenceRecord) -> None:
    locus = find_gene(genome, "dnaA")
    guide = next(
        g for g in find_guides(genome.sequence[locus.start : locus.start + 400]) if not g.poly_t
    )
    site = locus.start + guide.position + 10  # inside the target
    result = integrate(genome, FRAGMENT[:200], locus=site, arm_length=50)
    assert result.left_arm.sequence == genome.sequence[site - 50 : site]
    assert result.right_arm.sequence == genome.sequence[site : site + 50]
    assert result.guides
    for g in result.guides:
        assert g.position < site < g.end
        assert g.spacer not in {x.spacer for x in find_guides(result.edited_region)}


def test_integrate_replacing_a_gene(genome: SequenceRecord) -> None:
    feature = find_gene(genome, "rbsC-2")  # reverse strand
    result = integrate(genome, FRAGMENT[:600], locus="rbsC-2", arm_length=100)
    assert (result.replaced.start, result.replaced.end) == (feature.start, feature.end)
    assert result.fragment == reverse_complement(FRAGMENT[:600])  # placed in the gene's sense
    assert result.left_arm.sequence == genome.sequence[feature.start - 100 : feature.start]
    assert result.donor == result.left_arm.sequence + result.fragment + result.right_arm.sequence


def test_hand_made_convergent_pair() -> None:
    rng = random.Random(11)
    seq = "".join(rng.choice("ACGT") for _ in range(6000))
    features = (
        Feature(
            "CDS", (FeatureSpan(0, 1500, 1),), (("locus_tag", "a"), ("product", "sugar kinase"))
        ),
        Feature("CDS", (FeatureSpan(1800, 3000, -1),), (("locus_tag", "b"),)),
        Feature(
            "CDS", (FeatureSpan(3300, 4500, -1),), (("locus_tag", "c"),)
        ),  # b, c not convergent
        Feature("CDS", (FeatureSpan(4800, 6000, 1),), (("locus_tag", "d"),)),
    )
    genome = SequenceRecord("g", seq, features=features)
    loci = suggest_neutral_loci(genome, min_distance_from_essential=0)
    assert {(x.left_gene, x.right_gene) for x in loci} == {("a", "b")}
    # an essential-looking neighbour rules the region out
    essential = (
        Feature("CDS", (FeatureSpan(0, 1500, 1),), (("product", "50S ribosomal protein L2"),)),
    )
    assert suggest_neutral_loci(SequenceRecord("g", seq, features=essential + features[1:])) == []


def test_integration_errors(genome: SequenceRecord) -> None:
    with pytest.raises(ValidationError, match="the fragment is empty"):
        integrate(genome, "", locus=1000)
    with pytest.raises(ValidationError, match="use A, C, G, T"):
        integrate(genome, "ACGTN", locus=1000)
    with pytest.raises(ValidationError, match="outside the genome") as info:
        integrate(genome, "ACGT", locus=len(genome) + 5)
    assert info.value.field == "locus"
    with pytest.raises(ValidationError, match="no gene or CDS named"):
        integrate(genome, "ACGT", locus="notagene")
    bare = SequenceRecord("bare", "".join(random.Random(2).choice("ACGT") for _ in range(3000)))
    with pytest.raises(ValidationError, match="no neutral locus found"):
        integrate(bare, "ACGT")
    with pytest.raises(ValidationError, match="runs off the ends of the linear sequence"):
        integrate(bare, "ACGT", locus=100)
