"""Transcription units and CIDAR MoClo level-0 parts, checked with Biopython's BsaI."""

from __future__ import annotations

import importlib

import pytest
from Bio.Seq import Seq

from cellfoundry.core.errors import InvalidSequenceError, ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
from cellfoundry.dna.codon import optimise_codons, translate
from cellfoundry.dna.constructs import (
    MOCLO_FUSION_SITES,
    SiteHit,
    find_type_iis_sites,
    moclo_level0,
    transcription_unit,
)

# iGEM Registry parts: Anderson promoter J23100, RBS B0034, T7 terminator (BBa_K731721).
J23100 = ("J23100", "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC")
B0034 = ("B0034", "AAAGAGGAGAAA")
T7TERM = ("T7 term", "CTAGCATAACCCCTTGGGGCCTCTAAACGGGTCTTGAGGGGTTTTTTG")
# GFPmut3 (BBa_E0040), the CDS of the CIDAR kit's E0040m part.
GFP = (
    "ATGCGTAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAA"
    "TTTTCTGTCAGTGGAGAGGGTGAAGGTGATGCAACATACGGAAAACTTACCCTTAAATTTATTTGCACTACTGGAAAA"
    "CTACCTGTTCCATGGCCAACACTTGTCACTACTTTCGGTTATGGTGTTCAATGCTTTGCGAGATACCCAGATCATATG"
    "AAACAGCATGACTTTTTCAAGAGTGCCATGCCCGAAGGTTATGTACAGGAAAGAACTATATTTTTCAAAGATGACGGG"
    "AACTACAAGACACGTGCTGAAGTCAAGTTTGAAGGTGATACCCTTGTTAATAGAATCGAGTTAAAAGGTATTGATTTT"
    "AAAGAAGATGGAAACATTCTTGGACACAAATTGGAATACAACTATAACTCACACAATGTATACATCATGGCAGACAAA"
    "CAAAAGAATGGAATCAAAGTTAACTTCAAAATTAGACACAACATTGAAGATGGAAGCGTTCAACTAGCAGACCATTAT"
    "CAACAAAATACTCCAATTGGCGATGGCCCTGTCCTTTTACCAGACAACCATTACCTGTCCACACAATCTGCCCTTTCG"
    "AAAGATCCCAACGAAAAGAGAGATCACATGGTCCTTCTTGAGTTTGTAACAGCTGCTGGGATTACACATGGCATGGAT"
    "GAACTATACAAATAATAA"
)
GFP_PROTEIN = (
    "MRKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFGYGVQCFARYPDHM"
    "KQHDFFKSAMPEGYVQERTIFFKDDGNYKTRAEVKFEGDTLVNRIELKGIDFKEDGNILGHKLEYNYNSHNVYIMADK"
    "QKNGIKVNFKIRHNIEDGSVQLADHYQQNTPIGDGPVLLPDNHYLSTQSALSKDPNEKRDHMVLLEFVTAAGITHGMD"
    "ELYK"
)
CDS = ("GFPmut3", GFP)
BsaI = importlib.import_module("Bio.Restriction").BsaI  # Biopython's REBASE definition


def features_by_type(record: SequenceRecord) -> dict[str, Feature]:
    return {f.type: f for f in record.features if f.type != "misc_feature"}


def bsai_insert(level0: str) -> str:
    """The top strand BsaI releases from a level-0 part: 5' overhang + part (Biopython's BsaI)."""
    cuts = BsaI.search(Seq(level0), linear=True)  # 1-based, first base after the top-strand cut
    assert len(cuts) == 2
    left, right = sorted(cuts)
    return level0[left - 1 : right - 1]


def test_gfp_fixture_is_the_e0040_protein() -> None:
    assert translate(GFP) == GFP_PROTEIN + "**"  # E0040 ends with a double stop, TAATAA


