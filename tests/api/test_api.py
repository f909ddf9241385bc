"""The HTTP API on a SQLite bank: every endpoint, its status codes and error bodies."""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank import formats
from cellfoundry.bank.models import Modification, PartRecord, StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def random_dna(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


def feature(kind: str, start: int, end: int, strand: int, label: str) -> Feature:
    return Feature(kind, (FeatureSpan(start, end, strand),), (("label", label),))  # type: ignore[arg-type]


PDEMO = SequenceRecord(
    name="pDemo1",
    sequence=random_dna(3000, 1),
    topology="circular",
    description="demo vector",
    features=(
        feature("promoter", 100, 180, 1, "Ptrc"),
        feature("CDS", 200, 1061, 1, "bla"),
        feature("rep_origin", 1500, 2089, -1, "pMB1 ori"),
    ),
)
PLINEAR = SequenceRecord(
    name="pLin2", sequence=random_dna(1200, 2), topology="linear", description="linear DNA"
)


def make_bank(path: Path) -> Bank:
    bank = Bank.open("sqlite:///" + str(path))
    bank.import_sequences([PDEMO, PLINEAR], kind="plasmid", actor="test")
    bank.add_part(
        PartRecord(
            "BBa_J23100",
            "promoter",
            "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC",
            "Anderson promoter",
            {"relative_strength": 1.0},
        ),
        actor="test",
    )
    bank.import_strains(
        [
            StrainRecord(
                "CF-1",
                "Escherichia coli K-12 MG1655",
                other_accessions=("DSM 18039", "ATCC 700926"),
                genotype="F- lambda- ilvG- rfb-50 rph-1",
            ),
            StrainRecord(
                "CF-2",
                "Escherichia coli K-12 MG1655 dldhA",
                parent_accession="CF-1",
                modifications=(Modification("deletion", "ldhA"),),
            ),
            StrainRecord(
                "CF-3",
                "Escherichia coli K-12 MG1655 dldhA pDemo1",
                parent_accession="CF-2",
                modifications=(Modification("plasmid transformation", "pDemo1"),),
                plasmid_names=("pDemo1",),
            ),
            StrainRecord("CF-10", "Bacillus subtilis 168", ncbi_taxid=224308),
            StrainRecord("CF-11", "Pseudomonas aeruginosa PAO1", risk_group=2, status="restricted"),
        ],
        actor="test",
    )
    box = bank.add_box("Main", "F1", "R1", "B1", rows=8, columns=12)
    bank.add_sample(
        "CF-1-G1",
        box=box,
        position="A1",
        preservation="glycerol -80 °C",
        vials=4,
        strain="CF-1",
        actor="test",
    )
    bank.add_sample(
        "CF-2-G1",
        box=box,
        position="A2",
        preservation="glycerol -80 °C",
        strain="CF-2",
        actor="test",
    )
    bank.create_user("alice", "a long enough password", role="curator", actor="test")
    return bank


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test bank, built once; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "bank.db"
    make_bank(path).close()
    return path


@pytest.fixture
def bank(template_db: Path, tmp_path: Path) -> Iterator[Bank]:
    path = tmp_path / "bank.db"
    shutil.copyfile(template_db, path)
    bank = Bank.open("sqlite:///" + str(path), migrate=False)
    yield bank
    bank.close()


@pytest.fixture
def client(bank: Bank) -> Iterator[TestClient]:
    """A client signed in with a curator's API token."""
    token = bank.issue_token("alice", name="tests", actor="test").secret
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(bank=bank), headers=headers) as client:
        yield client


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "source", "record", "field"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body  # type: ignore[no-any-return]


# -- app and OpenAPI ----------------------------------------------------------------------------


