"""GenBank reading and writing, on the real files of the SBOL test suite."""

from __future__ import annotations

import gzip
import io
import re
import warnings
from pathlib import Path
from typing import Any, cast

import pytest
from Bio import BiopythonParserWarning, SeqIO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellfoundry.bank import formats
from cellfoundry.bank.formats import genbank
from cellfoundry.core.errors import FormatError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord

GENBANK_DIR = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sbol-test-suite" / "GenBank"
)
FILES = sorted(p for p in GENBANK_DIR.glob("*") if p.suffix in (".gb", ".gbk"))
GENOME = GENBANK_DIR / "genomes" / "20027.gbk"
ALL_FILES = [*FILES, GENOME]
#: Files Biopython 1.88 cannot read at all (SnapGene LOCUS layout, not UTF-8).
BIOPYTHON_FAILS = {"pAGT707.gbk", "pICH71421.gbk", "pICSL50008.gbk", "pICSL50014.gb"}


def grouped(qualifiers: tuple[tuple[str, str | None], ...]) -> dict[str, list[str]]:
    """Qualifiers the way Biopython keeps them: values per key, one '' for value-less keys."""
    out: dict[str, list[str]] = {}
    for key, value in qualifiers:
        if value is None:
            if key not in out:
                out[key] = [""]
            continue
        out.setdefault(key, []).append(value)
    return out


def our_view(record: SequenceRecord) -> tuple[Any, ...]:
    return (
        record.name,
        record.sequence,
        [
            (f.type, [(s.start, s.end, s.strand) for s in f.spans], grouped(f.qualifiers))
            for f in record.features
        ],
    )


def biopython_view(record: Any) -> tuple[Any, ...]:
    return (
        record.name,
        str(record.seq).upper(),
        [
            (
                f.type,
                [(int(p.start), int(p.end), p.strand) for p in f.location.parts],
                dict(f.qualifiers),
            )
            for f in record.features
        ],
    )


def locus_length(path: Path) -> list[int]:
    """The lengths the LOCUS lines of a file declare."""
    text = path.read_bytes().decode("latin-1")
    return [int(n) for n in re.findall(r"^LOCUS .*?(\d+) bp", text, flags=re.MULTILINE)]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_real_file_imports_and_round_trips(path: Path) -> None:
    result = genbank.parse_with_warnings(path.read_bytes(), source=str(path))
    records = list(result.records)
    assert [len(r) for r in records] == locus_length(path)
    assert not any("malformed" in w.lower() for w in result.warnings)
    text = genbank.dumps(records)
    # our writer -> our reader is exact
    assert genbank.parse(text) == records
    # our writer -> Biopython (warnings are errors here) gives the same content
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reparsed = list(SeqIO.parse(io.StringIO(text), "genbank"))
    assert [biopython_view(r) for r in reparsed] == [our_view(r) for r in records]
    for ours, theirs in zip(records, reparsed, strict=True):
        assert theirs.annotations["topology"] == ours.topology
        assert theirs.description == ours.description
        for key in ("organism", "source", "taxonomy", "keywords", "comment", "accessions"):
            if key in ours.annotations:
                assert theirs.annotations[key] == ours.annotations[key]


@pytest.mark.parametrize(
    "path", [p for p in FILES if p.name not in BIOPYTHON_FAILS], ids=lambda p: p.name
)
def test_reading_agrees_with_biopython_on_the_files_it_can_read(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BiopythonParserWarning)
        with path.open() as handle:
            theirs = list(SeqIO.parse(handle, "genbank"))
    ours = genbank.parse(path.read_bytes())
    assert [our_view(r)[1:] for r in ours] == [biopython_view(r)[1:] for r in theirs]
    assert [r.name for r in ours] == [r.name for r in theirs]


