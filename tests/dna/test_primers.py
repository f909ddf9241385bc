"""Primer design: exact ends, Tm from primer3, tails, thermodynamics, bad input."""

from __future__ import annotations

import primer3
import pytest

from cellfoundry.core.errors import InvalidSequenceError, ValidationError
from cellfoundry.core.sequence import SequenceRecord, reverse_complement
from cellfoundry.dna.primers import Primer, design_primers, primer_tm

# YFP (Aequorea victoria): the first 241 nt of its CDS in MoClo part pICSL80014
YFP = (
    "ATGGTGAGCAAGGGCGAGGAGCTGTTCACCGGGGTGGTGCCCATCCTGGTCGAGCTGGACGGCGACGTAAACGGCCACAAGTTC"
    "AGCGTGTCCGGCGAGGGCGAGGGCGATGCCACCTACGGCAAGCTGACCCTGAAGTTCATCTGCACCACCGGCAAGCTGCCCGTG"
    "CCCTGGCCCACCCTCGTGACCACCTTCGGCTACGGCCTGCAGTGCTTCGCCCGCTACCCCGACCACATGAAGC"
)


def test_tm_is_primer3s_and_primers_are_the_shortest_reaching_it() -> None:
    pair = design_primers(YFP, tm=60.0)
    for primer in (pair.forward, pair.reverse):
        assert primer.tm == primer3.calc_tm(primer.binding)
        assert primer.tm >= 60.0
        assert primer3.calc_tm(primer.binding[:-1]) < 60.0  # one base shorter misses it
        assert 15 <= len(primer.binding) <= 40
    assert pair.forward.binding == YFP[: len(pair.forward.binding)]
    assert pair.reverse.binding == reverse_complement(YFP)[: len(pair.reverse.binding)]
    assert pair.amplicon == YFP


def test_positions_strands_and_gc() -> None:
    pair = design_primers(SequenceRecord("yfp", YFP), start=30, end=200, tm=58.0)
    fwd, rev = pair.forward, pair.reverse
    assert (fwd.position, fwd.strand) == (30, 1)
    assert fwd.binding == YFP[30 : 30 + len(fwd.binding)]
    assert (rev.position + len(rev.binding), rev.strand) == (200, -1)
    assert rev.binding == reverse_complement(YFP[rev.position : 200])
    assert pair.amplicon == YFP[30:200]
    gc = sum(b in "GC" for b in fwd.binding) / len(fwd.binding)
    assert fwd.gc == pytest.approx(gc)
    assert pair.tm_difference == pytest.approx(abs(fwd.tm - rev.tm))


def test_tails_are_5prime_and_extend_the_amplicon() -> None:
    bsai_fwd, bsai_rev = "TTGGTCTCAAATG", "TTGGTCTCAAAGC"
    pair = design_primers(YFP, 3, 240, tail_fwd=bsai_fwd, tail_rev=bsai_rev)
    assert pair.forward.sequence == bsai_fwd + pair.forward.binding
    assert pair.reverse.sequence == bsai_rev + pair.reverse.binding
    assert pair.forward.tail == bsai_fwd
    assert pair.amplicon == bsai_fwd + YFP[3:240] + reverse_complement(bsai_rev)
    # Tm is the annealing part's, not the tailed oligo's
    assert pair.forward.tm == primer3.calc_tm(pair.forward.binding)


def test_hairpin_and_dimer_energies_are_primer3s() -> None:
    pair = design_primers(YFP, tail_fwd="GAATTC")
    fwd = pair.forward
    assert fwd.hairpin_dg == round(primer3.calc_hairpin(fwd.sequence).dg / 1000, 3)
    assert fwd.homodimer_dg == round(primer3.calc_homodimer(fwd.sequence).dg / 1000, 3)
    hetero = primer3.calc_heterodimer(fwd.sequence, pair.reverse.sequence).dg / 1000
    assert pair.heterodimer_dg == round(hetero, 3)
    # an EcoRI tail (GAATTC) is self-complementary: it must show as a homodimer
    assert fwd.homodimer_dg < 0


def test_primer_tm_matches_primer3() -> None:
    assert primer_tm("agcggataacaatttcacacagga") == primer3.calc_tm("AGCGGATAACAATTTCACACAGGA")


def test_at_rich_template_caps_at_max_length() -> None:
    at = "ATATTATAATTTATATAAATTATATTTATAATATTATATAAATAATTATATAATTATA" * 2
    pair = design_primers(at, tm=70.0)
    assert len(pair.forward.binding) == 40
    assert pair.forward.tm < 70.0


def test_results_are_frozen() -> None:
    primer = design_primers(YFP).forward
    assert isinstance(primer, Primer)
    with pytest.raises(AttributeError):
        primer.tm = 0.0  # type: ignore[misc]


def test_bad_regions_and_sequences_are_refused() -> None:
    with pytest.raises(ValidationError, match="not inside"):
        design_primers(YFP, 100, 50)
    with pytest.raises(ValidationError, match="not inside"):
        design_primers(YFP, 0, len(YFP) + 1)
    with pytest.raises(ValidationError, match="shorter than a 15-nt primer"):
        design_primers(YFP, 0, 10)
    with pytest.raises(InvalidSequenceError) as err:
        design_primers(SequenceRecord("rna", "ACGUACGUACGUACGUACGUACGU"))
    assert err.value.record == "rna"
