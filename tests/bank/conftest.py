"""Fixtures for the bank's format tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import strategies as st

from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder next to the project (real public test files)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def genbank_dir(shared_data: Path) -> Path:
    return shared_data / "sbol-test-suite" / "GenBank"


@pytest.fixture(scope="session")
def sbol3_dir(shared_data: Path) -> Path:
    return shared_data / "sbol-test-suite" / "SBOL3"


_WORD = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    min_size=1,
    max_size=8,
)
_KEYS = [
    "CDS",
    "promoter",
    "misc_feature",
    "Misc._feature",
    "5'_UTR",
    "Source",
    "rep_origin",
    "gene",
]
# Qualifier values: anything GenBank can hold on one logical line, quotes and slashes included.
_VALUE = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("éµ°–"),
    max_size=150,
)


@st.composite
def _features(draw: st.DrawFn, length: int) -> Feature:
    spans = []
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, length - 1))
        end = draw(st.integers(start, length))
        spans.append(
            FeatureSpan(
                start,
                end,
                draw(st.sampled_from([1, -1])),
                # GenBank's between-position 5^6 has no fuzzy form
                partial_start=end > start and draw(st.booleans()),
                partial_end=end > start and draw(st.booleans()),
            )
        )
    qualifiers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["label", "note", "gene", "codon_start", "pseudo", "db_xref"]),
                st.none() | _VALUE,
            ),
            max_size=5,
        )
    )
    return Feature(
        draw(st.sampled_from(_KEYS)),
        tuple(spans),
        tuple(qualifiers),
        draw(st.sampled_from(["join", "order"])) if len(spans) > 1 else "join",
    )


@st.composite
def _records(draw: st.DrawFn) -> SequenceRecord:
    sequence = draw(st.text(alphabet="ACGTN", min_size=1, max_size=400))
    annotations: dict[str, object] = {}
    accession = draw(st.sampled_from(["", "AB123456"]))
    if accession:  # what a GenBank reader finds on the ACCESSION line
        annotations["accessions"] = [accession]
    if draw(st.booleans()):
        annotations |= {
            "data_file_division": "SYN",
            "date": "01-JAN-2024",
            "comment": "\n".join(draw(st.lists(_WORD, min_size=1, max_size=3))),
            "keywords": draw(st.lists(_WORD, min_size=1, max_size=2)),
        }
    return SequenceRecord(
        name=draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)),
        sequence=sequence,
        topology=draw(st.sampled_from(["linear", "circular"])),
        description=" ".join(draw(st.lists(_WORD, max_size=6))),
        accession=accession,
        features=tuple(draw(st.lists(_features(len(sequence)), max_size=6))),
        annotations=annotations,
    )


@pytest.fixture(scope="session")
def sequence_records() -> st.SearchStrategy[SequenceRecord]:
    """Random records that GenBank, FASTA and SBOL3 can all carry."""
    return _records()
