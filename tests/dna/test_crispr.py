"""CRISPR guides and off-target search, checked against a brute-force scan of a real genome."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from Bio import BiopythonParserWarning, SeqIO

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement
from cellfoundry.dna.crispr import (
    MIT_MISMATCH_WEIGHTS,
    find_guides,
    mit_hit_score,
    mit_specificity,
)
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex

GENOME = Path("sbol-test-suite/GenBank/genomes/20027.gbk")
IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip

Site = tuple[str, int, int, int, str]  # contig, position, strand, mismatches, site


@pytest.fixture(scope="module")
def genome(shared_data: Path) -> dict[str, str]:
    with warnings.catch_warnings(), (shared_data / GENOME).open() as handle:
        warnings.simplefilter("ignore", BiopythonParserWarning)
        records = list(SeqIO.parse(handle, "genbank"))  # type: ignore[no-untyped-call]
    return {record.id: str(record.seq).upper() for record in records}


@pytest.fixture(scope="module")
def index(genome: dict[str, str]) -> OffTargetIndex:
    return OffTargetIndex(genome)


@pytest.fixture(scope="module")
def guides(genome: dict[str, str]) -> list[str]:
    """20 spacers of NGG targets spread over the genome, both strands."""
    (sequence,) = genome.values()
    found = find_guides(sequence[:400_000])
    picks = [found[i] for i in np.linspace(0, len(found) - 1, 20).astype(int)]
    return [g.spacer for g in picks]


def brute_force(
    genome: dict[str, str],
    spacer: str,
    max_mismatches: int,
    pams: tuple[str, ...] = ("NGG",),
    pam_side: str = "3prime",
) -> set[Site]:
    """Every position of both strands: PAM matches one of ``pams``, protospacer within k."""
    pam_length = len(pams[0])
    width = len(spacer) + pam_length
    spacer_at, pam_at = (0, len(spacer)) if pam_side == "3prime" else (pam_length, 0)
    query = np.frombuffer(spacer.encode(), dtype=np.uint8)
    out: set[Site] = set()
    for name, sequence in genome.items():
        n = len(sequence)
        for strand, text in ((1, sequence), (-1, reverse_complement(sequence))):
            raw = np.frombuffer(text.encode(), dtype=np.uint8)
            windows: npt.NDArray[np.uint8] = np.lib.stride_tricks.sliding_window_view(raw, width)
            pam_ok = np.zeros(len(windows), dtype=bool)
            for pam in pams:
                ok = np.ones(len(windows), dtype=bool)
                for j, letter in enumerate(pam):
                    allowed = np.frombuffer(IUPAC[letter].encode(), dtype=np.uint8)
                    ok &= np.isin(windows[:, pam_at + j], allowed)
                pam_ok |= ok
            rows = np.flatnonzero(pam_ok)
            protospacers = windows[rows, spacer_at : spacer_at + len(spacer)]
            acgt = np.isin(protospacers, np.frombuffer(b"ACGT", dtype=np.uint8)).all(axis=1)
            mismatches = (protospacers != query).sum(axis=1)
            for row, mm in zip(rows[acgt], mismatches[acgt], strict=True):
                if mm <= max_mismatches:
                    r = int(row)
                    position = r if strand == 1 else n - r - width
                    out.add((name, position, strand, int(mm), text[r : r + width]))
    return out


def as_sites(hits: list[OffTargetHit]) -> set[Site]:
    return {(h.contig, h.position, h.strand, h.mismatches, h.site) for h in hits}


def test_search_equals_brute_force_on_a_genome(
    genome: dict[str, str], index: OffTargetIndex, guides: list[str]
) -> None:
    hits = index.search(guides, max_mismatches=4)
    off_targets = 0
    for number, spacer in enumerate(guides):
        mine = [h for h in hits if h.guide_id == str(number)]
        expected = brute_force(genome, spacer, 4)
        assert as_sites(mine) == expected
        assert len(mine) == len(expected)  # no duplicates
        off_targets += sum(h.mismatches > 0 for h in mine)
    assert off_targets > 20  # the comparison covers mismatched sites, not only the targets


@pytest.mark.parametrize("max_mismatches", [0, 1, 3])
def test_fewer_mismatches_equal_brute_force(
    genome: dict[str, str], index: OffTargetIndex, guides: list[str], max_mismatches: int
) -> None:
    for spacer in guides[:5]:
        hits = index.search([spacer], max_mismatches=max_mismatches)
        assert as_sites(hits) == brute_force(genome, spacer, max_mismatches)


def test_alternative_nag_pams_only_when_asked(
    genome: dict[str, str], index: OffTargetIndex, guides: list[str]
) -> None:
    kinds: set[bool] = set()
    for spacer in guides[:6]:
        with_nag = index.search({"g": spacer}, max_mismatches=4, include_alternative=True)
        assert as_sites(with_nag) == brute_force(genome, spacer, 4, ("NGG", "NAG"))
        assert all(h.alternative_pam == (h.site[-2:] == "AG") for h in with_nag)
        kinds |= {h.alternative_pam for h in with_nag}
        without = index.search({"g": spacer}, max_mismatches=3)
        assert as_sites(without) == brute_force(genome, spacer, 3)
    assert kinds == {False, True}


def test_each_guide_finds_its_own_site(genome: dict[str, str], index: OffTargetIndex) -> None:
    (name, sequence) = next(iter(genome.items()))
    for guide in find_guides(sequence[600_000:601_000])[:10]:
        hits = index.search([guide], max_mismatches=2)
        own = [h for h in hits if h.mismatches == 0]
        position = guide.position + 600_000
        assert (name, position, guide.strand) in {(h.contig, h.position, h.strand) for h in own}
        assert all(h.mit_score == 1.0 for h in own)


def test_cas12a_5prime_pam(genome: dict[str, str]) -> None:
    (name, sequence) = next(iter(genome.items()))
    chunk = {name: sequence[:200_000]}
    index = OffTargetIndex(chunk, pam="TTTV", spacer=23, pam_side="5prime")
    guides = find_guides(chunk[name][:5_000], pam="TTTV", spacer=23, pam_side="5prime")
    assert guides
    assert all(g.pam[:3] == "TTT" and g.pam[3] != "T" for g in guides)
    for guide in guides[::40][:5]:
        hits = index.search([guide], max_mismatches=4)
        assert as_sites(hits) == brute_force(chunk, guide.spacer, 4, ("TTTV",), "5prime")
        assert all(h.mit_score is None for h in hits)  # MIT is defined for 20 nt only


def test_contigs_with_ambiguous_bases() -> None:
    target = "GATTACAGATTACAGATTAC"
    genome = {
        "a": "CC" + target + "TGG" + "N" * 5 + target[:-1] + "A" + "AGG",
        "b": reverse_complement("T" + target + "CGG") + "NNN" + target[:10] + "N" + target[11:] + "GGG",
    }  # fmt: skip
    hits = OffTargetIndex(genome).search({"t": target}, max_mismatches=2)
    assert [(h.contig, h.position, h.strand, h.mismatches) for h in hits] == [
        ("a", 2, 1, 0),
        ("b", 0, -1, 0),
        ("a", 30, 1, 1),
    ]
    assert as_sites(hits) == brute_force(genome, target, 2)


def test_find_guides_reports_both_strands_and_flags() -> None:
    sequence = "CCATTTTGCAGCATGCATGCATGCAGGTTT"
    guides = find_guides(sequence)
    plus = [g for g in guides if g.strand == 1]
    minus = [g for g in guides if g.strand == -1]
    assert [(g.position, g.spacer, g.pam) for g in plus] == [(4, "TTTGCAGCATGCATGCATGC", "AGG")]
    assert [(g.position, g.pam) for g in minus] == [(0, "TGG")]
    assert minus[0].spacer == reverse_complement(sequence[3:23])
    assert plus[0].poly_t is False
    assert minus[0].poly_t is False
    assert plus[0].gc_fraction == pytest.approx(10 / 20)
    (poly,) = [g for g in find_guides("TTTTACGTACGTACGTACGTAGG") if g.strand == 1]
    assert poly.poly_t is True
    assert poly.position == 0


def test_find_guides_matches_a_regex_scan() -> None:
    rng = np.random.default_rng(7)
    sequence = "".join(rng.choice(list("ACGT"), 3_000))
    import re

    expected = {(m.start(), 1) for m in re.finditer(r"(?=[ACGT]{20}[ACGT]GG)", sequence)}
    expected |= {(m.start(), -1) for m in re.finditer(r"(?=CC[ACGT][ACGT]{20})", sequence)}
    assert {(g.position, g.strand) for g in find_guides(sequence)} == expected


def test_bad_input_names_position_and_field() -> None:
    with pytest.raises(ValidationError, match="'N' at position 7") as error:
        find_guides("ACGTACNGTACGT", spacer=3)
    assert error.value.field == "sequence"
    with pytest.raises(ValidationError, match="spacer length 20 exceeds") as error:
        find_guides("ACGTACGT")
    assert error.value.field == "spacer"
    with pytest.raises(ValidationError, match="'X' at position 2") as error:
        find_guides("ACGTACGTACGT", pam="NXG", spacer=3)
    assert error.value.field == "pam"
    index = OffTargetIndex({"c": "ACGTACGTACGTACGTACGTAGG"})
    with pytest.raises(ValidationError, match="'U' at position 3") as error:
        index.search({"g1": "ACUTACGTACGTACGTACGT"})
    assert (error.value.field, error.value.record) == ("spacer", "g1")
    with pytest.raises(ValidationError, match="19 nt") as error:
        index.search(["ACGTACGTACGTACGTACG"])
    with pytest.raises(ValidationError) as error:
        index.search(["ACGTACGTACGTACGTACGT"], max_mismatches=20)
    assert error.value.field == "max_mismatches"


def test_mit_scores() -> None:
    spacer = "GACGCATAAAGATGAGACGC"
    assert mit_hit_score(spacer, spacer) == 1.0
    # one mismatch at position 1 (weight 0) costs nothing; at position 20 (0.583) it does
    assert mit_hit_score(spacer, "T" + spacer[1:]) == 1.0
    assert mit_hit_score(spacer, spacer[:19] + "A") == pytest.approx(0.417)
    # two adjacent PAM-proximal mismatches: (1 - .685)(1 - .583) / (4 * 18/19 + 1) / 2^2
    two = spacer[:18] + "TA"
    assert mit_hit_score(spacer, two) == pytest.approx(0.315 * 0.417 / (4 * 18 / 19 + 1) / 4)
    assert mit_hit_score(spacer, two) == pytest.approx(0.006856, abs=1e-6)
    # mismatches at positions 1 and 20: distance 19, so the middle factor is 1
    ends = "T" + spacer[1:19] + "A"
    assert mit_hit_score(spacer, ends) == pytest.approx(0.417 / 4)
    assert len(MIT_MISMATCH_WEIGHTS) == 20
    assert MIT_MISMATCH_WEIGHTS[13] == 0.851
    assert mit_specificity([]) == 100.0
    assert mit_specificity([0.25, 0.75]) == pytest.approx(50.0)


def test_search_scores_agree_with_mit_hit_score(index: OffTargetIndex, guides: list[str]) -> None:
    hits = index.search(guides[:5], max_mismatches=4)
    for hit in hits:
        spacer = guides[int(hit.guide_id)]
        assert hit.mit_score == pytest.approx(mit_hit_score(spacer, hit.site[:20]))
    specificity = index.specificity(hits)
    for number in range(5):
        mine = [h for h in hits if h.guide_id == str(number)]
        rest = sorted((h for h in mine), key=lambda h: h.mismatches)[1:]
        expected = mit_specificity(h.mit_score or 0.0 for h in rest)
        assert specificity[str(number)] == pytest.approx(expected)
        assert 0 < specificity[str(number)] <= 100


def test_index_takes_biopython_and_cellfoundry_records() -> None:
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord

    from cellfoundry.core.sequence import SequenceRecord

    text = "CC" + "GATTACAGATTACAGATTAC" + "TGG"
    for genome in (
        [SeqRecord(Seq(text), id="bio")],
        [SequenceRecord(name="ours", sequence=text)],
    ):
        (hit,) = OffTargetIndex(genome).search(["GATTACAGATTACAGATTAC"], 0)
        assert hit.contig in {"bio", "ours"}
        assert (hit.position, hit.strand, hit.site) == (2, 1, text[2:])


def test_search_table_holds_the_same_hits_as_search_in_the_same_order():
    from cellfoundry.dna.offtarget import OffTargetIndex

    rng = np.random.default_rng(11)
    genome = {f"c{i}": "".join(rng.choice(list("ACGT"), 30_000)) for i in range(3)}
    index = OffTargetIndex(genome)
    guides = [genome["c1"][p : p + 20] for p in (100, 5_000, 17_000, 29_000)]
    hits = index.search(guides, 4, include_alternative=True)
    table = index.search_table(guides, 4, include_alternative=True)
    assert len(table) == len(hits) > 0
    for k, hit in enumerate(hits):
        assert hit.guide_id == str(table.guide[k])
        assert hit.contig == index.contigs[table.contig[k]]
        assert (hit.position, hit.strand, hit.mismatches) == (
            table.position[k],
            table.strand[k],
            table.mismatches[k],
        )
        assert hit.mit_score == pytest.approx(table.mit_score[k])
        assert hit.cfd_score == pytest.approx(table.cfd_score[k])


@pytest.mark.parametrize("max_mismatches", [0, 2, 4])
def test_single_pair_and_triple_seed_tables_find_the_same_hits(monkeypatch, max_mismatches):
    from cellfoundry.dna import _offtarget_kernel as kernel
    from cellfoundry.dna.offtarget import OffTargetIndex

    rng = np.random.default_rng(5)
    genome = {"c": "".join(rng.choice(list("AACGTT"), 60_000))}  # AT-rich, like Mycoplasma
    targets = find_guides(genome["c"])
    guides = [targets[i].spacer for i in (0, len(targets) // 3, len(targets) // 2, -1)]
    sites = len(OffTargetIndex(genome))

    def hits_with(budget: int) -> tuple[int, list[tuple[str, int, int, int]]]:
        monkeypatch.setattr(kernel, "PAIR_TABLE_BUDGET", budget)
        index = OffTargetIndex(genome)
        found = index.search(guides, max_mismatches, include_alternative=True)
        tables = index._tables(max_mismatches).keys.shape[0]
        return tables, [(h.guide_id, h.position, h.strand, h.mismatches) for h in found]

    k = max_mismatches
    singles = hits_with(0)
    pairs = hits_with(sites * ((k + 2) * (k + 1) // 2) * 13)
    triples = hits_with(10**12)
    assert singles[0] == k + 1
    assert pairs[0] == (k + 2) * (k + 1) // 2
    assert triples[0] == (k + 3) * (k + 2) * (k + 1) // 6
    assert singles[1] == pairs[1] == triples[1]
    assert len(triples[1]) >= len(guides)
