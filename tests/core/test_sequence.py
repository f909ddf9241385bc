"""Core sequence values: reverse complement, alphabet checks and SEGUID v2 checksums."""

from __future__ import annotations

import pytest
import seguid as reference
from hypothesis import given
from hypothesis import strategies as st

from cellfoundry.core import (
    Feature,
    FeatureSpan,
    InvalidSequenceError,
    SequenceRecord,
    reverse_complement,
    seguid,
    validate_dna,
)

dna = st.text(alphabet="ACGT", min_size=1, max_size=300)


@given(dna)
def test_reverse_complement_is_an_involution(seq: str) -> None:
    assert reverse_complement(reverse_complement(seq)) == seq


@given(dna)
def test_linear_checksum_equals_the_seguid_package(seq: str) -> None:
    assert seguid(seq) == reference.ldseguid(seq, reverse_complement(seq))


@given(dna)
def test_circular_checksum_equals_the_seguid_package(seq: str) -> None:
    assert seguid(seq, "circular") == reference.cdseguid(seq, reverse_complement(seq))


@given(dna, st.integers(min_value=0, max_value=299), st.booleans())
def test_circular_checksum_ignores_origin_and_strand(seq: str, cut: int, flip: bool) -> None:
    cut %= len(seq)
    other = seq[cut:] + seq[:cut]
    if flip:
        other = reverse_complement(other)
    assert seguid(other, "circular") == seguid(seq, "circular")


def test_published_seguid_examples() -> None:
    # Examples of the SEGUID v2 paper / reference implementation.
    assert seguid("ACGTT") == "ldseguid=5fHMG19IbYxn7Yr7_sOCkvaaw7U"
    assert seguid("GTTAC", "circular") == reference.cdseguid("GTTAC", "GTAAC")


def test_validate_dna_names_symbol_and_position() -> None:
    assert validate_dna("acgtryswkmbdhvn") == "ACGTRYSWKMBDHVN"
    with pytest.raises(
        InvalidSequenceError, match=r"record 'p1', field 'sequence': invalid base 'U' at position 3"
    ):
        validate_dna("ACUG", record="p1")


def test_feature_label_and_extent() -> None:
    f = Feature(
        "CDS",
        (FeatureSpan(90, 100, -1), FeatureSpan(0, 10, -1)),
        (("note", "first"), ("gene", "lacZ"), ("label", None)),
    )
    assert f.label == "lacZ"
    assert (f.start, f.end, f.strand) == (0, 100, -1)
    assert repr(FeatureSpan(1, 5, 1, partial_start=True)) == "<1..5(+)"
    with pytest.raises(ValueError, match="not a valid"):
        FeatureSpan(5, 1)
    rec = SequenceRecord("p", "ACGT", "circular", features=(f,))
    assert repr(rec) == "SequenceRecord('p', 4 bp o, 1 features)"