def test_openapi_document_lists_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "cellfoundry"
    assert spec["info"]["version"] == "0.1.0"
    paths = spec["paths"]
    expected = {
        "/api/strains": {"get", "post"},
        "/api/strains/{accession}": {"get", "patch"},
        "/api/strains/{accession}/lineage": {"get"},
        "/api/strains/{accession}/history": {"get"},
        "/api/strains/{accession}/deposit": {"post"},
        "/api/accessions/{number}": {"get"},
        "/api/counts": {"get"},
        "/api/plasmids": {"get"},
        "/api/plasmids/{name}": {"get"},
        "/api/plasmids/{name}.gb": {"get"},
        "/api/plasmids/{name}.fasta": {"get"},
        "/api/parts": {"get"},
        "/api/parts/{name}": {"get"},
        "/api/sequences/search": {"post"},
        "/api/import": {"post"},
        "/api/samples/{label}": {"get"},
        "/api/samples/{label}/move": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert not any(p.startswith("/strains") for p in paths), "web pages stay out of the API"
    schemas = spec["components"]["schemas"]
    for name in (
        "StrainPublic",
        "StrainsPublic",
        "StrainCreate",
        "StrainUpdate",
        "SamplePublic",
        "DepositCreate",
        "DepositPublic",
        "SequencePublic",
        "SequencesPublic",
        "SequenceHitPublic",
        "LineagePublic",
        "ErrorPublic",
    ):
        assert name in schemas, name
    created = paths["/api/strains"]["post"]["responses"]
    assert {"201", "404", "409", "422"} <= set(created)
    ref = created["422"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ErrorPublic")


def test_docs_page_is_served_without_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/strains/{accession}/lineage" in page.text
    assert "cdn" not in page.text.lower()
    assert "//" not in page.text.replace("http://www.w3.org", "").split("<body", 1)[0]


def test_counts(client: TestClient) -> None:
    assert client.get("/api/counts").json() == {
        "strains": 5,
        "plasmids": 2,
        "parts": 1,
        "genomes": 0,
        "samples": 2,
        "deposits": 0,
    }


# -- strains ------------------------------------------------------------------------------------


def test_search_strains_by_text_facets_and_paging(client: TestClient) -> None:
    everything = client.get("/api/strains").json()
    assert everything["count"] == 5
    assert [s["accession"] for s in everything["data"]] == [
        "CF-1",
        "CF-10",
        "CF-11",
        "CF-2",
        "CF-3",
    ]
    genus = {f["value"]: f["count"] for f in everything["facets"]["genus"]}
    assert genus == {"Escherichia": 3, "Bacillus": 1, "Pseudomonas": 1}
    assert set(everything["facets"]) == {
        "genus",
        "organism_type",
        "risk_group",
        "status",
        "deposit_type",
    }

    coli = client.get("/api/strains", params={"genus": "Escherichia", "limit": 2}).json()
    assert coli["count"] == 3
    assert len(coli["data"]) == 2
    page2 = client.get(
        "/api/strains", params={"genus": "Escherichia", "limit": 2, "offset": 2}
    ).json()
    assert [s["accession"] for s in page2["data"]] == ["CF-3"]

    risky = client.get("/api/strains", params=[("risk_group", 2), ("risk_group", 3)]).json()
    assert [s["accession"] for s in risky["data"]] == ["CF-11"]
    text = client.get("/api/strains", params={"q": "subtilis"}).json()
    assert [s["accession"] for s in text["data"]] == ["CF-10"]
    other = client.get("/api/strains", params={"q": "DSM 18039"}).json()
    assert [s["accession"] for s in other["data"]] == ["CF-1"]
    kids = client.get("/api/strains", params={"parent": "CF-1"}).json()
    assert [s["accession"] for s in kids["data"]] == ["CF-2"]


def test_search_strains_rejects_bad_paging(client: TestClient) -> None:
    body = error(client.get("/api/strains", params={"limit": 0}), 422)
    assert body["field"] == "limit"
    assert body["source"] == "query"


def test_create_and_read_strain(client: TestClient) -> None:
    response = client.post(
        "/api/strains",
        json={
            "accession": "CF-4",
            "taxon_name": "Escherichia coli K-12 MG1655 dldhA dadhE",
            "parent_accession": "CF-2",
            "modifications": [{"kind": "deletion", "target": "adhE"}],
            "supply_forms": ["frozen"],
            "growth_temperature_c": 37,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["accession"] == "CF-4"
    assert created["genus"] == "Escherichia"
    assert created["parent_accession"] == "CF-2"
    assert created["modifications"] == [{"kind": "deletion", "target": "adhE", "description": ""}]
    assert created["version"] == 1

    strain = client.get("/api/strains/CF-3").json()
    assert strain["plasmid_names"] == ["pDemo1"]
    assert strain["plasmids"][0]["name"] == "pDemo1"
    assert strain["plasmids"][0]["topology"] == "circular"
    assert client.get("/api/strains/CF-2").json()["children"] == ["CF-3", "CF-4"]
    sample = client.get("/api/strains/CF-1").json()["samples"][0]
    assert sample["address"] == "Main/F1/R1/B1/A1"
    assert sample["position"] == "A1"
    assert client.get("/api/strains/CF-4/history").json()["data"][0]["actor"] == "alice"


def test_create_strain_conflict_names_accession(client: TestClient) -> None:
    body = error(client.post("/api/strains", json={"accession": "CF-1", "taxon_name": "x"}), 409)
    assert body["record"] == "CF-1"
    assert body["field"] == "accession"


def test_create_strain_unknown_parent_is_422_on_parent_field(client: TestClient) -> None:
    body = error(
        client.post(
            "/api/strains",
            json={"accession": "CF-9", "taxon_name": "E. coli", "parent_accession": "CF-404"},
        ),
        422,
    )
    assert body["field"] == "parent_accession"
    assert body["record"] == "CF-9"


def test_create_strain_unknown_plasmid_is_422(client: TestClient) -> None:
    body = error(
        client.post(
            "/api/strains",
            json={"accession": "CF-9", "taxon_name": "E. coli", "plasmid_names": ["pNope"]},
        ),
        422,
    )
    assert body["field"] == "plasmid_names"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"accession": "CF-9", "taxon_name": "E. coli", "risk_group": 5}, "risk_group"),
        ({"accession": "CF-9", "taxon_name": "E. coli", "organism_type": "virus"}, "organism_type"),
        ({"accession": "CF-9"}, "taxon_name"),
        ({"accession": "CF-9", "taxon_name": "E. coli", "latitude": 123}, "latitude"),
    ],
)
def test_create_strain_invalid_value_names_field(
    client: TestClient, payload: dict[str, Any], field: str
) -> None:
    body = error(client.post("/api/strains", json=payload), 422)
    assert body["field"] == field
    assert body["source"] == "body"