def test_pich41388_content(genbank_dir: Path) -> None:
    (record,) = formats.read(genbank_dir / "pICH41388.gb")
    assert (record.name, len(record), record.topology) == ("pICH41388", 2677, "circular")
    assert record.annotations["data_file_division"] == "UNA"
    assert record.annotations["date"] == "30-NOV-2009"
    assert str(record.annotations["comment"]).startswith("This file is created by Vector NTI")
    assert [f.type for f in record.features] == [
        "Source",
        "CDS",
        "Mutation",
        "Misc._feature",
        "Replication_ori",
        "Promoter",
        "5'_UTR",
    ]
    assert [f.label for f in record.features] == [
        "Source",
        "Sm/Sp no DraIII",
        "G to A",
        "rep (pMB1)",
        "ORI",
        "35S pro short (no BpiI and BsaI)",
        "CaMV 35s 5'UT",
    ]
    cds, mutation, ori = record.features[1], record.features[2], record.features[4]
    assert cds.spans == (FeatureSpan(230, 1241, 1),)
    assert mutation.spans == (FeatureSpan(1207, 1208, 1),)
    assert ori.spans == (FeatureSpan(1999, 2000, -1),)
    # repeated keys stay, in file order; spaces inside quotes stay
    assert cds.qualifiers == (
        ("dnas_title", "Sm/Sp no DraIII"),
        ("vntifkey", "4"),
        ("label", "Sm/Sp no DraIII"),
        ("label", "Sm/Sp no DraIII"),
    )
    assert ori.qualifier("note") == " RNaseH cleavage point "
    # the same labels and locations as Biopython's own parse
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BiopythonParserWarning)
        with (genbank_dir / "pICH41388.gb").open() as handle:
            theirs = SeqIO.read(handle, "genbank")
    assert [f.qualifiers.get("label", [f.type])[0] for f in theirs.features] == [
        f.label for f in record.features
    ]
    assert [
        [(int(p.start), int(p.end), p.strand) for p in f.location.parts] for f in theirs.features
    ] == [[(s.start, s.end, s.strand) for s in f.spans] for f in record.features]


def test_snapgene_locus_line_keeps_every_field(genbank_dir: Path) -> None:
    result = genbank.parse_with_warnings((genbank_dir / "pAGT707.gbk").read_bytes())
    (record,) = result.records
    assert (record.name, len(record), record.topology) == ("Exported_File", 2332, "circular")
    assert record.annotations["strandedness"] == "ds"
    assert record.annotations["data_file_division"] == "SYN"
    assert record.annotations["date"] == "12-MAR-2014"
    assert record.annotations["keywords"] == ["pAGT707 (1)"]
    references = cast(list[dict[str, str]], record.annotations["references"])
    assert references[0]["title"] == "Direct Submission"
    assert any("'Exported File' contains spaces" in w for w in result.warnings)
    locus = genbank.dumps([record]).splitlines()[0]
    assert locus.split() == [
        "LOCUS", "Exported_File", "2332", "bp", "ds-DNA", "circular", "SYN", "12-MAR-2014"
    ]  # fmt: skip


def test_file_that_is_not_utf8_is_read_as_cp1252(genbank_dir: Path) -> None:
    result = genbank.parse_with_warnings((genbank_dir / "pICSL50014.gb").read_bytes())
    (record,) = result.records
    assert (record.name, len(record)) == ("pICSL50014", 2572)
    assert result.warnings[0] == "file is not valid UTF-8; decoded as cp1252"
    # byte 0xD0 is "Ð" in cp1252 (the file was probably written as MacRoman, where it is "–")
    assert "C terminal HBP (HAÐPreScissionÐBiotin) tag" in [f.label for f in record.features]


def test_two_records_in_one_file(genbank_dir: Path) -> None:
    records = formats.read(genbank_dir / "sequence4.gb")
    assert [(r.name, len(r), r.accession) for r in records] == [
        ("HUMPROK", 11613, "L00727"),
        ("SCU49845", 5028, "U49845"),
    ]


