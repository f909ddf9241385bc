"""Design endpoints over HTTP: a design saved as a planned strain, read back, refusals."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"

DESIGN: dict[str, Any] = {
    "format": "cellfoundry.strain-design/1",
    "chassis": "e_coli_core",
    "product": "EX_succ_e",
    "substrate": "EX_glc__D_e",
    "method": "optknock",
    "label": "Δb2297 Δb1380",
    "modifications": [
        {"kind": "delete", "gene": "b2297", "reactions": ["PTAr"]},
        {"kind": "delete", "gene": "b1380", "reactions": ["LDH_D"]},
    ],
    "knockouts": ["PTAr", "LDH_D"],
    "added_reactions": [],
    "evaluation": {"growth": 0.21, "yield_min": 0.1},
    "notes": [],
}


@pytest.fixture
def client(bank: Bank) -> Iterator[TestClient]:
    bank.create_user("ana", PASSWORD, role="member", organisation="Lab A", actor="test")
    bank.import_strains([StrainRecord("CF-1", "Escherichia coli K-12 MG1655")], actor="test")
    with TestClient(create_app(bank=bank)) as client:
        yield client


@pytest.fixture
def ana(bank: Bank, client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {bank.issue_token('ana', name='t', actor='t').secret}"}


def test_save_and_read_a_design(client: TestClient, ana: dict[str, str]) -> None:
    r = client.post(
        "/api/designs", json={"design": DESIGN, "parent_accession": "CF-1"}, headers=ana
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/api/strains/CF-1-D1"
    strain = r.json()
    assert strain["status"] == "planned"
    assert strain["parent_accession"] == "CF-1"
    assert [m["target"] for m in strain["modifications"]] == ["b2297", "b1380"]
    # private by default: the owner sees it, an anonymous caller does not
    r = client.get("/api/strains/CF-1-D1/design", headers=ana)
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "optknock"
    assert body["design"]["knockouts"] == ["PTAr", "LDH_D"]
    assert client.get("/api/strains/CF-1-D1/design").status_code == 404
    # the chassis itself has no design
    assert client.get("/api/strains/CF-1/design", headers=ana).status_code == 404


def test_refusals(client: TestClient, ana: dict[str, str]) -> None:
    body = {"design": DESIGN, "parent_accession": "CF-1"}
    assert client.post("/api/designs", json=body).status_code == 401
    bad = {**body, "design": {**DESIGN, "modifications": [{"kind": "zap", "gene": "b1"}]}}
    r = client.post("/api/designs", json=bad, headers=ana)
    assert r.status_code == 422
    assert "modification 1 has no kind" in r.text
    r = client.post("/api/designs", json={**body, "parent_accession": "CF-404"}, headers=ana)
    assert r.status_code == 404
    ok = client.post("/api/designs", json={**body, "accession": "P-1"}, headers=ana)
    assert ok.status_code == 201
    again = client.post("/api/designs", json={**body, "accession": "P-1"}, headers=ana)
    assert again.status_code == 409
