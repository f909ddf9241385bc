"""The model and job endpoints over HTTP, on SQLite and PostgreSQL: upload, show, run, follow,
cancel, the strain's model, refusals with their status and error bodies."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.api.schemas_models import JobStatusName
from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import JOB_STATUSES
from cellfoundry.metabolism import fva

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CORE_OPTIMUM = 0.8739215069684306
PASSWORD = "a long enough password"
USERS = {"cura": ("curator", None), "ana": ("member", "Lab A"), "bo": ("member", "Lab B")}
USERS["gus"] = ("guest", None)


@pytest.fixture(scope="module")
def core_sbml(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import cobra.io

    path = tmp_path_factory.mktemp("sbml") / "core.xml"
    cobra.io.write_sbml_model(cobra.io.load_json_model(str(DEMO_MODEL)), str(path))
    return path.read_bytes()


@pytest.fixture
def client(bank: Bank) -> Iterator[TestClient]:
    for name, (role, organisation) in USERS.items():
        bank.create_user(name, PASSWORD, role=role, organisation=organisation, actor="test")
    bank.import_strains([StrainRecord("CF-1", "Escherichia coli K-12 MG1655")], actor="test")
    with TestClient(create_app(bank=bank)) as client:
        yield client


@pytest.fixture
def auth(bank: Bank, client: TestClient) -> dict[str, dict[str, str]]:
    return {
        name: {"Authorization": f"Bearer {bank.issue_token(name, name='t', actor='t').secret}"}
        for name in USERS
    }


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "source", "record", "field"}
    return body  # type: ignore[no-any-return]


def upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    filename: str = "e_coli_core.json",
    **form: str,
) -> Any:
    return client.post(
        "/api/models", files={"file": (filename, content)}, data=form, headers=headers
    )


def follow(client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ok(client.get(f"/api/jobs/{job_id}", headers=headers))
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_upload_show_and_list(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    core = DEMO_MODEL.read_bytes()
    # a member may not link a model to the platform's strain
    error(upload(client, auth["ana"], core, strain="CF-1"), 403)
    model = ok(upload(client, auth["cura"], core, name="E. coli core", strain="CF-1"), 201)
    assert (model["name"], model["format"], model["owner"]) == ("E. coli core", "json", "cura")
    assert (model["reactions"], model["metabolites"], model["genes"]) == (95, 72, 137)
    assert model["strains"] == ["CF-1"]
    assert model["created_at"].endswith(("Z", "+00:00"))
    listing = ok(client.get("/api/models"))
    assert listing["count"] == 1
    assert listing["data"][0]["id"] == model["id"]
    shown = ok(client.get(f"/api/models/{model['id']}"))
    assert shown["objective"] == "max Biomass_Ecoli_core"
    assert shown["model_id"] == "e_coli_core"
    assert shown["medium"]["EX_glc__D_e"] == 10.0
    assert "EX_o2_e" in shown["exchanges"]
    assert shown["reaction_list"] is None
    full = ok(client.get(f"/api/models/{model['id']}", params={"reactions": 1}))
    pfk = next(r for r in full["reaction_list"] if r["id"] == "PFK")
    assert (pfk["lower_bound"], pfk["upper_bound"]) == (0.0, 1000.0)
    assert pfk["gene_reaction_rule"] == "b3916 or b1723"
    assert ok(client.get("/api/strains/CF-1/model"))["id"] == model["id"]


def test_bad_uploads_are_422_naming_file_and_reaction(
    client: TestClient, auth: dict[str, dict[str, str]], core_sbml: bytes
) -> None:
    core = DEMO_MODEL.read_bytes()
    data = json.loads(core)
    next(r for r in data["reactions"] if r["id"] == "PGI")["gene_reaction_rule"] = (
        "(b0001 and b0002"
    )
    body = error(upload(client, auth["ana"], json.dumps(data).encode(), "broken_rule.json"), 422)
    assert (body["source"], body["record"], body["field"]) == (
        "broken_rule.json",
        "PGI",
        "gene_reaction_rule",
    )
    assert "broken_rule.json" in body["detail"]
    assert "PGI" in body["detail"]

    text = core_sbml
    body = error(upload(client, auth["ana"], text[: len(text) // 3], "truncated.xml"), 422)
    assert body["source"] == "truncated.xml"
    assert "SBML does not parse" in body["detail"]
    assert str(body["record"]).startswith("line ")

    body = error(upload(client, auth["ana"], b"hello", "notes.txt"), 422)
    assert (body["source"], body["field"]) == ("notes.txt", "filename")
    assert ok(client.get("/api/models", headers=auth["cura"]))["count"] == 0


def test_run_fba_and_fva_jobs(
    bank: Bank, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    model = ok(upload(client, auth["ana"], DEMO_MODEL.read_bytes()), 201)
    response = client.post(
        f"/api/models/{model['id']}/jobs", json={"kind": "fba"}, headers=auth["ana"]
    )
    job = ok(response, 202)
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["status"] in ("queued", "running", "done")
    assert (job["kind"], job["model_id"], job["owner"]) == ("fba", model["id"], "ana")
    done = follow(client, auth["ana"], job["id"])
    assert done["status"] == "done", done["error"]
    assert done["result"]["objective_value"] == pytest.approx(CORE_OPTIMUM, abs=1e-6)
    assert done["done"] == done["total"] == 1
    assert (
        ok(client.get(f"/api/jobs/{job['id']}", params={"result": 0}, headers=auth["ana"]))[
            "result"
        ]
        is None
    )

    job = ok(
        client.post(
            f"/api/models/{model['id']}/jobs",
            json={"kind": "fva", "params": {"reaction_list": ["PFK", "PGI", "EX_o2_e"]}},
            headers=auth["ana"],
        ),
        202,
    )
    done = follow(client, auth["ana"], job["id"])
    assert done["status"] == "done", done["error"]
    expected = fva(bank.model_spec(model["id"]), reaction_list=["PFK", "PGI", "EX_o2_e"])
    for column in ("minimum", "maximum"):
        assert done["result"][column] == pytest.approx(expected[column].to_dict(), abs=1e-9)
    assert done["params"] == {"model_id": model["id"], "reaction_list": ["PFK", "PGI", "EX_o2_e"]}

    jobs = ok(client.get("/api/jobs", headers=auth["ana"]))
    assert jobs["count"] == 2
    assert [j["kind"] for j in jobs["data"]] == ["fva", "fba"]
    assert all(j["result"] is None for j in jobs["data"])
    assert ok(client.get(f"/api/models/{model['id']}/jobs", headers=auth["cura"]))["count"] == 2
    assert ok(client.get("/api/jobs", headers=auth["bo"]))["count"] == 0


def test_a_failed_job_carries_the_engine_message(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    model = ok(upload(client, auth["ana"], DEMO_MODEL.read_bytes()), 201)
    job = ok(
        client.post(
            f"/api/models/{model['id']}/jobs",
            json={"kind": "single_gene_deletion", "params": {"gene_list": ["b9999"]}},
            headers=auth["ana"],
        ),
        202,
    )
    done = follow(client, auth["ana"], job["id"])
    assert done["status"] == "failed"
    assert "has no gene 'b9999'" in done["error"]
    assert done["result"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"kind": "fba", "params": {"fraction_of_optimum": 0.5}}, "fraction_of_optimum"),
        ({"kind": "pfba", "params": {"fraction_of_optimum": 2}}, "fraction_of_optimum"),
        ({"kind": "fba", "params": {"medium": {"EX_glc__D_e": "lots"}}}, "EX_glc__D_e"),
        ({"kind": "fva", "params": {"reaction_list": "PFK"}}, "reaction_list"),
        ({"kind": "fba", "extra": 1}, "extra"),
        ({"params": {}}, "kind"),
    ],
)
def test_bad_job_requests_are_422(
    client: TestClient, auth: dict[str, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    model = ok(upload(client, auth["ana"], DEMO_MODEL.read_bytes()), 201)
    answer = error(
        client.post(f"/api/models/{model['id']}/jobs", json=body, headers=auth["ana"]), 422
    )
    assert answer["field"] == field
    assert ok(client.get("/api/jobs", headers=auth["ana"]))["count"] == 0


def test_cancel_over_http(
    client: TestClient, auth: dict[str, dict[str, str]], shared_data: Path
) -> None:
    big = (shared_data / "models" / "iML1515.json").read_bytes()
    model = ok(upload(client, auth["ana"], big, "iML1515.json"), 201)
    assert model["genes"] == 1516
    job = ok(
        client.post(
            f"/api/models/{model['id']}/jobs",
            json={"kind": "double_gene_deletion"},
            headers=auth["ana"],
        ),
        202,
    )
    # bo cannot see it, so cannot cancel it
    error(client.post(f"/api/jobs/{job['id']}/cancel", headers=auth["bo"]), 404)
    cancelled = ok(client.post(f"/api/jobs/{job['id']}/cancel", headers=auth["ana"]))
    assert cancelled["status"] == "cancelled"
    time.sleep(0.5)
    assert ok(client.get(f"/api/jobs/{job['id']}", headers=auth["cura"]))["status"] == "cancelled"
    fba = ok(
        client.post(f"/api/models/{model['id']}/jobs", json={"kind": "fba"}, headers=auth["ana"]),
        202,
    )
    assert follow(client, auth["ana"], fba["id"])["status"] == "done"
    body = error(client.post(f"/api/jobs/{fba['id']}/cancel", headers=auth["ana"]), 409)
    assert body["field"] == "status"


def test_who_may_do_what(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    core = DEMO_MODEL.read_bytes()
    error(upload(client, {}, core), 401)
    error(upload(client, auth["gus"], core), 403)
    private = ok(upload(client, auth["ana"], core, visibility="private"), 201)
    assert private["visibility"] == "private"
    error(client.get(f"/api/models/{private['id']}"), 404)
    error(client.get(f"/api/models/{private['id']}", headers=auth["bo"]), 404)
    ok(client.get(f"/api/models/{private['id']}", headers=auth["cura"]))
    assert ok(client.get("/api/models", headers=auth["bo"]))["count"] == 0
    error(client.post(f"/api/models/{private['id']}/jobs", json={"kind": "fba"}), 401)
    body = error(
        client.post(f"/api/models/{private['id']}/jobs", json={"kind": "fba"}, headers=auth["bo"]),
        404,
    )
    assert body["record"] == str(private["id"])
    # guests may not start jobs at all (whatever the model)
    error(
        client.post(f"/api/models/{private['id']}/jobs", json={"kind": "fba"}, headers=auth["gus"]),
        403,
    )
    job = ok(
        client.post(f"/api/models/{private['id']}/jobs", json={"kind": "fba"}, headers=auth["ana"]),
        202,
    )
    error(client.get(f"/api/jobs/{job['id']}"), 401)
    error(client.get(f"/api/jobs/{job['id']}", headers=auth["bo"]), 404)
    error(client.get("/api/jobs/no-such-job", headers=auth["ana"]), 404)
    error(client.get("/api/models/0"), 422)


def test_the_strains_model(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    body = error(client.get("/api/strains/CF-1/model"), 404)
    assert body["record"] == "CF-1"
    error(client.get("/api/strains/CF-NONE/model"), 404)
    model = ok(upload(client, auth["ana"], DEMO_MODEL.read_bytes()), 201)
    # the strain is the platform's: a member may not relink it, a curator may
    link = {"model_id": model["id"]}
    error(client.put("/api/strains/CF-1/model", json=link), 401)
    error(client.put("/api/strains/CF-1/model", json=link, headers=auth["ana"]), 403)
    linked = ok(client.put("/api/strains/CF-1/model", json=link, headers=auth["cura"]))
    assert linked["accession"] == "CF-1"
    assert linked["model"]["id"] == model["id"]
    assert ok(client.get("/api/strains/CF-1/model"))["strains"] == ["CF-1"]
    unlinked = ok(
        client.put("/api/strains/CF-1/model", json={"model_id": None}, headers=auth["cura"])
    )
    assert unlinked["model"] is None
    error(client.get("/api/strains/CF-1/model"), 404)


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = ok(client.get("/openapi.json"))["paths"]
    for path in (
        "/api/models",
        "/api/models/{model_id}",
        "/api/models/{model_id}/jobs",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/cancel",
        "/api/strains/{accession}/model",
    ):
        assert path in paths
    assert get_args(JobStatusName) == JOB_STATUSES
