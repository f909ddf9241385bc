"""Knock-out and point-mutation donors, on the Mycoplasma mycoides genome and small hand-made ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from Bio.Seq import translate

from cellfoundry.bank.formats import read
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, reverse_complement
from cellfoundry.dna.crispr import Guide, find_guides
from cellfoundry.dna.donors import (
    ARM_LENGTHS,
    SEED_LENGTH,
    PointMutationDonor,
    find_gene,
    knockout_donor,
    oligo_strand,
    point_mutation_donor,
    translation_table,
)
from cellfoundry.dna.offtarget import OffTargetIndex

GENOME = Path("sbol-test-suite/GenBank/genomes/20027.gbk")


@pytest.fixture(scope="module")
def genome(shared_data: Path) -> SequenceRecord:
    (record,) = read(shared_data / GENOME)
    return record


@pytest.fixture(scope="module")
def index(genome: SequenceRecord) -> OffTargetIndex:
    return OffTargetIndex([genome])


def flank(genome: SequenceRecord, start: int, end: int) -> str:
    seq, n = genome.sequence, len(genome.sequence)
    return "".join(seq[i % n] for i in range(start, end))


def cds_seq(genome: SequenceRecord, feature: Feature, seq: str | None = None) -> str:
    text = (seq or genome.sequence)[feature.start : feature.end]
    return text if feature.strand == 1 else reverse_complement(text)


def protein(dna: str, table: int) -> str:
    return str(translate(dna[: len(dna) - len(dna) % 3], table=table))


def target_text(guide: Guide) -> str:
    return guide.spacer + guide.pam


def guide_site(text: str, guide: Guide, offset: int) -> str:
    """The target (as read on the guide's strand) at the guide's place in ``text``."""
    width = len(guide.spacer) + len(guide.pam)
    site = text[guide.position - offset : guide.position - offset + width]
    return site if guide.strand == 1 else reverse_complement(site)


# --------------------------------------------------------------------------- knock-outs


def test_mycoplasma_code_is_inferred_as_table_4(genome: SequenceRecord) -> None:
    dnaa = find_gene(genome, "dnaA")
    assert translation_table(dnaa, genome) == 4
    assert translation_table(dnaa, genome, 11) == 11
    annotated = dnaa.qualifier("translation")
    assert annotated is not None
    assert protein(cds_seq(genome, dnaa), 4).rstrip("*") == annotated


def test_crispr_knockout_of_dnaA_wraps_the_origin(genome: SequenceRecord) -> None:
    donor = knockout_donor(genome, "dnaA", method="crispr_hr")
    feature = find_gene(genome, "dnaA")  # 138..1491 (+): left arm runs across the origin
    assert donor.arm_length == ARM_LENGTHS[("e_coli", "crispr_hr")] == 400
    assert len(donor.left_arm) == len(donor.right_arm) == 400
    d0, d1 = feature.start + 3, feature.end - 21  # start codon and last 7 codons kept
    assert (donor.deleted.start, donor.deleted.end) == (d0, d1)
    assert donor.deleted.sequence == genome.sequence[d0:d1]
    assert donor.left_arm.sequence == flank(genome, d0 - 400, d0)
    assert donor.left_arm.sequence == genome.sequence[d0 - 400 :] + genome.sequence[:d0]
    assert donor.left_arm.start == len(genome) - (400 - d0)
    assert donor.left_arm.end == d0
    assert donor.right_arm.sequence == genome.sequence[d1 : d1 + 400]
    assert donor.donor == donor.edited_region == donor.left_arm.sequence + donor.right_arm.sequence
    annotated = feature.qualifier("translation")
    assert annotated is not None
    assert donor.translation_table == 4
    assert donor.edited_protein == annotated[0] + annotated[-6:] + "*" == "MNKILTK*"
    assert donor.locus_tag == "Ga0076475_111"
    assert donor.guides
    edited_spacers = {g.spacer for g in find_guides(donor.edited_region)}
    for guide in donor.guides:
        cut = guide.position + 17 if guide.strand == 1 else guide.position + 6
        assert d0 < cut < d1
        assert guide_site(genome.sequence, guide, 0) == target_text(guide)
        assert guide.spacer not in edited_spacers
        assert target_text(guide) not in donor.edited_region
        assert target_text(guide) not in reverse_complement(donor.edited_region)


def test_lambda_red_knockout_of_a_reverse_strand_gene(genome: SequenceRecord) -> None:
    donor = knockout_donor(genome, "rbsC-2", method="lambda_red_dsdna")
    feature = find_gene(genome, "rbsC-2")
    assert feature.strand == -1
    assert donor.arm_length == 50 == len(donor.left_arm) == len(donor.right_arm)
    d0, d1 = feature.start + 21, feature.end - 3
    assert (donor.deleted.start, donor.deleted.end) == (d0, d1)
    assert donor.left_arm.sequence == genome.sequence[d0 - 50 : d0]
    assert donor.right_arm.sequence == genome.sequence[d1 : d1 + 50]
    annotated = feature.qualifier("translation")
    assert annotated is not None
    assert donor.edited_protein == annotated[0] + annotated[-6:] + "*"
    # the edited locus, read on the gene's strand, is start codon + last 7 codons
    edited_gene = reverse_complement(
        genome.sequence[feature.start : d0] + genome.sequence[d1 : feature.end]
    )
    assert protein(edited_gene, 4) == donor.edited_protein


def test_offtarget_index_keeps_only_unique_guides(
    genome: SequenceRecord, index: OffTargetIndex
) -> None:
    donor = knockout_donor(genome, "dnaA", method="crispr_hr", offtarget_index=index)
    assert donor.guides
    hits = index.search([g.spacer for g in donor.guides], 2)
    assert len(hits) == len(donor.guides)  # each guide finds only its own target


def test_ssdna_oligo_targets_the_lagging_strand(genome: SequenceRecord) -> None:
    near_origin = knockout_donor(genome, "dnaN", method="lambda_red_ssdna")
    assert near_origin.arm_length == 45
    assert len(near_origin.donor) == 90
    assert near_origin.donor_strand == -1  # right replichore: oligo is the reverse strand
    assert near_origin.donor == reverse_complement(near_origin.edited_region)
    far = find_gene(genome, "Ga0076475_11505")  # about 512 kb: still clockwise of the origin
    late = next(
        f
        for f in genome.features
        if f.type == "CDS" and f.start > 0.75 * len(genome) and f.end - f.start > 300
    )
    assert oligo_strand(genome, far.start, 0) == -1
    tag = late.qualifier("locus_tag")
    assert tag is not None
    left = knockout_donor(genome, tag, method="lambda_red_ssdna")
    assert left.donor_strand == 1
    assert left.donor == left.edited_region


def test_stop_cassette_replaces_the_orf_in_the_gene_sense(genome: SequenceRecord) -> None:
    cassette = "TAGTAGTAG"
    donor = knockout_donor(genome, "rbsC-2", insert=cassette)
    assert donor.insert == reverse_complement(cassette)
    assert donor.edited_region == donor.left_arm.sequence + donor.insert + donor.right_arm.sequence
    assert donor.edited_protein.startswith("M***")


def test_whole_orf_deletion(genome: SequenceRecord) -> None:
    donor = knockout_donor(genome, "dnaN", keep_start_stop=False, arm_length=60)
    feature = find_gene(genome, "dnaN")
    assert (donor.deleted.start, donor.deleted.end) == (feature.start, feature.end)
    assert donor.left_arm.sequence == genome.sequence[feature.start - 60 : feature.start]
    assert donor.right_arm.sequence == genome.sequence[feature.end : feature.end + 60]
    assert donor.edited_protein == ""


def test_yeast_arm_defaults() -> None:
    orf = "ATG" + "GCTGGTCCA" * 20 + "TAA"
    genome = SequenceRecord(
        "chr",
        "AT" * 600 + orf + "AT" * 600,
        features=(Feature("CDS", (FeatureSpan(1200, 1200 + len(orf), 1),), (("gene", "YFG1"),)),),
    )
    assert knockout_donor(genome, "YFG1", host="s_cerevisiae").arm_length == 500
    cassette = knockout_donor(genome, "YFG1", host="s_cerevisiae", method="pcr_cassette")
    assert len(cassette.left_arm) == len(cassette.right_arm) == 50


def test_knockout_errors(genome: SequenceRecord) -> None:
    with pytest.raises(
        ValidationError, match=r"no gene or CDS named 'dnaZZ'.*did you mean"
    ) as info:
        knockout_donor(genome, "dnaZZ")
    assert info.value.field == "gene"
    assert info.value.record == "dnaZZ"
    with pytest.raises(ValidationError, match=r"'lpp' is ambiguous.*use a locus_tag") as info:
        knockout_donor(genome, "lpp")
    assert info.value.field == "gene"
    with pytest.raises(ValidationError, match="not used in s_cerevisiae"):
        knockout_donor(genome, "dnaA", host="s_cerevisiae", method="lambda_red_dsdna")
    with pytest.raises(ValidationError, match="use A, C, G, T"):
        knockout_donor(genome, "dnaA", insert="ACGU")
    linear = SequenceRecord(
        "lin",
        "ATGGCTGCTGCTTAA" + "A" * 30,
        features=(Feature("CDS", (FeatureSpan(0, 15, 1),), (("gene", "x"),)),),
    )
    with pytest.raises(ValidationError, match="runs off the ends of the linear sequence"):
        knockout_donor(linear, "x", kept_codons=(1, 1))
    with pytest.raises(ValidationError, match="too short to keep"):
        knockout_donor(linear, "x", arm_length=5)


def test_circular_hand_made_genome_wraps_both_ways() -> None:
    orf = "ATGAAACCCGGGTTTAAACCCGGGTTTTAA"
    seq = "ACGTAC" + orf + "GT" * 47
    genome = SequenceRecord(
        "p",
        seq,
        topology="circular",
        features=(Feature("CDS", (FeatureSpan(6, 36, 1),), (("gene", "g"),)),),
    )
    donor = knockout_donor(genome, "g", kept_codons=(1, 1), arm_length=20)
    assert donor.left_arm.sequence == seq[-11:] + seq[:9]
    assert donor.right_arm.sequence == seq[33:53]
    assert donor.edited_protein == "M*"


# --------------------------------------------------------------------------- point mutations


def check_point_donor(
    genome: SequenceRecord, donor: PointMutationDonor, table: int, max_cut_distance: int = 15
) -> None:
    """The science every point donor must satisfy."""
    n = len(genome)
    edited = list(genome.sequence)
    for change in donor.changes:
        assert genome.sequence[change.position] == change.old != change.new
        edited[change.position] = change.new
    edited_seq = "".join(edited)
    positions = [c.position for c in donor.changes]
    lo, hi = min(positions), max(positions) + 1
    assert len(donor.left_arm) == len(donor.right_arm) == donor.arm_length
    assert donor.left_arm.sequence == flank(genome, lo - donor.arm_length, lo)
    assert donor.right_arm.sequence == flank(genome, hi, hi + donor.arm_length)
    assert (
        donor.edited_region
        == donor.left_arm.sequence + edited_seq[lo:hi] + donor.right_arm.sequence
    )
    guide = donor.guide
    assert guide_site(genome.sequence, guide, 0) == target_text(guide)  # the guide cuts the genome
    assert guide.spacer not in {g.spacer for g in find_guides(donor.edited_region)}
    site = guide_site(edited_seq, guide, 0)
    pam_gone = site[21:23] != "GG"
    seed_mismatches = sum(
        a != b
        for a, b in zip(site[20 - SEED_LENGTH : 20], guide.spacer[-SEED_LENGTH:], strict=True)
    )
    assert pam_gone or seed_mismatches >= 2
    # every CDS overlapping a change: only the intended amino acid differs
    silent = [c for c in donor.changes if c.reason != "edit"]
    for feature in genome.features:
        if feature.type != "CDS" or not any(feature.start <= p < feature.end for p in positions):
            continue
        before = protein(cds_seq(genome, feature), table)
        after = protein(cds_seq(genome, feature, edited_seq), table)
        diffs = [
            f"{a}{i + 1}{b}" for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b
        ]
        reported = [p.split()[1] for p in donor.protein_changes]
        assert diffs == reported or not diffs
        # a silent change alone leaves the protein as it is
        only_silent = list(genome.sequence)
        for change in silent:
            only_silent[change.position] = change.new
        assert protein(cds_seq(genome, feature, "".join(only_silent)), table) == before
    assert donor.cut_distance <= max_cut_distance
    assert n == len(edited_seq)


def test_codon_change_with_silent_seed_mutations(genome: SequenceRecord) -> None:
    donor = point_mutation_donor(genome, ("dnaA", 9, "A"), method="crispr_hr", arm_length=100)
    assert donor.protein_changes == ("dnaA E9A",)
    assert {c.reason for c in donor.changes} == {"edit", "seed"}
    check_point_donor(genome, donor, 4)


def test_codon_change_with_silent_pam_mutation(genome: SequenceRecord) -> None:
    donor = point_mutation_donor(genome, ("dnaA", 22, "A"), method="crispr_hr", arm_length=100)
    assert donor.protein_changes == ("dnaA E22A",)
    assert [c.reason for c in donor.changes].count("pam") == 1
    assert donor.guide.strand == -1
    check_point_donor(genome, donor, 4)


def test_edit_that_blocks_the_guide_by_itself(genome: SequenceRecord) -> None:
    donor = point_mutation_donor(genome, ("gyrA", 18, "A"))
    assert {c.reason for c in donor.changes} == {"edit"}
    assert donor.method == "lambda_red_ssdna"
    assert donor.arm_length == 45
    check_point_donor(genome, donor, 4)


def test_tga_is_tryptophan_in_mycoplasma(genome: SequenceRecord) -> None:
    feature = find_gene(genome, "dnaA")
    codon = cds_seq(genome, feature)[3 * 325 : 3 * 326]
    assert codon == "TGA"
    donor = point_mutation_donor(genome, ("dnaA", 326, "F"), max_cut_distance=20)
    assert donor.protein_changes == ("dnaA W326F",)
    check_point_donor(genome, donor, 4, max_cut_distance=20)
    with pytest.raises(ValidationError, match="already codes W"):
        point_mutation_donor(genome, ("dnaA", 326, "W"))


def test_positional_edit(genome: SequenceRecord) -> None:
    position = 7628  # gyrA codon 18 first base
    donor = point_mutation_donor(genome, position, new_bases="GC")
    assert donor.changes[0].position == position
    assert donor.protein_changes == ("Ga0076475_117 Y18A",)
    check_point_donor(genome, donor, 4)


def test_point_mutation_errors(genome: SequenceRecord) -> None:
    with pytest.raises(ValidationError, match="no NGG guide cuts within 15 bp of the edit") as info:
        point_mutation_donor(genome, ("dnaA", 5, "A"))
    assert info.value.field == "position"
    with pytest.raises(ValidationError, match="codon 9999 is outside dnaA"):
        point_mutation_donor(genome, ("dnaA", 9999, "A"))
    with pytest.raises(ValidationError, match="not an amino acid"):
        point_mutation_donor(genome, ("dnaA", 9, "J"))
    with pytest.raises(ValidationError, match="needs new_bases"):
        point_mutation_donor(genome, 1000)
    with pytest.raises(ValidationError, match="no gene or CDS named"):
        point_mutation_donor(genome, ("nope", 1, "A"))


def test_hand_made_gene_without_any_pam() -> None:
    orf = "ATG" + "AAA" * 30 + "TAA"
    genome = SequenceRecord(
        "r",
        "TTTA" * 30 + orf + "TTTA" * 30,
        features=(Feature("CDS", (FeatureSpan(120, 120 + len(orf), 1),), (("gene", "k"),)),),
    )
    with pytest.raises(ValidationError, match="no NGG guide cuts within 20 bp"):
        point_mutation_donor(genome, ("k", 10, "R"), max_cut_distance=20, arm_length=30)


def test_hand_made_pam_in_a_wobble_position_is_destroyed_silently() -> None:
    # CTG GGT: the PAM's first G is Leu's wobble base; CTN is Leu, so it can change silently
    orf = "ATG" + "GAAGCTAAAGAAGCTAAAGAACTGGGTAAAGAAGCTAAAGAAGCT" + "TAA"
    genome = SequenceRecord(
        "r",
        "TTTA" * 30 + orf + "TTTA" * 30,
        features=(Feature("CDS", (FeatureSpan(120, 120 + len(orf), 1),), (("gene", "h"),)),),
    )
    donor = point_mutation_donor(genome, ("h", 7, "R"), arm_length=30, table=11)
    assert donor.protein_changes == ("h K7R",)
    pam_changes = [c for c in donor.changes if c.reason == "pam"]
    assert pam_changes
    check_point_donor(genome, donor, 11)
