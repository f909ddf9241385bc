"""FASTA reading and writing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellfoundry.bank import formats
from cellfoundry.bank.formats import fasta, genbank
from cellfoundry.core.errors import FormatError, InvalidSequenceError
from cellfoundry.core.sequence import SequenceRecord


def test_header_sequence_and_topology() -> None:
    text = (
        ">pUC19 cloning vector, 2686 bp topology=circular\n"
        "tcgcgcgttt cggtgatgac\n"
        "GGTGAAAACC\n"
        "\n"
        ">frag1\n"
        "ACGTN\n"
        ">frag2 topology=linear PCR product\n"
        "RYSWKMBDHV\n"
    )
    records = fasta.parse(text)
    assert [(r.name, r.description, r.topology, r.sequence) for r in records] == [
        ("pUC19", "cloning vector, 2686 bp", "circular", "TCGCGCGTTTCGGTGATGACGGTGAAAACC"),
        ("frag1", "", "linear", "ACGTN"),
        ("frag2", "PCR product", "linear", "RYSWKMBDHV"),
    ]
    assert fasta.dumps(records) == (
        ">pUC19 cloning vector, 2686 bp topology=circular\n"
        "TCGCGCGTTTCGGTGATGACGGTGAAAACC\n"
        ">frag1\nACGTN\n"
        ">frag2 PCR product\nRYSWKMBDHV\n"
    )


def test_lines_are_wrapped_at_60_bases() -> None:
    text = fasta.dumps([SequenceRecord("long", "ACGT" * 40)])
    assert [len(line) for line in text.splitlines()] == [5, 60, 60, 40]
    assert [
        len(line)
        for line in fasta.dumps([SequenceRecord("x", "A" * 10)], line_width=4).splitlines()
    ] == [2, 4, 4, 2]


def test_real_plasmids_survive_fasta(genbank_dir: Path) -> None:
    for name in ("pICH41388.gb", "sequence4.gb", "pAGT707.gbk"):
        records = genbank.parse((genbank_dir / name).read_bytes())
        back = fasta.parse(fasta.dumps(records))
        assert [(r.name, r.sequence, r.topology) for r in back] == [
            (r.name, r.sequence, r.topology) for r in records
        ]


def test_invalid_letter_names_file_record_and_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.fasta"
    path.write_text(">ok\nACGT\n>rna_insert mRNA\nACGTACGTAC\nGGUAC\n")
    with pytest.raises(
        InvalidSequenceError,
        match=r"file '.*bad\.fasta', record 'rna_insert', field 'sequence': invalid base 'U' at "
        r"position 13",
    ) as caught:
        formats.read(path)
    assert (caught.value.record, caught.value.position, caught.value.symbol) == (
        "rna_insert",
        13,
        "U",
    )


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.fa"
    path.write_text("")
    with pytest.raises(
        FormatError, match=r"empty\.fa', record '#1', field 'header': the file is empty"
    ):
        formats.read(path)


def test_genbank_given_as_fasta(tmp_path: Path, genbank_dir: Path) -> None:
    path = tmp_path / "pICH41388.fasta"
    path.write_bytes((genbank_dir / "pICH41388.gb").read_bytes())
    with pytest.raises(
        FormatError,
        match=r"pICH41388\.fasta', record '#1', field 'header': not a FASTA file.*LOCUS",
    ):
        formats.read(path)


def test_binary_given_as_fasta(tmp_path: Path) -> None:
    path = tmp_path / "reads.fa"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00")
    with pytest.raises(FormatError, match=r"reads\.fa', record '#1', field 'header'.*gzip"):
        formats.read(path)


def test_header_without_name_or_record_without_sequence() -> None:
    with pytest.raises(FormatError, match=r"record '#2', field 'header'.*line 3 has no name"):
        fasta.parse(">a\nAC\n> \nGT\n", source="x.fa")
    with pytest.raises(FormatError, match=r"record 'b', field 'sequence'.*no sequence"):
        fasta.parse(">a\nAC\n>b\n>c\nGT\n", source="x.fa")


def test_names_must_be_one_word() -> None:
    with pytest.raises(FormatError, match=r"record 'my plasmid', field 'name'"):
        fasta.dumps([SequenceRecord("my plasmid", "ACGT")])


def test_facade_write_read(tmp_path: Path) -> None:
    records = [SequenceRecord("p1", "ACGT", "circular", "demo")]
    path = tmp_path / "out.fna"
    formats.write(records, path, "fasta")
    assert formats.read(path) == records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_records_round_trip_through_fasta(
    sequence_records: st.SearchStrategy[SequenceRecord], data: st.DataObject
) -> None:
    records = data.draw(st.lists(sequence_records, min_size=1, max_size=3))
    back = fasta.parse(fasta.dumps(records).encode())
    assert [(r.name, r.sequence, r.topology, r.description) for r in back] == [
        (r.name, r.sequence, r.topology, r.description) for r in records
    ]