def test_fuzzy_ends_and_ncbi_header(genbank_dir: Path) -> None:
    (record,) = formats.read(genbank_dir / "sequence1.gb")
    assert record.accession == "U49845"
    assert record.annotations["sequence_version"] == 1
    assert record.annotations["organism"] == "Saccharomyces cerevisiae"
    assert cast(list[str], record.annotations["taxonomy"])[:2] == ["Eukaryota", "Fungi"]
    assert record.description.startswith("Saccharomyces cerevisiae TCP1-beta gene")
    mrna, cds = record.features[1], record.features[2]
    assert mrna.spans == (FeatureSpan(0, 206, 1, partial_start=True, partial_end=True),)
    assert cds.spans == (FeatureSpan(0, 206, 1, partial_start=True),)
    text = genbank.dumps([record])
    assert "     mRNA            <1..>206\n" in text
    assert "     CDS             <1..206\n" in text


def test_feature_across_the_origin_of_a_circular_plasmid(genbank_dir: Path) -> None:
    (record,) = formats.read(genbank_dir / "pAGM1482.gb")
    (wrapped,) = [f for f in record.features if len(f.spans) > 1]
    assert record.topology == "circular"
    assert wrapped.spans == (FeatureSpan(2334, 2420, 1), FeatureSpan(0, 1, 1))
    assert "join(2335..2420,1)" in genbank.dumps([record])


def test_locus_lines_biopython_misreads(genbank_dir: Path) -> None:
    # no division: Biopython takes 'circular' for the division and reports no topology
    (vector_nti,) = formats.read(genbank_dir / "pICH42211.gb")
    assert vector_nti.topology == "circular"
    assert vector_nti.annotations["date"] == "24-APR-2009"
    assert "data_file_division" not in vector_nti.annotations
    (genome,) = formats.read(GENOME)
    assert (genome.name, len(genome), genome.topology) == ("Ga0076475_11", 1211703, "circular")
    assert len(genome.features) == 2372
    assert cast(list[str], genome.annotations["taxonomy"])[0] == "Bacteria"


def test_records_from_code_round_trip_with_every_location_kind() -> None:
    record = SequenceRecord(
        "pTest",
        "ACGTACGTACGTACGTACGT",
        "circular",
        description="A test plasmid",
        accession="XX000001",
        features=(
            Feature("promoter", (FeatureSpan(2, 8, 1),), (("label", "p1"), ("pseudo", None))),
            Feature("CDS", (FeatureSpan(15, 20, -1), FeatureSpan(0, 3, -1))),
            Feature("misc_feature", (FeatureSpan(4, 6, 1), FeatureSpan(8, 9, -1)), (), "order"),
            Feature("misc_feature", (FeatureSpan(5, 5, 1),)),
            Feature("gene", (FeatureSpan(0, 10, 1, partial_start=True, partial_end=True),)),
            Feature(
                "misc_feature",
                (FeatureSpan(0, 20),),
                (("note", 'a "quoted" word and a /slash ' + "x" * 90), ("note", "")),
            ),
        ),
        annotations={
            "data_file_division": "SYN",
            "date": "01-JAN-2024",
            "accessions": ["XX000001"],
            "keywords": [""],
        },
    )
    text = genbank.dumps([record])
    assert "complement(join(1..3,16..20))" in text
    assert "order(5..6,complement(9))" in text
    assert "     misc_feature    5^6\n" in text
    assert "KEYWORDS    .\n" in text
    assert genbank.parse(text) == [record]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (theirs,) = SeqIO.parse(io.StringIO(text), "genbank")
    assert biopython_view(theirs) == our_view(record)


