"""Golden Gate (MoClo) assembly against real MoClo toolkit plasmids and bad inputs."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import warnings
from importlib import resources
from pathlib import Path

import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Strand,
    reverse_complement,
    seguid,
)
from cellfoundry.dna.golden_gate import (
    ENZYMES,
    digest_type_iis,
    golden_gate,
    overhang_fidelity,
    overhang_report,
)

GENBANK = Path(__file__).resolve().parents[3] / "shared" / "data" / "sbol-test-suite" / "GenBank"
needs_moclo = pytest.mark.skipif(not GENBANK.is_dir(), reason="shared MoClo GenBank files absent")

DATA_SHA256 = {
    "ligation_pryor2020_bsai_hfv2_37c.csv.gz": (
        "fb6520ebdd0ec82c476736e264002d8a43ba2542ecb139ccaeea737da8ec0737"
    ),
    "ligation_pryor2020_bbsi_hf_37c.csv.gz": (
        "6a5d417ddef255709cd2eff73855f4dec6212968c0d9f36dadbd311ca347230d"
    ),
    "ligation_pryor2020_esp3i_37c.csv.gz": (
        "fc5c13498a59ac678e0035805c5ca2ad463f0e925b082cedf04ce7cc0bedc7b9"
    ),
    "ligation_pryor2020_bsmbi_v2_42c.csv.gz": (
        "c80399d61b05b8c35d7eee607304fe316e989711940b1bca95600e802ca03422"
    ),
}


def load(name: str) -> SequenceRecord:
    """Read a MoClo plasmid with Biopython into a circular SequenceRecord."""
    from Bio import SeqIO

    (path,) = GENBANK.glob(f"{name}.gb*")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the files' LOCUS lines are malformed
        rec = SeqIO.read(path, "genbank")
    features = []
    for f in rec.features:
        strand: Strand = f.location.strand if f.location.strand in (1, -1) else 0
        spans = tuple(FeatureSpan(int(p.start), int(p.end), strand) for p in f.location.parts)
        quals = tuple((k, str(v[0])) for k, v in f.qualifiers.items())
        features.append(Feature(f.type, spans, quals))
    return SequenceRecord(name, str(rec.seq).upper(), "circular", features=tuple(features))


def insert_of(plasmid: str) -> str:
    """The BsaI insert of a level-0 plasmid, both overhangs included, by plain string search."""
    n = len(plasmid)
    doubled = plasmid + plasmid
    fwd = doubled.find("GGTCTC")
    rev = doubled.find("GAGACC", fwd)
    return doubled[fwd + 7 : rev - 1][:n]


def acceptor() -> SequenceRecord:
    """A level-1 acceptor: the site-free backbone of pICH41421 (Sm/Sp, pMB1) + a dropout.

    The backbone carries GGAG and CGCT (the MoClo level-1 position 1 overhangs).
    """
    bb = load("pICH41421").sequence
    fwd, rev = bb.find("GGTCTC"), bb.find("GAGACC")
    body = bb[rev + 6 :] + bb[:fwd]
    dropout = "TGAGACC" + "AAACCCGGGTTTAAACCCGGGAATTC" + "GGTCTCA"
    return SequenceRecord("acceptor_L1", body + "GGAG" + dropout + "CGCT", "circular")


# --------------------------------------------------------------------------- data


@pytest.mark.parametrize("name", sorted(DATA_SHA256))
def test_shipped_matrices_are_the_recorded_files(name: str) -> None:
    raw = resources.files("cellfoundry.dna").joinpath("data", name).read_bytes()
    text = gzip.decompress(raw)
    assert hashlib.sha256(text).hexdigest() == DATA_SHA256[name]
    header = text.decode().splitlines()[0].split(",")
    assert header[:3] == ["Overhang", "AAAA", "AAAC"]
    assert len(header) == 257


def test_bsai_matrix_values_from_pryor_s1_table() -> None:
    from cellfoundry.dna.golden_gate import _INDEX, _ligation_counts

    counts = _ligation_counts("ligation_pryor2020_bsai_hfv2_37c.csv.gz")
    assert counts.sum() == 203_364  # total ligation events in S1 Table
    assert (counts == counts.T).all()  # a ligation joins two ends: symmetric
    assert counts[_INDEX["AAAA"], _INDEX["TTTT"]] == 635  # first cell of the table
    assert counts[_INDEX["AAAC"], _INDEX["GTTT"]] == 476
    assert counts[_INDEX["AAAC"], _INDEX["TTTT"]] == 8  # second cell: a C:T mismatch
    assert counts[_INDEX["AAAA"], _INDEX["GTTT"]] == 3  # second row, first cell


def test_moclo_standard_overhangs_are_high_fidelity() -> None:
    report = overhang_report(["GGAG", "AATG", "GCTT", "CGCT"])
    assert [r.overhang for r in report] == [
        "GGAG", "CTCC", "AATG", "CATT", "GCTT", "AAGC", "CGCT", "AGCG",
    ]  # fmt: skip
    assert all(r.fidelity == 1.0 and r.worst_mispair == "" for r in report)
    assert overhang_fidelity(["GGAG", "AATG", "GCTT", "CGCT"]) == 1.0
    # the 9-overhang MoClo plant standard has measurable cross-talk
    twelve = ["GGAG", "TACT", "CCAT", "AATG", "AGGT", "TTCG", "GCTT", "GGTA", "CGCT"]
    assert 0.8 < overhang_fidelity(twelve) < 0.95


def test_fidelity_is_strand_and_order_independent() -> None:
    a = overhang_fidelity(["GGAG", "AATG", "CCGC", "ACGG"])
    b = overhang_fidelity(["CATT", "GCGG", "CTCC", "CCGT"])
    assert a == pytest.approx(b)


def test_worst_mispair_is_named_from_the_matrix() -> None:
    from cellfoundry.dna.golden_gate import _INDEX, _ligation_counts

    counts = _ligation_counts("ligation_pryor2020_bsai_hfv2_37c.csv.gz")
    ccgc, *_ = overhang_report(["CCGC", "ACGG"])
    assert ccgc.worst_mispair == "ACGG"  # G:T wobble at one end
    pool = [_INDEX[o] for o in ("CCGC", "GCGG", "ACGG", "CCGT")]
    row = counts[_INDEX["CCGC"], pool]
    assert ccgc.fidelity == pytest.approx(counts[_INDEX["CCGC"], _INDEX["GCGG"]] / row.sum())
    assert ccgc.worst_mispair_fraction == pytest.approx(
        counts[_INDEX["CCGC"], _INDEX["ACGG"]] / row.sum()
    )
    assert ccgc.fidelity < 0.9


def test_fidelity_data_exist_for_every_enzyme() -> None:
    for name in ENZYMES:
        assert overhang_fidelity(["GGAG", "AATG"], enzyme=name) > 0.9


def test_bad_overhang_and_enzyme_are_refused() -> None:
    with pytest.raises(ValidationError, match="4 nt"):
        overhang_fidelity(["GGA"])
    with pytest.raises(ValidationError, match="unknown type IIS enzyme"):
        overhang_fidelity(["GGAG"], enzyme="EcoRI")


# --------------------------------------------------------------------------- digestion


def test_digest_cuts_n1_n5_for_bsai_and_n2_n6_for_bpii() -> None:
    bsa = SequenceRecord("bsa", "TTGGTCTCAGGAGCCCCCCAATGTGAGACCTT")
    frag = digest_type_iis(bsa)
    assert (frag.sequence, frag.left, frag.right) == ("GGAGCCCCCCAATG", "GGAG", "AATG")
    bpi = SequenceRecord("bpi", "TTGAAGACAAGGAGCCCCCCAATGAAGTCTTCTT")
    frag = digest_type_iis(bpi, enzyme="BpiI")
    assert (frag.sequence, frag.left, frag.right) == ("GGAGCCCCCCAATG", "GGAG", "AATG")


def test_digest_finds_insert_across_the_origin() -> None:
    seq = "CCCCAATGAGAGACCAAAAAAAAAAAAAAAGGTCTCAGGAGTT"
    frag = digest_type_iis(SequenceRecord("o", seq, "circular"))
    assert frag.sequence == "GGAGTTCCCCAATG"
    assert frag.start == seq.index("GGAGTT")


@needs_moclo
def test_digest_of_real_level0_plasmids() -> None:
    for name, left, right in [
        ("pICH51277", "GGAG", "AATG"),
        ("pICSL80014", "AATG", "GCTT"),
        ("pICH41421", "GCTT", "CGCT"),
    ]:
        part = load(name)
        frag = digest_type_iis(part)
        assert (frag.left, frag.right) == (left, right)
        assert frag.sequence == insert_of(part.sequence)


# --------------------------------------------------------------------------- real MoClo


@needs_moclo
def test_level1_transcription_unit_from_real_moclo_parts_any_order() -> None:
    """35S+Omega (pICH51277) : YFP (pICSL80014) : nos terminator (pICH41421) into a level-1 acceptor."""
    parts = [load("pICH51277"), load("pICSL80014"), load("pICH41421")]
    bb = acceptor()
    backbone_insert = digest_type_iis(bb).sequence
    expected = "".join(s[:-4] for s in [backbone_insert, *(insert_of(p.sequence) for p in parts)])
    first = golden_gate(parts, bb)  # also checked against pydna's digest + ligation
    assert first.simulated
    assert first.product.sequence == expected
    assert first.overhangs == ("GGAG", "AATG", "GCTT", "CGCT")
    assert first.order == ("acceptor_L1", "pICH51277", "pICSL80014", "pICH41421")
    assert first.fidelity == 1.0
    assert first.warnings == ()
    for order in itertools.permutations(parts):
        result = golden_gate(list(order), bb, simulate=False)
        assert result.product.sequence == expected
        assert result.product.checksum == seguid(expected, "circular")
    # a part given on the other strand lands the right way round
    flipped = SequenceRecord("pICSL80014", reverse_complement(parts[1].sequence), "circular")
    result = golden_gate([parts[0], flipped, parts[2]], bb, simulate=False)
    assert result.product.sequence == expected
    assert result.orientations == (1, 1, -1, 1)


@needs_moclo
def test_features_are_carried_over_with_their_sequence() -> None:
    parts = [load("pICH51277"), load("pICSL80014"), load("pICH41421")]
    result = golden_gate(parts, acceptor(), simulate=False)
    product = result.product
    labels = {f.label for f in product.features}
    assert {"acceptor_L1", "pICH51277", "pICSL80014", "pICH41421"} <= labels
    assert product.topology == "circular"
    yfp_src = next(f for f in parts[1].features if f.label.startswith("YFP"))
    yfp = next(f for f in product.features if f.label.startswith("YFP"))
    src_seq = parts[1].sequence[yfp_src.start : yfp_src.end]
    assert product.sequence[yfp.start : yfp.end] == src_seq
    assert src_seq.startswith("ATG")
    # the backbone (Sm/Sp marker) is not inside any insert, so it is not duplicated
    assert sum(f.label == "Sm/Sp no DraIII" for f in product.features) == 0


@needs_moclo
def test_six_fragment_fusion_with_tags_any_order() -> None:
    """35S (pICSL13001) : NT-GFP (pICSL30006) : GUS-intron (pICSL80016) : CT-mCherry
    (pICSL50004) : g7 terminator (pICH72400), MoClo plant standard overhangs."""
    names = ["pICSL13001", "pICSL30006", "pICSL80016", "pICSL50004", "pICH72400"]
    parts = [load(n) for n in names]
    bb = acceptor()
    expected = "".join(
        s[:-4] for s in [digest_type_iis(bb).sequence, *(insert_of(p.sequence) for p in parts)]
    )
    want = seguid(expected, "circular")
    reference = golden_gate(parts, bb)
    assert reference.product.sequence == expected
    assert reference.overhangs == ("GGAG", "CCAT", "AATG", "TTCG", "GCTT", "CGCT")
    for k, order in enumerate(itertools.permutations(parts)):
        if k % 17:  # 8 of the 120 orders
            continue
        result = golden_gate(list(order), bb, simulate=False)
        assert result.product.checksum == want
        assert result.order == ("acceptor_L1", *names)


# --------------------------------------------------------------------------- bad inputs


@needs_moclo
def test_internal_site_names_the_part_and_position() -> None:
    cds = load("pICSL80014")
    seq = cds.sequence
    at = seq.find("GGTCTC") + 300  # inside the YFP insert
    broken = SequenceRecord("pICSL80014", seq[:at] + "GGTCTC" + seq[at:], "circular")
    with pytest.raises(ValidationError, match=f"3 BsaI sites.*internal site.*{at + 1}") as err:
        golden_gate([load("pICH51277"), broken, load("pICH41421")], acceptor())
    assert err.value.record == "pICSL80014"
    assert err.value.field == "sequence"


@needs_moclo
def test_overhang_collision_is_refused() -> None:
    # two CDS parts that both span AATG-GCTT: which one goes in is ambiguous
    parts = [load("pICH51277"), load("pICSL80014"), load("pICH75111"), load("pICH41421")]
    with pytest.raises(ValidationError, match="overhang collision") as err:
        golden_gate(parts, acceptor())
    assert err.value.record in {"pICSL80014", "pICH75111"}
    assert err.value.field == "overhang"


@needs_moclo
def test_missing_part_leaves_no_closed_circle() -> None:
    with pytest.raises(ValidationError, match=r"no closed circle.*CGCT.*GCTT"):
        golden_gate([load("pICH51277"), load("pICSL80014")], acceptor())


def test_palindromic_overhang_is_refused() -> None:
    part = SequenceRecord("pal", "GGTCTCAGATCCCCCCAATGTGAGACC")
    other = SequenceRecord("oth", "GGTCTCAAATGTTTTTGATCTGAGACC")
    with pytest.raises(ValidationError, match="palindromic") as err:
        golden_gate([part, other])
    assert err.value.record in {"pal", "oth"}


def test_separate_circle_is_refused() -> None:
    a = SequenceRecord("a", "GGTCTCAGGAGCCCCCCAATGTGAGACC")
    b = SequenceRecord("b", "GGTCTCAAATGTTTTTTGGAGTGAGACC")
    c = SequenceRecord("c", "GGTCTCAACTACCCCCCGTCATGAGACC")
    d = SequenceRecord("d", "GGTCTCAGTCATTTTTTACTATGAGACC")
    assert golden_gate([a, b]).product.sequence == "GGAGCCCCCCAATGTTTTTT"
    with pytest.raises(ValidationError, match="separate circle"):
        golden_gate([a, b, c, d])


def test_site_problems_are_named() -> None:
    with pytest.raises(ValidationError, match="no BsaI site") as err:
        golden_gate([SequenceRecord("plain", "ACGTACGTACGTACGT")])
    assert err.value.record == "plain"
    with pytest.raises(ValidationError, match="do not face"):
        digest_type_iis(SequenceRecord("away", "GAGACCAAAAAAAAAAAAAAAAGGTCTC"))
    p = SequenceRecord("p", "GGTCTCAGGAGCCCCCCAATGTGAGACC")
    with pytest.raises(ValidationError, match="unique"):
        golden_gate([p, p])
    with pytest.raises(ValidationError, match="no parts"):
        golden_gate([])


def test_low_fidelity_set_warns() -> None:
    # CCGC and ACGG differ by a G:T wobble: T4 ligase joins them often
    a = SequenceRecord("a", "GGTCTCACCGCAAAAAAAAAACGGTGAGACC")
    b = SequenceRecord("b", "GGTCTCAACGGTTTTTTTTTTCCGCTGAGACC")
    result = golden_gate([a, b])
    assert result.fidelity < 0.9
    assert any("CCGC" in w and "ACGG" in w for w in result.warnings)
    assert any("expected fidelity" in w for w in result.warnings)


# --------------------------------------------------------------------------- other enzymes


@pytest.mark.parametrize(
    ("enzyme", "fwd", "rev"),
    [("BpiI", "GAAGACAA", "AAGTCTTC"), ("Esp3I", "CGTCTCA", "TGAGACG")],
)
def test_level2_style_assembly_with_other_enzymes(enzyme: str, fwd: str, rev: str) -> None:
    inserts = {
        "m1": "GGAGATGCATGCATGCATGCATGCCTTTAAATG",
        "m2": "AATGCCGGTTAACCGGTTAACCGGTTGCTT",
        "m3": "GCTTAAACCCGGGTTTCGCT",
    }
    parts = [SequenceRecord(k, "TT" + fwd + v + rev + "TT") for k, v in inserts.items()]
    bb = SequenceRecord(
        "l2_acceptor", "CGCTGGGGCCCCAAAATTTTGGAG" + rev + "CCCCCC" + fwd, "circular"
    )
    expected = "CGCTGGGGCCCCAAAATTTT" + "".join(v[:-4] for v in inserts.values())
    for order in itertools.permutations(parts):
        result = golden_gate(list(order), bb, enzyme=enzyme)
        assert result.product.sequence == expected
        assert result.enzyme == enzyme
