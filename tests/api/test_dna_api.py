"""DNA endpoints over HTTP on a bank holding the Mycoplasma mycoides genome: guides and
off-targets equal the engine's, the editing plan of a planned strain round-trips through
GenBank and SBOL3, codon optimisation keeps the protein, Golden Gate assembles bank plasmids;
refusals are 422s naming the record and field."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from Bio.Seq import Seq

from cellfoundry.api.app import create_app
from cellfoundry.bank import formats
from cellfoundry.bank.demo import DEMO_DESIGN, level1_acceptor
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.dna import design_guides, find_offtargets, golden_gate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GENBANK = SHARED / "sbol-test-suite" / "GenBank"
GENOME = GENBANK / "genomes" / "20027.gbk"
PASSWORD = "a long enough password"
CHASSIS = "CF-M1"
GENES = ["Ga0076475_116", "Ga0076475_1110"]
LEVEL0 = ["pICH51277", "pICSL80014", "pICH41421"]  # 35S+Omega : YFP : nos terminator

pytestmark = pytest.mark.skipif(not GENOME.exists(), reason="shared genome data is missing")


def plasmid(name: str) -> SequenceRecord:
    record = formats.read(GENBANK / f"{name}.gb", "genbank")[0]
    return dataclasses.replace(record, name=name, topology="circular")


def broken(record: SequenceRecord) -> SequenceRecord:
    """The plasmid with an extra BsaI site inside its insert."""
    seq = record.sequence
    at = seq.find("GGTCTC") + 300
    return dataclasses.replace(record, name="pBROKEN", sequence=seq[:at] + "GGTCTC" + seq[at:])


@pytest.fixture(scope="module")
def genome() -> list[SequenceRecord]:
    return formats.read(GENOME, "genbank")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, genome: list[SequenceRecord]) -> Iterator[Bank]:
    """A bank with the Mycoplasma and its genome, a planned strain and MoClo plasmids."""
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("dna-api") / "bank.db"))
    bank.create_user("ana", PASSWORD, role="curator", organisation="BJCC", actor="t")
    bank.import_strains(
        [StrainRecord(CHASSIS, "Mycoplasma mycoides subsp. mycoides SC PG1")], actor="t"
    )
    bank.import_sequences(genome, kind="genome", strain=CHASSIS, actor="t", source="20027.gbk")
    level0 = [plasmid(n) for n in LEVEL0]
    acceptor = level1_acceptor(level0[2])
    assert acceptor is not None
    bank.import_sequences(
        [*level0, acceptor, broken(level0[1])], kind="plasmid", actor="t", source="test"
    )
    bank.save_design(DEMO_DESIGN, parent_accession=CHASSIS, accession="CF-M1-D1", actor="t")
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def client(bank: Bank) -> Iterator[TestClient]:
    app = create_app(bank=bank)
    with TestClient(app) as client:
        client.headers["Authorization"] = (
            f"Bearer {bank.issue_token('ana', name='t', actor='t').secret}"
        )
        yield client


def json_value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def same_rows(got: list[dict[str, Any]], frame: Any) -> None:
    expected = [{k: json_value(v) for k, v in r.items()} for r in frame.to_dict("records")]
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert set(row) == set(want)
        for key, value in want.items():
            if isinstance(value, float):
                assert row[key] == pytest.approx(value), key
            else:
                assert row[key] == value, key


# -- guides and off-targets ---------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["knockout", "crispri"])
def test_guides_are_the_engines_for_the_same_input(
    client: TestClient, genome: list[SequenceRecord], purpose: str
) -> None:
    body = {"strain": CHASSIS, "genes": GENES, "purpose": purpose, "per_gene": 3}
    response = client.post("/api/dna/guides", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["strain"] == CHASSIS
    assert data["purpose"] == purpose
    frame = design_guides(genome, genes=GENES, purpose=purpose, per_gene=3, max_mismatches=3)
    assert len(frame) >= 2
    same_rows(data["data"], frame)
    assert {r["gene"] for r in data["data"]} == set(GENES)
    seq = genome[0].sequence.upper()
    for row in data["data"]:  # the spacer + PAM is the genome's, on the reported strand
        site = seq[row["position"] : row["position"] + 23]
        if row["strand"] == "-":
            site = str(Seq(site).reverse_complement())
        assert site == row["spacer"] + row["pam"]
        assert len(row["off_targets"].split("-")) == 4


def test_a_planned_strain_uses_its_chassis_genome(client: TestClient) -> None:
    a = client.post("/api/dna/guides", json={"strain": "CF-M1-D1", "genes": GENES[:1]}).json()
    b = client.post("/api/dna/guides", json={"strain": CHASSIS, "genes": GENES[:1]}).json()
    assert a["data"] == b["data"]


def test_guide_refusals_name_the_record_and_field(client: TestClient) -> None:
    r = client.post("/api/dna/guides", json={"strain": CHASSIS, "genes": ["nosuch"]})
    assert r.status_code == 422
    assert r.json()["record"] == "nosuch"
    assert r.json()["field"] == "gene"
    assert "no CDS" in r.json()["detail"]
    r = client.post(
        "/api/dna/guides", json={"strain": CHASSIS, "genes": [f"g{i}" for i in range(201)]}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "genes"
    r = client.post("/api/dna/guides", json={"strain": CHASSIS, "genes": GENES, "purpose": "x"})
    assert r.status_code == 422
    assert r.json()["field"] == "purpose"
    r = client.post("/api/dna/guides", json={"strain": "CF-NONE", "genes": GENES})
    assert r.status_code == 404
    assert r.json()["record"] == "CF-NONE"


def test_offtargets_are_the_engines_and_include_the_own_site(
    client: TestClient, genome: list[SequenceRecord]
) -> None:
    guides = client.post("/api/dna/guides", json={"strain": CHASSIS, "genes": GENES}).json()
    spacers = [row["spacer"] for row in guides["data"][:3]]
    r = client.post(
        "/api/dna/offtargets", json={"strain": CHASSIS, "spacers": spacers, "max_mismatches": 3}
    )
    assert r.status_code == 200, r.text
    hits = r.json()["data"]
    same_rows(hits, find_offtargets(genome, spacers, max_mismatches=3))
    for k, row in enumerate(guides["data"][:3]):
        own = [h for h in hits if h["guide_id"] == str(k) and h["mismatches"] == 0]
        assert [(h["position"], h["strand"]) for h in own] == [(row["position"], row["strand"])]


@pytest.mark.parametrize(
    "spacer", ["ACGT", "ACGTACGTACGTACGTACGN", "ACGTACGTACGTACGTACGTA", "ACGTACGTACGT\x00CGTACGT"]
)
def test_a_bad_spacer_is_a_named_422(client: TestClient, spacer: str) -> None:
    r = client.post("/api/dna/offtargets", json={"strain": CHASSIS, "spacers": [spacer]})
    assert r.status_code == 422
    assert r.json()["field"] in ("spacers", "spacers.0")  # a NUL is refused before parsing


# -- editing plans ------------------------------------------------------------------------------


def test_editing_plan_is_made_kept_and_downloaded(client: TestClient, bank: Bank) -> None:
    url = "/api/strains/CF-M1-D1/editing-plan"
    assert client.get(url).status_code == 404
    anonymous = TestClient(client.app)
    assert anonymous.post(url).status_code == 401
    r = client.post(url)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == url
    made = r.json()
    plan = made["plan"]
    assert made["accession"] == "CF-M1-D1"
    assert made["chassis"] == CHASSIS
    assert plan["format"] == "cellfoundry.editing-plan/1"
    assert {e["kind"] for e in plan["edits"]} == {"delete", "knockdown", "integrate"}
    assert [s["number"] for s in plan["steps"]] == list(range(1, len(plan["steps"]) + 1))
    assert client.get(url).json() == made
    # GenBank and SBOL3 give the plan's records back
    gb = client.get(url + ".gb")
    assert gb.status_code == 200
    assert gb.headers["content-type"].startswith("text/plain")
    assert "CF-M1-D1-editing-plan.gb" in gb.headers["content-disposition"]
    records = formats.parse(gb.text.encode(), "genbank")
    assert [(r.name, len(r)) for r in records] == [
        (r["name"], r["length"]) for r in plan["records"]
    ]
    deletion = next(e for e in plan["edits"] if e["kind"] == "delete")
    donor = next(r for r in records if r.name == deletion["donor"])
    assert donor.sequence == deletion["detail"]["donor_sequence"]
    ttl = client.get(url + ".ttl")
    assert ttl.status_code == 200
    assert ttl.headers["content-type"].startswith("text/turtle")
    from_sbol = formats.parse(ttl.text.encode(), "sbol3")
    assert sorted(len(r) for r in from_sbol) == sorted(r["length"] for r in plan["records"])
    assert bank.editing_plan("CF-M1-D1") is not None


def test_a_strain_without_design_cannot_be_planned(client: TestClient) -> None:
    r = client.post(f"/api/strains/{CHASSIS}/editing-plan")
    assert r.status_code == 422
    assert (r.json()["record"], r.json()["field"]) == (CHASSIS, "design")
    assert client.get(f"/api/strains/{CHASSIS}/editing-plan.gb").status_code == 404


# -- codons -------------------------------------------------------------------------------------


def test_codon_optimisation_keeps_the_protein_and_avoids_sites(client: TestClient) -> None:
    protein = str(DEMO_DESIGN["modifications"][2]["protein"])  # type: ignore[index]
    r = client.post("/api/dna/codon", json={"protein": protein, "host": "e_coli"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert str(Seq(data["sequence"]).translate(table=11)).rstrip("*") == protein
    assert data["protein"].rstrip("*") == protein
    assert "GGTCTC" not in data["sequence"]
    assert "GAGACC" not in data["sequence"]
    assert 0.3 <= data["gc"] <= 0.65
    assert data["cai_before"] is None
    assert 0 < data["cai_after"] <= 1
    assert any("BsaI" in c["name"] for c in data["constraints"])
    again = client.post("/api/dna/codon", json={"cds": data["sequence"], "host": "b_subtilis"})
    assert again.status_code == 200
    assert again.json()["cai_before"] is not None


def test_codon_refusals(client: TestClient) -> None:
    r = client.post("/api/dna/codon", json={"protein": "MK", "cds": "ATGAAA"})
    assert (r.status_code, r.json()["field"]) == (422, "protein")
    r = client.post("/api/dna/codon", json={"protein": "MKZ1"})
    assert r.status_code == 422
    r = client.post("/api/dna/codon", json={"protein": "MKK", "host": "mars"})
    assert (r.status_code, r.json()["field"]) == (422, "host")


# -- Golden Gate --------------------------------------------------------------------------------


def test_golden_gate_assembles_bank_plasmids_like_the_engine(
    client: TestClient, bank: Bank
) -> None:
    body = {"parts": LEVEL0[::-1], "backbone": "pL1-acceptor-demo", "name": "pYFP"}
    r = client.post("/api/dna/golden-gate", json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    records = [bank.get_sequence("plasmid", n) for n in LEVEL0[::-1]]
    expected = golden_gate(records, bank.get_sequence("plasmid", "pL1-acceptor-demo"), name="pYFP")
    assert data["order"] == ["pL1-acceptor-demo", *LEVEL0] == list(expected.order)
    assert data["overhangs"] == ["GGAG", "AATG", "GCTT", "CGCT"]
    assert data["fidelity"] == pytest.approx(expected.fidelity)
    assert data["product"]["length"] == len(expected.product)
    assert {o["overhang"] for o in data["overhang_fidelities"]} >= set(data["overhangs"])
    product = formats.parse(data["product"]["genbank"].encode(), "genbank")[0]
    assert product.sequence == expected.product.sequence
    assert product.topology == "circular"
    assert set(LEVEL0) <= {f.label for f in product.features}


def test_golden_gate_refusals_name_the_part(client: TestClient) -> None:
    r = client.post(
        "/api/dna/golden-gate",
        json={"parts": ["pICH51277", "pBROKEN", "pICH41421"], "backbone": "pL1-acceptor-demo"},
    )
    assert r.status_code == 422
    assert (r.json()["record"], r.json()["field"]) == ("pBROKEN", "sequence")
    assert "internal site" in r.json()["detail"]
    r = client.post(
        "/api/dna/golden-gate",
        json={"parts": [*LEVEL0, "pBROKEN"], "backbone": "pL1-acceptor-demo"},
    )
    assert r.status_code == 422
    r = client.post("/api/dna/golden-gate", json={"parts": ["pNOSUCH"]})
    assert (r.status_code, r.json()["record"], r.json()["field"]) == (422, "pNOSUCH", "parts")
    r = client.post("/api/dna/golden-gate", json={"parts": LEVEL0, "enzyme": "EcoRI"})
    assert (r.status_code, r.json()["field"]) == (422, "enzyme")


def test_the_openapi_document_describes_the_dna_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/dna/guides",
        "/api/dna/offtargets",
        "/api/dna/codon",
        "/api/dna/golden-gate",
        "/api/strains/{accession}/editing-plan",
        "/api/strains/{accession}/editing-plan.gb",
        "/api/strains/{accession}/editing-plan.ttl",
    ):
        assert path in paths, path
        for op in paths[path].values():
            assert op["tags"] == ["dna"]
            assert op.get("description") or op.get("summary")
    schemas = spec["components"]["schemas"]
    genes = schemas["GuidesRequest"]["properties"]["genes"]
    assert genes["maxItems"] == 200
    assert "description" in genes
    assert "description" in schemas["GuideRow"]["properties"]["cfd_specificity"]