NCBI_RECORD = """\
LOCUS       NC_000913                 60 bp    DNA     circular CON 09-MAR-2022
DEFINITION  Escherichia coli str. K-12 substr. MG1655, complete genome.
ACCESSION   NC_000913
VERSION     NC_000913.3
DBLINK      BioProject: PRJNA57779
            BioSample: SAMN02604091
KEYWORDS    RefSeq.
SOURCE      Escherichia coli str. K-12 substr. MG1655
  ORGANISM  Escherichia coli str. K-12 substr. MG1655
            Bacteria; Pseudomonadati; Pseudomonadota; Gammaproteobacteria;
            Enterobacterales; Enterobacteriaceae; Escherichia.
REFERENCE   1  (bases 1 to 60)
  AUTHORS   Riley,M., Abe,T., Arnaud,M.B., Berlyn,M.K., Blattner,F.R.,
            Chaudhuri,R.R., Glasner,J.D., Horiuchi,T., Keseler,I.M.
  TITLE     Escherichia coli K-12: a cooperatively developed annotation
            snapshot--2005
  JOURNAL   Nucleic Acids Res. 34 (1), 1-9 (2006)
   PUBMED   16397293
  REMARK    Publication Status: Online-Only
REFERENCE   2  (bases 1 to 30)
  CONSRTM   NCBI Genome Project
  TITLE     Direct Submission
  JOURNAL   Submitted (05-JAN-2022) National Center for Biotechnology
            Information, NIH, Bethesda, MD 20894, USA
COMMENT     REVIEWED REFSEQ: This record has been curated by NCBI staff.
            ##Genome-Annotation-Data-START##
            Annotation Provider         :: NCBI RefSeq
            Annotation Date             :: 03/09/2022 10:32:13
            ##Genome-Annotation-Data-END##
FEATURES             Location/Qualifiers
     source          1..60
                     /organism="Escherichia coli str. K-12 substr. MG1655"
                     /mol_type="genomic DNA"
                     /db_xref="taxon:511145"
     gene            complement(<10..>40)
                     /gene="thrL"
                     /pseudo
ORIGIN
        1 agcttttcat tctgactgca acgggcaata tgtctctgtg tggattaaaa aaagagtgtc
//
"""


def test_ncbi_header_fields_round_trip() -> None:
    (record,) = genbank.parse(NCBI_RECORD)
    ann = record.annotations
    assert (record.accession, ann["version"], ann["sequence_version"]) == (
        "NC_000913",
        "NC_000913.3",
        3,
    )
    assert ann["dbxrefs"] == ["BioProject:PRJNA57779", "BioSample:SAMN02604091"]
    assert ann["structured_comment"] == {
        "Genome-Annotation-Data": {
            "Annotation Provider": "NCBI RefSeq",
            "Annotation Date": "03/09/2022 10:32:13",
        }
    }
    references = cast(list[dict[str, object]], ann["references"])
    assert references[0]["pubmed_id"] == "16397293"
    assert references[1]["consrtm"] == "NCBI Genome Project"
    assert references[1]["location"] == [[0, 30]]
    text = genbank.dumps([record])
    assert genbank.parse(text) == [record]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = SeqIO.read(io.StringIO(text), "genbank")
        theirs = SeqIO.read(io.StringIO(NCBI_RECORD), "genbank")
    assert ours.dbxrefs == theirs.dbxrefs
    for key in ("structured_comment", "comment", "taxonomy", "keywords", "sequence_version"):
        assert ours.annotations[key] == theirs.annotations[key]
    assert [str(r) for r in ours.annotations["references"]] == [
        str(r) for r in theirs.annotations["references"]
    ]


def test_utf16_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "windows.gb"
    path.write_bytes(NCBI_RECORD.encode("utf-16"))
    result = genbank.parse_with_warnings(path.read_bytes())
    assert result.records == tuple(genbank.parse(NCBI_RECORD))
    assert result.warnings == ("file is not valid UTF-8; decoded as utf-16",)


