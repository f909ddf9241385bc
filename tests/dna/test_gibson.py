"""Gibson assembly: overlap design by Tm, tailed primers, pydna simulation in any order."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import primer3
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, seguid
from cellfoundry.dna.gibson import assemble_by_homology, gibson_assembly

GENBANK = Path(__file__).resolve().parents[3] / "shared" / "data" / "sbol-test-suite" / "GenBank"


def plasmid() -> str:
    """pICH41421 (MoClo nos terminator level-0 plasmid, 2,514 bp) or a synthetic stand-in."""
    path = GENBANK / "pICH41421.gb"
    if not path.exists():  # pragma: no cover - shared data absent
        import random

        rng = random.Random(7)
        return "".join(rng.choice("ACGT") for _ in range(2514))
    from Bio import SeqIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(SeqIO.read(path, "genbank").seq).upper()


@pytest.fixture(scope="module")
def fragments() -> list[SequenceRecord]:
    seq = plasmid()
    cuts = [0, 700, 1600, len(seq)]
    frags = []
    for k, (a, b) in enumerate(itertools.pairwise(cuts)):
        feature = Feature("misc_feature", (FeatureSpan(10, 40, 1),), (("label", f"tag{k}"),))
        frags.append(SequenceRecord(f"frag{k + 1}", seq[a:b], features=(feature,)))
    return frags


def test_circular_design_reconstitutes_the_plasmid(fragments: list[SequenceRecord]) -> None:
    result = gibson_assembly(fragments, overlap_tm=52.0)  # simulated with pydna inside
    assert result.simulated
    seq = plasmid()
    assert result.product.sequence == seq
    assert result.product.topology == "circular"
    assert result.product.checksum == seguid(seq, "circular")
    assert [(j.left, j.right) for j in result.junctions] == [
        ("frag1", "frag2"), ("frag2", "frag3"), ("frag3", "frag1"),
    ]  # fmt: skip
    for junction in result.junctions:
        assert 15 <= len(junction.overlap) <= 40
        assert junction.tm == primer3.calc_tm(junction.overlap)
        assert junction.tm >= 52.0
        # the shortest overlap reaching the target: one base less misses it
        shorter = junction.overlap[:-1] if len(junction.overlap) % 2 == 0 else junction.overlap[1:]
        assert len(junction.overlap) == 15 or primer3.calc_tm(shorter) < 52.0
        doubled = seq + seq
        assert doubled[junction.position : junction.position + len(junction.overlap)] == (
            junction.overlap
        )


def test_amplicons_share_the_overlaps(fragments: list[SequenceRecord]) -> None:
    result = gibson_assembly(fragments, simulate=False)
    amps = [a.sequence for a in result.amplicons]
    for k, junction in enumerate(result.junctions):
        left, right = amps[k], amps[(k + 1) % 3]
        assert left.endswith(junction.overlap[len(junction.overlap) // 2 :])
        assert junction.overlap in left
        assert right.startswith(junction.overlap)
    for pair, frag, amp in zip(result.primers, fragments, amps, strict=True):
        assert pair.amplicon == amp
        assert frag.sequence in amp
        assert pair.forward.binding == frag.sequence[: len(pair.forward.binding)]
        assert pair.forward.tm == primer3.calc_tm(pair.forward.binding)
        assert pair.reverse.tm == primer3.calc_tm(pair.reverse.binding)


def test_simulation_does_not_depend_on_fragment_order(fragments: list[SequenceRecord]) -> None:
    result = gibson_assembly(fragments, simulate=False)
    want = seguid(plasmid(), "circular")
    limit = min(len(j.overlap) for j in result.junctions)
    for order in itertools.permutations(result.amplicons):
        products = assemble_by_homology(list(order), min_overlap=limit)
        assert [p.checksum for p in products] == [want]


def test_linear_assembly(fragments: list[SequenceRecord]) -> None:
    result = gibson_assembly(fragments[:2], circular=False)
    assert result.product.sequence == fragments[0].sequence + fragments[1].sequence
    assert result.product.topology == "linear"
    assert len(result.junctions) == 1
    first, last = result.primers
    assert first.forward.tail == ""
    assert last.reverse.tail == ""
    products = assemble_by_homology(list(reversed(result.amplicons)), circular=False)
    assert result.product.checksum in {p.checksum for p in products}


def test_features_are_carried_and_labelled(fragments: list[SequenceRecord]) -> None:
    product = gibson_assembly(fragments, simulate=False).product
    labels = [f.label for f in product.features]
    assert labels == ["frag1", "tag0", "frag2", "tag1", "frag3", "tag2"]
    tag1 = product.features[3]
    assert product.sequence[tag1.start : tag1.end] == fragments[1].sequence[10:40]


def test_repeated_overlap_warns() -> None:
    unit = "GCTAGCATCGATCGTAGCTAGCTGACTGACGTACGATCGATGCA"
    a = SequenceRecord("a", unit + "TTTTTCCCCCAAAAAGGGGG" + unit)
    b = SequenceRecord("b", unit + "ACACACGTGTGTACACACGT" + unit)
    result = gibson_assembly([a, b], simulate=False)
    assert any("occurs" in w for w in result.warnings)


def test_bad_input_is_refused(fragments: list[SequenceRecord]) -> None:
    with pytest.raises(ValidationError, match="at least two"):
        gibson_assembly(fragments[:1], circular=False)
    with pytest.raises(ValidationError, match="not a valid range"):
        gibson_assembly(fragments, min_overlap=30, max_overlap=20)
    with pytest.raises(ValidationError, match="invalid base"):
        gibson_assembly([fragments[0], SequenceRecord("bad", "ACGTXACGT" * 5)])
