"""SBOL3 import and export: the conformance examples, and GenBank through SBOL3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

from cellfoundry.bank import formats
from cellfoundry.bank.formats import genbank, sbol3
from cellfoundry.core.errors import FormatError, ValidationError
from cellfoundry.core.sequence import SequenceRecord

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sbol-test-suite"
SBOL3_FILES = sorted(
    p for p in (DATA / "SBOL3").rglob("*") if p.is_file() and p.name != "catalog-v001.xml"
)
EXAMPLES = sorted({p.parent for p in SBOL3_FILES})
GENBANK_FILES = [
    *sorted(p for p in (DATA / "GenBank").glob("*") if p.suffix in (".gb", ".gbk")),
    DATA / "GenBank" / "genomes" / "20027.gbk",
]
SBOL = "http://sbols.org/v3#"
SO = "https://identifiers.org/SO:"
CF = "https://cellfoundry.org/ns#"
#: record annotations that only say where a record sits in an SBOL3 document
IDENTITY_KEYS = {"sbol3:identity", "sbol3:sequence", "sbol3:namespace", "sbol3:roles"}


def reference_graph(example: Path) -> rdflib.Graph:
    """The example read by rdflib from its N-Triples file."""
    graph = rdflib.Graph()
    graph.parse(example / f"{example.name}.nt", format="nt")
    return graph


def graph_of(text: str, serialisation: str) -> rdflib.Graph:
    if serialisation == "rdf-json":
        return sbol3.build_graph([], sbol3._ntriples(sbol3._read_rdf_json(text)))
    graph = rdflib.Graph()
    graph.parse(data=text, format=serialisation)
    return graph


def without_sbol3(annotations: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in annotations.items() if not k.startswith("sbol3:")}


def test_the_suite_has_all_serialisations() -> None:
    assert len(SBOL3_FILES) == 119
    assert len(EXAMPLES) == 17
    assert {sbol3.guess_serialisation(p) for p in SBOL3_FILES} == {
        "turtle", "nt", "xml", "json-ld", "rdf-json"
    }  # fmt: skip


@pytest.mark.parametrize("path", SBOL3_FILES, ids=lambda p: p.name)
def test_every_serialisation_imports_and_exports_without_loss(path: Path) -> None:
    document = sbol3.read_document(path)
    exported = sbol3.dumps_document(document.records, document.remainder, "nt")
    assert isomorphic(graph_of(exported, "nt"), reference_graph(path.parent))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("serialisation", ["turtle", "xml", "json-ld", "rdf-json"])
def test_export_in_every_serialisation(example: Path, serialisation: str) -> None:
    document = sbol3.read_document(example / f"{example.name}.ttl")
    text = sbol3.dumps_document(document.records, document.remainder, serialisation)  # type: ignore[arg-type]
    assert isomorphic(graph_of(text, serialisation), reference_graph(example))
    # and our reader reads what we wrote
    again = sbol3.parse_document(text, serialisation=serialisation)  # type: ignore[arg-type]
    assert again.records == document.records
    assert again.remainder == document.remainder


def test_combine2020_records_and_remainder(sbol3_dir: Path) -> None:
    document = formats.sbol3.read_document(sbol3_dir / "combine2020" / "combine2020.jsonld")
    assert [(r.name, len(r)) for r in document.records] == [
        ("B0015", 80),
        ("B0034", 12),
        ("E0040", 720),
        ("i13504", 826),
    ]
    i13504 = document.records[3]
    assert i13504.description == "Screening plasmid intermediate"
    assert i13504.sequence.startswith("AAAGAGGAGAAATACTAGATGCGTAAAGG")
    assert [(f.type, f.spans[0].start, f.spans[0].end, f.strand) for f in i13504.features] == [
        ("misc_feature", 12, 18, 1),
        ("misc_feature", 738, 746, 1),
    ]
    assert i13504.annotations["sbol3:roles"] == [SO + "0000804"]
    # SubComponents, their Ranges and the sequence's name stay verbatim
    assert 'SubComponent3/Range1> <http://sbols.org/v3#start> "747" .' in str(
        i13504.annotations["sbol3:extra"]
    )
    remainder = rdflib.Graph().parse(data=document.remainder, format="nt")
    top_levels = {str(s).rsplit("/", 1)[-1] for s in remainder.subjects(rdflib.RDF.type, None)}
    assert {"GFP_protein", "interlab16device1", "i13504_system", "j23101"} <= top_levels
    # the facade returns just the records
    assert formats.read(sbol3_dir / "combine2020" / "combine2020.rdf") == document.records


def test_documents_without_dna_sequences_go_to_the_remainder(sbol3_dir: Path) -> None:
    for name in ("toggle_switch", "multicellular"):
        document = sbol3.read_document(sbol3_dir / name / f"{name}.ttl")
        assert document.records == []
        assert len(document.remainder.splitlines()) == len(reference_graph(sbol3_dir / name))
    activity = sbol3.read_document(sbol3_dir / "provenance_entity" / "activity" / "activity.rj")
    assert activity.records == []
    assert "prov#Activity" in activity.remainder


def test_catalog_xml_is_not_sbol(sbol3_dir: Path) -> None:
    with pytest.raises(FormatError, match=r"catalog-v001\.xml', field 'xml': not valid xml RDF"):
        formats.read(sbol3_dir / "toggle_switch" / "catalog-v001.xml")


@pytest.mark.parametrize("path", GENBANK_FILES, ids=lambda p: p.name)
def test_genbank_to_sbol3_to_genbank_is_lossless(path: Path) -> None:
    records = genbank.parse(path.read_bytes())
    text = sbol3.dumps_document(records, "", "nt")
    document = sbol3.parse_document(text)
    assert document.remainder == ""
    assert len(document.records) == len(records)
    for ours, back in zip(records, document.records, strict=True):
        assert set(back.annotations) - set(ours.annotations) == IDENTITY_KEYS
        assert (back.name, back.sequence, back.topology, back.description) == (
            ours.name,
            ours.sequence,
            ours.topology,
            ours.description,
        )
        assert (back.accession, back.molecule_type) == (ours.accession, ours.molecule_type)
        assert back.features == ours.features
        assert without_sbol3(back.annotations) == ours.annotations
    assert genbank.dumps(document.records) == genbank.dumps(records)


def test_exported_plasmid_uses_sbol3_and_sequence_ontology_terms(genbank_dir: Path) -> None:
    records = genbank.parse((genbank_dir / "pICH41388.gb").read_bytes())
    graph = graph_of(sbol3.dumps_document(records, "", "turtle"), "turtle")
    c = rdflib.URIRef(f"{sbol3.DEFAULT_NAMESPACE}/pICH41388")
    s = rdflib.URIRef(SBOL)
    types = set(graph.objects(c, rdflib.URIRef(SBOL + "type")))
    assert types == {
        rdflib.URIRef("https://identifiers.org/SBO:0000251"),
        rdflib.URIRef(SO + "0000988"),
    }
    assert (c, rdflib.URIRef(SBOL + "role"), rdflib.URIRef(SO + "0000155")) in graph  # plasmid
    seq = graph.value(c, rdflib.URIRef(SBOL + "hasSequence"))
    assert str(graph.value(seq, rdflib.URIRef(SBOL + "encoding"))).endswith("edam:format_1207")
    assert len(str(graph.value(seq, rdflib.URIRef(SBOL + "elements")))) == 2677

    def feature(n: int) -> rdflib.URIRef:
        return rdflib.URIRef(f"{c}/SequenceFeature{n}")

    role, key = rdflib.URIRef(SBOL + "role"), rdflib.URIRef(CF + "genbankKey")
    # CDS maps to SO:0000316 and needs no key; Misc._feature maps to SO:0000001 and keeps its key
    assert graph.value(feature(2), role) == rdflib.URIRef(SO + "0000316")
    assert graph.value(feature(2), key) is None
    assert graph.value(feature(4), role) == rdflib.URIRef(SO + "0000001")
    assert str(graph.value(feature(4), key)) == "Misc._feature"
    # 'Source' has no SO term: no role, the key alone
    assert graph.value(feature(1), role) is None
    assert str(graph.value(feature(1), key)) == "Source"
    # complement(2000): a one-base Range on the reverse strand
    ori_range = rdflib.URIRef(f"{feature(5)}/Range1")
    assert graph.value(ori_range, rdflib.URIRef(SBOL + "orientation")) == rdflib.URIRef(
        SO + "0001031"
    )
    assert (graph.value(ori_range, s + "start"), graph.value(ori_range, s + "end")) == (
        rdflib.Literal(2000),
        rdflib.Literal(2000),
    )
    qualifiers = sorted(str(q) for q in graph.objects(feature(2), rdflib.URIRef(CF + "qualifier")))
    assert qualifiers == [
        "0:dnas_title=Sm/Sp no DraIII",
        "1:vntifkey=4",
        "2:label=Sm/Sp no DraIII",
        "3:label=Sm/Sp no DraIII",
    ]
    assert str(graph.value(feature(2), rdflib.URIRef(SBOL + "name"))) == "Sm/Sp no DraIII"


def test_pysbol3_validates_what_we_write(genbank_dir: Path, sbol3_dir: Path) -> None:
    records = genbank.parse((genbank_dir / "sequence1.gb").read_bytes())
    assert sbol3.validate_with_pysbol3(sbol3.dumps_document(records, "", "turtle")) == []
    document = sbol3.read_document(sbol3_dir / "combine2020" / "combine2020.ttl")
    text = sbol3.dumps_document(document.records, document.remainder, "xml")
    assert sbol3.validate_with_pysbol3(text, "xml") == []


def test_write_document_to_path_and_handle(tmp_path: Path, sbol3_dir: Path) -> None:
    document = sbol3.read_document(
        sbol3_dir / "BBa_F2620_PoPSReceiver" / "BBa_F2620_PoPSReceiver.rj"
    )
    assert len(document.records) == 8
    path = tmp_path / "copy.jsonld"
    sbol3.write_document(document.records, document.remainder, path)
    assert isomorphic(
        graph_of(path.read_text(), "json-ld"), reference_graph(sbol3_dir / "BBa_F2620_PoPSReceiver")
    )
    assert sbol3.read_document(path) == document
    # the facade writes records alone (no remainder), in the extension's serialisation
    formats.write(document.records, tmp_path / "parts.rj", "sbol3")
    assert formats.read(tmp_path / "parts.rj") == document.records


def test_sbol3_content_under_another_extension(tmp_path: Path, sbol3_dir: Path) -> None:
    path = tmp_path / "combine2020.txt"
    path.write_bytes((sbol3_dir / "combine2020" / "combine2020.ttl").read_bytes())
    assert [r.name for r in formats.read(path, "sbol3")] == ["B0015", "B0034", "E0040", "i13504"]


def test_two_records_with_one_identity() -> None:
    records = [SequenceRecord("p-1", "ACGT"), SequenceRecord("p_1", "GGCC")]
    with pytest.raises(ValidationError, match=r"record 'p_1', field 'name'.*same SBOL3 identity"):
        sbol3.dumps_document(records)


# ----------------------------------------------------------------- broken input


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ttl"
    path.write_text("  \n")
    with pytest.raises(FormatError, match=r"empty\.ttl', field 'RDF': the file is empty"):
        sbol3.read_document(path)


def test_genbank_given_as_turtle(tmp_path: Path, genbank_dir: Path) -> None:
    path = tmp_path / "plasmid.ttl"
    path.write_bytes((genbank_dir / "pICH41388.gb").read_bytes())
    with pytest.raises(FormatError, match=r"plasmid\.ttl', field 'turtle': not valid turtle RDF"):
        formats.read(path)


def test_dna_sequence_with_bad_letters(tmp_path: Path, sbol3_dir: Path) -> None:
    text = (sbol3_dir / "combine2020" / "combine2020.nt").read_text()
    text = text.replace('"aaagaggagaaa"', '"aaagaggagxaa"')  # B0034's sequence
    path = tmp_path / "bad.nt"
    path.write_text(text)
    with pytest.raises(
        FormatError,
        match=r"bad\.nt', record 'B0034', field 'elements': invalid base 'x' at position 10 "
        r"of sequence https://synbiohub.org/public/igem/B0034_Sequence1",
    ):
        sbol3.read_document(path)


def test_remote_jsonld_context_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps({"@context": "https://example.org/sbol3.jsonld", "@graph": []}))
    with pytest.raises(FormatError, match=r"field '@context'.*remote document"):
        sbol3.read_document(path)


def test_malformed_rdf_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.rj"
    path.write_text(json.dumps({"https://x.org/a": {"https://x.org/p": [{"value": "v"}]}}))
    with pytest.raises(FormatError, match=r"bad\.rj', field 'rdf-json'.*needs 'type' and 'value'"):
        sbol3.read_document(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), serialisation=st.sampled_from(["nt", "turtle", "rdf-json"]))
def test_random_records_round_trip_through_sbol3(
    sequence_records: st.SearchStrategy[SequenceRecord], data: st.DataObject, serialisation: str
) -> None:
    record = data.draw(sequence_records)
    text = sbol3.dumps_document([record], "", serialisation)  # type: ignore[arg-type]
    (back,) = sbol3.parse_document(text).records
    assert set(back.annotations) - set(record.annotations) == IDENTITY_KEYS
    assert back.features == record.features
    assert (back.name, back.sequence, back.topology, back.description, back.accession) == (
        record.name,
        record.sequence,
        record.topology,
        record.description,
        record.accession,
    )
    assert without_sbol3(back.annotations) == record.annotations