def test_biopython_warnings_are_returned_not_raised(pich41388: str) -> None:
    # filterwarnings=error is on: a warning escaping the reader would fail this test
    text = pich41388.replace("/label=ORI", '/label= "ORI"')
    result = genbank.parse_with_warnings(text)
    assert result.warnings == ("pICH41388: White space after equals in qualifier",)
    assert result.records[0].features[4].qualifier("label") == "ORI"


def test_long_names_use_the_space_separated_locus_line() -> None:
    record = SequenceRecord(
        "a_very_long_plasmid_name_v2_final",
        "ACGT" * 10,
        annotations={"data_file_division": "SYN", "date": "01-JAN-2024"},
    )
    text = genbank.dumps([record])
    assert genbank.parse(text) == [record]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert SeqIO.read(io.StringIO(text), "genbank").name == record.name


def test_names_with_spaces_cannot_be_written() -> None:
    with pytest.raises(FormatError, match=r"record 'my plasmid', field 'name'.*white space"):
        genbank.dumps([SequenceRecord("my plasmid", "ACGT")])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_records_round_trip_through_genbank(
    sequence_records: st.SearchStrategy[SequenceRecord], data: st.DataObject
) -> None:
    record = data.draw(sequence_records)
    text = genbank.dumps([record])
    assert genbank.parse(text) == [record]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (theirs,) = SeqIO.parse(io.StringIO(text), "genbank")
    assert biopython_view(theirs) == our_view(record)


# ----------------------------------------------------------------- corrupted variants of real files


@pytest.fixture
def pich41388(genbank_dir: Path) -> str:
    return (genbank_dir / "pICH41388.gb").read_text()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_truncated_inside_origin(tmp_path: Path, pich41388: str) -> None:
    cut = pich41388.index("ORIGIN") + 1500
    path = write(tmp_path, "cut.gb", pich41388[:cut])
    with pytest.raises(
        FormatError,
        match=r"file '.*cut\.gb', record 'pICH41388', field 'ORIGIN': the file ends inside ORIGIN "
        r"after \d+ of 2677 bp, without the '//' terminator; it looks truncated",
    ):
        formats.read(path)


def test_truncated_before_origin(tmp_path: Path, pich41388: str) -> None:
    path = write(tmp_path, "cut.gb", pich41388[: pich41388.index("Misc._feature")])
    with pytest.raises(
        FormatError, match=r"cut\.gb', record 'pICH41388', field 'ORIGIN'.*before the ORIGIN"
    ):
        formats.read(path)


def test_missing_terminator(tmp_path: Path, pich41388: str) -> None:
    path = write(tmp_path, "noend.gb", pich41388.rstrip().removesuffix("//"))
    with pytest.raises(
        FormatError, match=r"record 'pICH41388', field 'ORIGIN'.*after 2677 of 2677 bp.*'//'"
    ):
        formats.read(path)


def test_missing_terminator_between_two_records(tmp_path: Path, genbank_dir: Path) -> None:
    text = (genbank_dir / "sequence4.gb").read_text().replace("//\n", "", 1)
    path = write(tmp_path, "merged.gb", text)
    with pytest.raises(
        FormatError, match=r"record 'HUMPROK', field '//'.*no '//' terminator before the next LOCUS"
    ):
        formats.read(path)


def test_sequence_shorter_than_locus(tmp_path: Path, pich41388: str) -> None:
    lines = pich41388.splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("     1201 "))
    path = write(tmp_path, "short.gb", "".join(lines[:row] + lines[row + 1 :]))
    with pytest.raises(
        FormatError,
        match=r"record 'pICH41388', field 'sequence': the LOCUS line declares 2677 bp but ORIGIN "
        r"holds 2617 bp",
    ):
        formats.read(path)


def test_locus_length_disagrees(tmp_path: Path, pich41388: str) -> None:
    path = write(tmp_path, "long.gb", pich41388.replace("2677 bp", "2680 bp", 1))
    with pytest.raises(
        FormatError, match=r"field 'sequence'.*declares 2680 bp but ORIGIN holds 2677"
    ):
        formats.read(path)


