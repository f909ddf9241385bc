"""Input no database can store is refused with a 422 that says where (found by the fuzz run)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(bank: Bank) -> Iterator[TestClient]:
    bank.create_user("cur", "a long enough password", role="curator", actor="t")
    bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12"), actor="t")
    token = bank.issue_token("cur", name="t", actor="t").secret
    with TestClient(create_app(bank=bank), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def refused(response: Any, source: str | None, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field
    if source is not None:
        assert body["source"] == source


@pytest.mark.parametrize("text", ["a\x00b", "\udc00"])
def test_nul_and_lone_surrogates_are_refused_everywhere(client: TestClient, text: str) -> None:
    if "\x00" in text:  # a lone surrogate cannot even be put in a URL
        refused(client.get("/api/strains", params={"taxon": text}), "query", "taxon")
        refused(client.get("/api/strains/CF-%00"), "path", "accession")
    escaped = "a\\u0000b" if "\x00" in text else "\\udc00"  # JSON escapes, as sent
    response = client.patch(
        "/api/strains/CF-1",
        content='{"remarks": "' + escaped + '"}',
        headers={"content-type": "application/json"},
    )
    refused(response, "body", "remarks")


def test_values_that_do_not_fit_their_columns_name_the_field(client: TestClient) -> None:
    refused(client.patch("/api/strains/CF-1", json={"taxon_name": "E" * 256}), None, "taxon_name")
    refused(client.patch("/api/strains/CF-1", json={"ncbi_taxid": 5417865450}), None, "ncbi_taxid")
    refused(client.patch("/api/strains/CF-1", json={"country": None}), "body", "country")
    refused(client.get("/api/strains", params={"risk_group": 2**63}), "query", "risk_group")
    refused(client.get("/api/plasmids", params={"offset": 2**63}), "query", "offset")
    # the strain is unchanged
    assert client.get("/api/strains/CF-1").json()["version"] == 1