def test_read_missing_strain_is_404(client: TestClient) -> None:
    body = error(client.get("/api/strains/CF-404"), 404)
    assert body["record"] == "CF-404"
    assert "CF-404" in body["detail"]
    for url in ("/api/strains/CF-404/lineage", "/api/strains/CF-404/history"):
        error(client.get(url), 404)


def test_patch_strain_records_old_and_new_values(client: TestClient) -> None:
    response = client.patch(
        "/api/strains/CF-10",
        json={"status": "restricted", "growth_medium": "LB"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "restricted"
    assert response.json()["version"] == 2
    history = client.get("/api/strains/CF-10/history").json()["data"]
    assert [e["action"] for e in history] == ["create", "update"]
    assert history[1]["actor"] == "alice"
    assert history[1]["changes"]["status"] == ["available", "restricted"]


def test_patch_strain_errors(client: TestClient) -> None:
    error(client.patch("/api/strains/CF-404", json={"status": "restricted"}), 404)
    assert error(client.patch("/api/strains/CF-1", json={"accession": "X"}), 422)["field"] == (
        "accession"
    )
    assert error(client.patch("/api/strains/CF-1", json={"status": "lost"}), 422)["field"] == (
        "status"
    )


def test_lineage_walks_both_ways(client: TestClient) -> None:
    lineage = client.get("/api/strains/CF-2/lineage").json()
    assert [n["accession"] for n in lineage["ancestors"]] == ["CF-1", "CF-2"]
    assert [n["accession"] for n in lineage["descendants"]] == ["CF-3"]
    assert lineage["ancestors"][1]["modifications"][0]["target"] == "ldhA"
    assert lineage["descendants"][0]["depth"] == 2


def test_accession_lookup_finds_other_collections_numbers(client: TestClient) -> None:
    ours = client.get("/api/accessions/cf-1").json()
    assert [s["accession"] for s in ours["data"]] == ["CF-1"]
    theirs = client.get("/api/accessions/ATCC 700926").json()
    assert theirs["number"] == "ATCC 700926"
    assert [s["accession"] for s in theirs["data"]] == ["CF-1"]
    body = error(client.get("/api/accessions/NCIMB 1"), 404)
    assert body["record"] == "NCIMB 1"


# -- sequences ----------------------------------------------------------------------------------


def test_list_plasmids_and_parts(client: TestClient) -> None:
    plasmids = client.get("/api/plasmids").json()
    assert plasmids["count"] == 2
    assert [p["name"] for p in plasmids["data"]] == ["pDemo1", "pLin2"]
    assert client.get("/api/plasmids", params={"q": "bla"}).json()["count"] == 1
    paged = client.get("/api/plasmids", params={"limit": 1, "offset": 1}).json()
    assert [p["name"] for p in paged["data"]] == ["pLin2"]
    parts = client.get("/api/parts").json()
    assert parts["data"][0]["role"] == "promoter"


def test_read_plasmid_with_features(client: TestClient) -> None:
    plasmid = client.get("/api/plasmids/pDemo1").json()
    assert plasmid["length"] == 3000
    assert plasmid["topology"] == "circular"
    assert plasmid["checksum"].startswith("cdseguid=")
    labels = {f["label"]: f for f in plasmid["features"]}
    assert set(labels) == {"Ptrc", "bla", "pMB1 ori"}
    assert labels["pMB1 ori"]["strand"] == -1
    assert labels["bla"]["spans"] == [
        {"start": 200, "end": 1061, "strand": 1, "partial_start": False, "partial_end": False}
    ]
    error(client.get("/api/plasmids/pNope"), 404)


def test_export_plasmid_genbank_and_fasta(client: TestClient) -> None:
    gb = client.get("/api/plasmids/pDemo1.gb")
    assert gb.status_code == 200
    assert gb.headers["content-type"].startswith("text/x-genbank")
    assert 'filename="pDemo1.gb"' in gb.headers["content-disposition"]
    (back,) = formats.parse(gb.text, "genbank")
    assert back.sequence == PDEMO.sequence
    assert back.topology == "circular"
    assert {f.label for f in back.features} >= {"Ptrc", "bla", "pMB1 ori"}
    fasta = client.get("/api/plasmids/pDemo1.fasta")
    assert fasta.status_code == 200
    assert fasta.text.startswith(">pDemo1")
    assert formats.parse(fasta.text, "fasta")[0].sequence == PDEMO.sequence
    error(client.get("/api/plasmids/pNope.gb"), 404)


def test_read_and_export_part(client: TestClient) -> None:
    part = client.get("/api/parts/BBa_J23100").json()
    assert part["so_term"] == "SO:0000167"
    assert part["characterisation"] == {"relative_strength": 1.0}
    assert part["sequence"]["sequence"] == "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC"
    assert client.get("/api/parts/BBa_J23100.fasta").text.startswith(">BBa_J23100")
    assert "LOCUS" in client.get("/api/parts/BBa_J23100.gb").text
    error(client.get("/api/parts/BBa_nope"), 404)


def test_sequence_search_finds_the_plasmid(client: TestClient) -> None:
    query = PDEMO.sequence[400:700]
    response = client.post("/api/sequences/search", json={"sequence": query, "top": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query_length"] == 300
    best = body["data"][0]
    assert (best["kind"], best["name"]) == ("plasmid", "pDemo1")
    assert best["identity"] == pytest.approx(1.0)
    assert (best["target_start"], best["target_end"]) == (400, 700)


def test_sequence_search_reads_fasta_and_filters_kinds(client: TestClient) -> None:
    fasta = ">q1 promoter\nTTGACGGCTAGCTCAGTCCTAG\nGTACAGTGCTAGC\n"
    hits = client.post("/api/sequences/search", json={"sequence": fasta, "kinds": ["part"]}).json()
    assert hits["query_length"] == 35
    assert [(h["kind"], h["name"]) for h in hits["data"]] == [("part", "BBa_J23100")]


def test_sequence_search_invalid_query_names_field(client: TestClient) -> None:
    body = error(client.post("/api/sequences/search", json={"sequence": "ACGTXACGT"}), 422)
    assert body["field"] == "sequence"
    assert "'X'" in body["detail"]
    assert error(client.post("/api/sequences/search", json={"sequence": ""}), 422)["field"] == (
        "sequence"
    )


# -- import -------------------------------------------------------------------------------------


def upload(client: TestClient, name: str, content: str, **form: str) -> Any:  # returns the response
    return client.post(
        "/api/import",
        files={"file": (name, io.BytesIO(content.encode()), "application/octet-stream")},
        data=form,
    )


def test_import_genbank_plasmids(client: TestClient) -> None:
    new = SequenceRecord(
        "pNew3",
        random_dna(900, 3),
        "circular",
        features=(feature("CDS", 10, 310, 1, "gfp"),),
    )
    text = formats.write([new], None, "genbank")
    response = upload(client, "pNew3.gb", text, kind="plasmid")
    assert response.status_code == 201, response.text
    assert response.json() == {
        "source": "pNew3.gb",
        "strains": 0,
        "sequences": 1,
        "duplicates": [],
    }
    stored = client.get("/api/plasmids/pNew3").json()
    assert stored["features"][0]["label"] == "gfp"


def test_import_reports_identical_sequences(client: TestClient) -> None:
    copy = SequenceRecord("pCopy", PDEMO.sequence[1000:] + PDEMO.sequence[:1000], "circular")
    response = upload(client, "copy.fasta", formats.write([copy], None, "fasta"), kind="plasmid")
    assert response.status_code == 201, response.text
    assert response.json()["duplicates"] == ["pCopy"]


def test_import_conflict_names_the_uploaded_file(client: TestClient) -> None:
    body = error(
        upload(client, "again.fasta", formats.write([PLINEAR], None, "fasta"), kind="plasmid"),
        409,
    )
    assert body["source"] == "again.fasta"
    assert body["record"] == "pLin2"
    assert body["field"] == "name"
    assert "again.fasta" in body["detail"]
    assert "cellfoundry-import-" not in body["detail"]


def test_import_bad_sequence_names_file_record_and_field(client: TestClient) -> None:
    body = error(upload(client, "bad.fasta", ">ok\nACGT\n>broken\nACGTJJ\n", kind="part"), 422)
    assert body["source"] == "bad.fasta"
    assert body["record"] == "broken"
    assert body["field"] == "sequence"
    assert client.get("/api/parts", params={"q": "ok"}).json()["count"] == 0, "all or nothing"


def test_import_unknown_extension_is_422(client: TestClient) -> None:
    body = error(upload(client, "notes.docx", "hello", kind="plasmid"), 422)
    assert body["source"] == "notes.docx"


def test_import_genome_needs_a_strain(client: TestClient) -> None:
    body = error(upload(client, "g.fasta", ">chr\nACGTACGT\n", kind="genome"), 422)
    assert body["field"] == "strain"
    ok = upload(client, "g.fasta", ">chr\nACGTACGTAAAA\n", kind="genome", strain="CF-10")
    assert ok.status_code == 201, ok.text
    assert client.get("/api/strains/CF-10").json()["genomes"][0]["name"] == "chr"


def test_import_part_role_is_checked(client: TestClient) -> None:
    body = error(upload(client, "p.fasta", ">p\nACGT\n", kind="part", role="gizmo"), 422)
    assert body["field"] == "role"
    ok = upload(client, "p.fasta", ">p\nACGTACGTACGT\n", kind="part", role="terminator")
    assert ok.status_code == 201, ok.text
    assert client.get("/api/parts/p").json()["role"] == "terminator"


def test_import_strain_catalogue(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    formats.write_catalogue(
        [
            StrainRecord("CF-20", "Corynebacterium glutamicum ATCC 13032"),
            StrainRecord(
                "CF-21",
                "Corynebacterium glutamicum ATCC 13032 dldh",
                parent_accession="CF-20",
                modifications=(Modification("deletion", "ldh"),),
            ),
        ],
        path,
    )
    response = upload(client, "catalogue.csv", path.read_text(encoding="utf-8"), kind="strain")
    assert response.status_code == 201, response.text
    assert response.json()["strains"] == 2
    assert client.get("/api/strains/CF-21").json()["parent_accession"] == "CF-20"


def test_import_rejects_unknown_kind(client: TestClient) -> None:
    body = error(upload(client, "x.fasta", ">x\nACGT\n", kind="virus"), 422)
    assert body["field"] == "kind"


# -- stock and deposits -------------------------------------------------------------------------


def test_read_sample(client: TestClient) -> None:
    sample = client.get("/api/samples/CF-1-G1").json()
    assert sample["owner"] == "CF-1"
    assert sample["vials"] == 4
    assert (sample["site"], sample["freezer"], sample["rack"], sample["box"]) == (
        "Main",
        "F1",
        "R1",
        "B1",
    )
    error(client.get("/api/samples/nope"), 404)


def test_move_sample(client: TestClient) -> None:
    response = client.post(
        "/api/samples/CF-1-G1/move", json={"box": "Main/F1/R1/B1", "position": "H12"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["address"] == "Main/F1/R1/B1/H12"
    history = client.get("/api/samples/CF-1-G1").json()
    assert history["position"] == "H12"


def test_move_sample_to_occupied_position_is_409(client: TestClient) -> None:
    body = error(
        client.post("/api/samples/CF-1-G1/move", json={"box": "Main/F1/R1/B1", "position": "A2"}),
        409,
    )
    assert body["field"] == "position"
    assert "CF-2-G1" in body["detail"]


@pytest.mark.parametrize(
    ("label", "payload", "status", "field"),
    [
        ("nope", {"box": "Main/F1/R1/B1", "position": "B1"}, 404, None),
        ("CF-1-G1", {"box": "Main/F1/R1/B9", "position": "B1"}, 404, None),
        ("CF-1-G1", {"box": "Main/F1/R1/B1", "position": "Z99"}, 422, "position"),
        ("CF-1-G1", {"box": "Main/F1/B1", "position": "B1"}, 422, "box"),
        ("CF-1-G1", {"box": "Main/F1/R1/B1"}, 422, "position"),
    ],
)
def test_move_sample_errors(
    client: TestClient, label: str, payload: dict[str, str], status: int, field: str | None
) -> None:
    body = error(client.post(f"/api/samples/{label}/move", json=payload), status)
    assert body["field"] == field


def test_patent_deposit_keeps_budapest_dates(client: TestClient) -> None:
    response = client.post(
        "/api/strains/CF-3/deposit",
        json={
            "deposit_type": "patent",
            "depositor": "Demo Biotech",
            "deposited_on": "2024-02-29",
            "depositor_statement": "Deposited under the Budapest Treaty.",
            "patent_reference": "CN 2024-1",
        },
    )
    assert response.status_code == 201, response.text
    deposit = response.json()
    assert deposit["keep_until"] == "2054-02-28"
    assert deposit["restricted_release"] is True
    strain = client.get("/api/strains/CF-3").json()
    assert strain["deposit"]["deposit_type"] == "patent"
    assert strain["status"] == "restricted"
    assert client.get("/api/counts").json()["deposits"] == 1
    again = error(
        client.post("/api/strains/CF-3/deposit", json={"deposit_type": "public", "depositor": "x"}),
        409,
    )
    assert again["field"] == "deposit_type"


def test_public_deposit_defaults_to_today(client: TestClient) -> None:
    response = client.post(
        "/api/strains/CF-10/deposit", json={"deposit_type": "public", "depositor": "Lab"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["deposited_on"] == dt.date.today().isoformat()
    assert response.json()["keep_until"] is None


@pytest.mark.parametrize(
    ("accession", "payload", "status", "field"),
    [
        ("CF-1", {"deposit_type": "patent", "depositor": "x"}, 422, "depositor_statement"),
        ("CF-1", {"deposit_type": "vault", "depositor": "x"}, 422, "deposit_type"),
        (
            "CF-1",
            {"deposit_type": "public", "depositor": "x", "deposited_on": "2999-01-01"},
            422,
            "deposited_on",
        ),
        ("CF-404", {"deposit_type": "public", "depositor": "x"}, 404, None),
    ],
)
def test_deposit_errors(
    client: TestClient, accession: str, payload: dict[str, str], status: int, field: str | None
) -> None:
    body = error(client.post(f"/api/strains/{accession}/deposit", json=payload), status)
    assert body["field"] == field


def test_unknown_api_route_is_json_404(client: TestClient) -> None:
    body = error(client.get("/api/nothing-here"), 404)
    assert body["detail"] == "Not Found"


def test_create_app_opens_and_closes_its_own_bank(tmp_path: Path) -> None:
    app = create_app("sqlite:///" + str(tmp_path / "own.db"))
    with TestClient(app) as client:
        assert client.get("/api/counts").json()["strains"] == 0
        assert client.get("/").status_code == 200


def test_unexpected_errors_are_500_without_internals(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(bank, "counts", broken)
    with TestClient(create_app(bank=bank), raise_server_exceptions=False) as client:
        response = client.get("/api/counts")
        assert error(response, 500)["detail"] == "internal server error"
        assert "secret" not in response.text
        page = client.get("/?lang=zh")
        assert page.status_code == 500
        assert "发生意外错误" in page.text
        assert "secret" not in page.text


def test_interactive_swagger_ui_is_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs/try")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    script = client.get("/static/swagger/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text[:2000]
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