def test_non_iupac_letter(tmp_path: Path, pich41388: str) -> None:
    text = pich41388.replace("       61 TATAGGTTAA", "       61 TATAGGUTAA", 1)
    path = write(tmp_path, "rna.gb", text)
    with pytest.raises(
        FormatError,
        match=r"record 'pICH41388', field 'sequence': invalid base 'U' at position 67 \(line \d+\)",
    ):
        formats.read(path)


def test_fasta_given_as_genbank(tmp_path: Path) -> None:
    path = write(tmp_path, "mislabelled.gb", ">pICH41388 plasmid\nACGTACGT\n")
    with pytest.raises(
        FormatError,
        match=r"mislabelled\.gb', record '#1', field 'LOCUS': not a GenBank file.*FASTA",
    ):
        formats.read(path)


def test_binary_given_as_genbank(tmp_path: Path, pich41388: str) -> None:
    path = write(tmp_path, "packed.gb", gzip.compress(pich41388.encode()))
    with pytest.raises(FormatError, match=r"packed\.gb', record '#1', field 'LOCUS'.*gzip"):
        formats.read(path)
    path = write(tmp_path, "image.gbk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(FormatError, match=r"image\.gbk', record '#1', field 'LOCUS'.*binary"):
        formats.read(path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.gb", "\n\n")
    with pytest.raises(
        FormatError, match=r"empty\.gb', record '#1', field 'LOCUS': the file is empty"
    ):
        formats.read(path)


def test_unreadable_location(tmp_path: Path, pich41388: str) -> None:
    path = write(tmp_path, "loc.gb", pich41388.replace("231..1241", "231..12x1", 1))
    with pytest.raises(
        FormatError,
        match=r"record 'pICH41388', field 'FEATURES': .* feature 2 \(CDS\) at location '231..12x1'",
    ):
        formats.read(path)


def test_protein_record(tmp_path: Path) -> None:
    text = "LOCUS       PROT1          5 aa            linear   PRI 01-JAN-2000\nORIGIN\n//\n"
    with pytest.raises(FormatError, match=r"record 'PROT1', field 'LOCUS'.*protein"):
        formats.parse(text, "genbank", source="prot.gb")


# ----------------------------------------------------------------- the facade


def test_facade_guesses_formats_and_refuses_unknown_extensions(tmp_path: Path) -> None:
    assert formats.FORMATS == ("genbank", "fasta", "sbol3")
    assert sorted(formats.__all__) == [
        "FORMATS", "FormatInfo", "guess_format", "parse", "read", "read_catalogue", "write",
        "write_catalogue",
    ]  # fmt: skip
    assert [formats.guess_format(n) for n in ("a.GB", "b.gbff", "c.fna", "d.json-ld")] == [
        "genbank",
        "genbank",
        "fasta",
        "sbol3",
    ]
    path = write(tmp_path, "plasmid.docx", "x")
    with pytest.raises(FormatError, match=r"plasmid\.docx.*unknown file extension.*genbank \(\.gb"):
        formats.read(path)
    with pytest.raises(FormatError, match="lower case"):
        formats.parse("", "GenBank")


def test_facade_write_and_read_back(tmp_path: Path, genbank_dir: Path) -> None:
    records = formats.read(genbank_dir / "sequence4.gb")
    path = tmp_path / "copy.gbk"
    text = formats.write(records, path, "genbank")
    assert path.read_text() == text
    assert formats.read(path) == records
    handle = io.StringIO()
    formats.write(records, handle, "genbank")
    assert formats.parse(io.StringIO(handle.getvalue()), "genbank") == records
    # content in a file with a FASTA extension is read as what it is told to be
    other = tmp_path / "really_genbank.fa"
    other.write_text(text)
    assert formats.read(other, "genbank") == records