def test_plain_unit_concatenates_and_annotates() -> None:
    promoter = SequenceRecord(J23100[0], J23100[1])
    tu = transcription_unit(promoter, B0034, CDS, T7TERM, name="tuGFP")
    assert tu.sequence == J23100[1] + B0034[1] + GFP + T7TERM[1]
    assert tu.name == "tuGFP"
    assert tu.topology == "linear"
    keys = [f.type for f in tu.features]
    assert keys == ["promoter", "RBS", "CDS", "terminator"]
    feats = features_by_type(tu)
    assert [feats[k].label for k in keys] == ["J23100", "B0034", "GFPmut3", "T7 term"]
    cds = feats["CDS"]
    assert tu.sequence[cds.start : cds.end] == GFP
    assert cds.qualifier("codon_start") == "1"
    assert cds.qualifier("transl_table") == "11"
    assert cds.qualifier("translation") == GFP_PROTEIN
    assert "ribosome_entry_site" in (feats["RBS"].qualifier("note") or "")
    assert feats["terminator"].end == len(tu)


@pytest.mark.parametrize(
    ("cds", "message"),
    [
        ("CTGAAATAA", "starts with CTG, not a start codon"),
        ("ATGAAACTG", "ends with CTG, not a stop codon"),
        ("ATGTAAAAATAA", "internal stop codon TAA at codon 2"),
        ("ATGAAAATAA", "10 nt is not a multiple of 3"),
        ("ATGNNNTAA", "ambiguous bases"),
        ("", "cds part is empty"),
    ],
)
def test_cds_errors_name_the_part(cds: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        transcription_unit(J23100, B0034, ("myCDS", cds), T7TERM, name="tu")
    assert info.value.record == "myCDS"


def test_gtg_start_and_invalid_base() -> None:
    tu = transcription_unit(J23100, B0034, ("alt", "GTGAAATAA"), T7TERM, name="tu")
    assert features_by_type(tu)["CDS"].qualifier("translation") == "MK"
    with pytest.raises(InvalidSequenceError) as info:
        transcription_unit(("pBad", "TTGAXC"), B0034, CDS, T7TERM, name="tu")
    assert info.value.record == "pBad"
    assert info.value.position == 5


def test_level0_parts_release_the_cidar_overhangs() -> None:
    parts = {"promoter": J23100, "rbs": B0034, "cds": CDS, "terminator": T7TERM}
    for kind, (name, seq) in parts.items():
        level0 = moclo_level0((name, seq), kind)
        five, three = MOCLO_FUSION_SITES[kind]  # type: ignore[index]
        inner = seq[3:] if kind == "cds" else seq
        assert level0.sequence == "GGTCTCA" + five + inner + three + "AGAGACC"
        assert bsai_insert(level0.sequence) == five + inner
        assert level0.annotations["fusion_sites"] == [five, three]
        part = features_by_type(level0)[{"rbs": "RBS", "cds": "CDS"}.get(kind, kind)]
        assert level0.sequence[part.start : part.end] == seq
    assert MOCLO_FUSION_SITES == {
        "promoter": ("GGAG", "TACT"),
        "rbs": ("TACT", "AATG"),
        "cds": ("AATG", "AGGT"),
        "terminator": ("AGGT", "GCTT"),
    }


def test_moclo_unit_equals_the_ligated_level0_inserts() -> None:
    tu = transcription_unit(J23100, B0034, CDS, T7TERM, name="tuGFP", standard="moclo")
    expected = "GGAG" + J23100[1] + "TACT" + B0034[1] + "AATG" + GFP[3:] + "AGGT"
    assert tu.sequence == expected + T7TERM[1] + "GCTT"
    level0 = tu.annotations["moclo_level0"]
    assert isinstance(level0, dict)
    assert list(level0) == ["J23100", "B0034", "GFPmut3", "T7 term"]
    ligated = "".join(bsai_insert(seq) for seq in level0.values()) + "GCTT"
    assert ligated == tu.sequence
    cds = features_by_type(tu)["CDS"]
    assert tu.sequence[cds.start : cds.end] == GFP
    assert translate(tu.sequence[cds.start : cds.end]) == GFP_PROTEIN + "**"
    sites = [f.qualifier("note") for f in tu.features if f.type == "misc_feature"]
    assert sites == [f"fusion site {s}" for s in ("GGAG", "TACT", "AATG", "AGGT", "GCTT")]


def test_internal_sites_are_errors_with_part_and_position() -> None:
    promoter = ("pSite", "TTGACGGCTAGCGGTCTCTACAGTGCTAGC")  # BsaI at nt 13
    with pytest.raises(
        ValidationError, match=r"'pSite' \(promoter\): BsaI site GGTCTC \(\+\) at nt 13"
    ):
        moclo_level0(promoter, "promoter")
    term = ("tSite", "CTAGCATAGTCTTCCCTTGG")  # BpiI on the minus strand at nt 9
    with pytest.raises(ValidationError, match=r"BpiI site GTCTTC \(-\) at nt 9") as info:
        transcription_unit(J23100, B0034, CDS, term, name="tu", standard="moclo")
    assert info.value.record == "tSite"
    with pytest.raises(ValidationError, match=r"'pSite'.*'tSite'") as both:
        transcription_unit(promoter, B0034, CDS, term, name="tu2", standard="moclo")
    assert both.value.record == "tu2"


def test_site_made_with_a_fusion_site_is_caught() -> None:
    # GGAG + ACC... reads GGAGACC: a BsaI site (GAGACC, minus strand) across the junction.
    with pytest.raises(ValidationError, match="across the fusion site junction"):
        moclo_level0(("pJ", "ACCTTGACGGCTAGC"), "promoter")
    assert find_type_iis_sites("AGGAGACCT") == (SiteHit("BsaI", 3, -1),)


def test_moclo_needs_an_atg_start_and_known_names() -> None:
    with pytest.raises(ValidationError, match="AATG fusion site supplies") as info:
        transcription_unit(J23100, B0034, ("alt", "GTGAAATAA"), T7TERM, name="tu", standard="moclo")
    assert info.value.record == "alt"
    with pytest.raises(ValidationError, match="unknown MoClo part type"):
        moclo_level0("ACGT", "enhancer")
    with pytest.raises(ValidationError, match="unknown assembly standard"):
        transcription_unit(J23100, B0034, CDS, T7TERM, name="tu", standard="biobrick")  # type: ignore[arg-type]


def test_optimised_gene_domesticated_for_moclo() -> None:
    # A CDS with BsaI and BpiI sites in frame: Gly-Leu (GGT CTC) and Glu-Asp (GAA GAC).
    dirty = "ATG" + "GGTCTC" + "GAAGAC" + GFP[3:]
    with pytest.raises(ValidationError, match="BsaI site GGTCTC"):
        moclo_level0(("dirty", dirty), "cds")
    clean = optimise_codons(dirty, name="GFPopt")
    assert translate(clean.sequence) == translate(dirty)
    level0 = moclo_level0(("GFPopt", clean.sequence), "cds")
    assert bsai_insert(level0.sequence) == "AATG" + clean.sequence[3:]
    tu = transcription_unit(J23100, B0034, ("GFPopt", clean.sequence), T7TERM, name="tu")
    assert features_by_type(tu)["CDS"].qualifier("translation") == translate(dirty).rstrip("*")


def test_record_parts_keep_their_names() -> None:
    spans = (FeatureSpan(0, 3),)
    cds = SequenceRecord("rec", "ATGAAATAA", features=(Feature("CDS", spans),))
    level0 = moclo_level0(cds, "CDS")
    assert level0.name == "rec"
    assert level0.sequence == "GGTCTCAAATGAAATAAAGGTAGAGACC"
    assert moclo_level0(cds, "cds", name="renamed").name == "renamed"
