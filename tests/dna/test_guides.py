"""Guide libraries per gene (knock-out, CRISPRi, base editor) on the Mycoplasma genome."""

from __future__ import annotations

from pathlib import Path

import pytest
from Bio.Seq import Seq

from cellfoundry.bank.formats import read
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, reverse_complement
from cellfoundry.dna.guides import design_guides, find_offtargets, genes_of, guide_library
from cellfoundry.dna.offtarget import OffTargetIndex

GENOME = Path(__file__).parents[2] / ".." / "shared" / "data" / "sbol-test-suite" / "GenBank"
GENOME = GENOME / "genomes" / "20027.gbk"
GENES = ["Ga0076475_111", "Ga0076475_112", "Ga0076475_116", "Ga0076475_1110", "Ga0076475_1112"]


@pytest.fixture(scope="module")
def genome() -> list[SequenceRecord]:
    return read(str(GENOME))


@pytest.fixture(scope="module")
def index(genome) -> OffTargetIndex:
    return OffTargetIndex(genome)


def _cds(record: SequenceRecord, target) -> str:
    text = "".join(record.sequence[int(p)] for p in target.cds_positions())
    return (
        text
        if target.strand == 1
        else "".join({"A": "T", "C": "G", "G": "C", "T": "A"}[b] for b in text)
    )


def test_knockout_guides_cut_inside_their_gene_and_are_unique(genome, index):
    designs = guide_library(genome, genes=GENES, purpose="knockout", per_gene=4, index=index)
    targets = {t.name: t for t in genes_of(genome, GENES)}
    assert {d.gene for d in designs} == set(GENES)
    for d in designs:
        target = targets[d.gene]
        assert target.start <= d.cut < target.end
        site = d.spacer + d.pam
        forward = genome[0].sequence[d.position : d.position + 23].upper()
        assert (forward if d.strand == 1 else reverse_complement(forward)) == site
        assert d.pam.endswith("GG")
        assert "TTTT" not in d.spacer
        # the off-target counts are those of an independent search, own site left out
        hits = find_offtargets(index, [d.spacer], max_mismatches=3)
        counts = hits.groupby("mismatches").size().to_dict()
        assert counts.get(0) == 1  # only its own site
        assert d.off_targets == tuple(counts.get(m, 0) - (m == 0) for m in range(4))
    per_gene = {g: [d.score for d in designs if d.gene == g] for g in GENES}
    assert all(1 <= len(s) <= 4 and s == sorted(s, reverse=True) for s in per_gene.values())


def test_crispri_guides_pair_with_the_coding_strand_inside_the_gene(genome, index):
    designs = guide_library(genome, genes=GENES, purpose="crispri", per_gene=3, index=index)
    targets = {t.name: t for t in genes_of(genome, GENES)}
    assert designs
    for d in designs:
        target = targets[d.gene]
        assert -100 <= d.offset < 300
        if d.offset >= 0:  # inside the CDS: PAM on the template strand
            assert d.strand == -target.strand


def test_base_editor_guides_make_the_stop_they_claim_under_the_genomes_code(genome, index):
    designs = guide_library(genome, genes=GENES, purpose="base_edit", per_gene=2, index=index)
    targets = {t.name: t for t in genes_of(genome, GENES)}
    assert designs
    record = genome[0]
    for d in designs:
        target = targets[d.gene]
        assert target.table == 4  # Mycoplasma: TGA is tryptophan
        edited = list(record.sequence.upper())
        for i in range(3, 8):  # C->T at protospacer positions 4-8 on the guide's strand
            if d.spacer[i] == "C":
                if d.strand == 1:
                    edited[d.position + i] = "T"
                else:
                    edited[d.position + 22 - i] = "A"
        before = str(Seq(_cds(record, target)).translate(table=4))
        after_record = SequenceRecord("x", "".join(edited))
        after = str(Seq(_cds(after_record, target)).translate(table=4))
        first = next(i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b)
        assert after[first] == "*"
        assert d.edit.split(",")[0] == f"{before[first]}{first + 1}*"
        # CAA/CAG -> TAA/TAG, TGG -> TAG/TAA; never CGA -> TGA, which is W in code 4
        assert before[first] in "QW"


def test_base_editor_uses_the_standard_code_where_tgg_can_become_a_stop():
    # a small gene on the forward strand: ATG then TGG at codon 2. A reverse-strand PAM
    # (CCN on the forward strand) at 32 puts the C's facing TGG's G's, and not ATG's G, in
    # protospacer positions 4-8; AAG codons keep poly-T out of the spacer.
    cds = "ATG" + "TGG" + "AAG" * 12 + "TAA"
    flank_left = "AT" * 16 + "CC" + "ATATATATA"
    seq = flank_left + cds + "ATATATATATATATATATATATATATATATATATAT"
    feature = Feature(
        "CDS",
        (FeatureSpan(len(flank_left), len(flank_left) + len(cds), 1),),
        (("locus_tag", "g1"), ("transl_table", "11")),
    )
    record = SequenceRecord("c", seq, features=(feature,))
    designs = guide_library([record], purpose="base_edit", per_gene=5, max_mismatches=1)
    assert [(d.position, d.strand, d.edit) for d in designs] == [(32, -1, "W2*")]


def test_design_guides_frame_has_the_crispor_like_columns(genome):
    frame = design_guides(genome, genes=GENES[:2], per_gene=2)
    assert list(frame.columns[:7]) == [
        "gene",
        "purpose",
        "contig",
        "position",
        "strand",
        "spacer",
        "pam",
    ]
    assert set(frame.strand) <= {"+", "-"}
    assert frame.mit_specificity.between(0, 100).all()


def test_unknown_and_ambiguous_genes_are_named(genome):
    with pytest.raises(ValidationError, match="no CDS") as err:
        genes_of(genome, ["nosuchgene"])
    assert (err.value.record, err.value.field) == ("nosuchgene", "gene")
    twice = SequenceRecord(
        "c",
        "ATG" * 40,
        features=(
            Feature("CDS", (FeatureSpan(0, 30, 1),), (("gene", "abc"), ("locus_tag", "a1"))),
            Feature("CDS", (FeatureSpan(30, 60, 1),), (("gene", "abc"), ("locus_tag", "a2"))),
        ),
    )
    with pytest.raises(ValidationError, match="matches 2 CDSs"):
        genes_of([twice], ["abc"])
    with pytest.raises(ValidationError, match="unknown purpose"):
        guide_library([twice], purpose="prime_edit")  # type: ignore[arg-type]
