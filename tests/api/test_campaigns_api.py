"""DBTL campaign endpoints over HTTP: a campaign on the demo chassis, a first cycle drawn by
Latin-hypercube sampling with its worklists, simulated measurements, recommendations and a
second cycle built from them; the stored record equals what the API returned. Refusals are
named errors: 401 anonymous writes, 404 unknown campaigns and cycles, 409 a taken name, 422 a
bad design, a foreign strain in measurements (nothing stored) or too few measured strains."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.testing.dbtl import DBTLSimulator, pathway_space

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
CHASSIS = "CF-00001"
SPACE = pathway_space(4, rbs=False, knockout=True)
SIMULATOR = DBTLSimulator(space=SPACE, noise_cv=0.1)
BACKBONE = {"name": "pL1-acceptor", "length_bp": 4900, "stock_ng_per_ul": 30.0}
PARTS = {
    f.name: {
        level: {"name": f"{level}-{f.name[-2:]}", "length_bp": 3200 + 40 * k,
                "stock_ng_per_ul": 18.0 + 2 * k}
        for k, level in enumerate(f.levels)
    }
    for f in SPACE.factors
    if f.name.startswith("promoter")
}  # fmt: skip
DESIGN_SPACE = {
    "factors": {f.name: list(f.levels) for f in SPACE.factors},
    "strengths": {
        f.name: dict(zip(f.levels, f.strengths, strict=True))
        for f in SPACE.factors
        if f.strengths is not None
    },
}


@pytest.fixture
def bank(tmp_path: Any) -> Iterator[Bank]:
    bank = Bank.open(f"sqlite:///{tmp_path / 'bank.db'}")
    bank.create_user("ana", PASSWORD, role="curator", organisation="BJCC", actor="t")
    bank.import_strains(demo_strains()[:1], actor="demo")
    yield bank
    bank.close()


@pytest.fixture
def clients(bank: Bank) -> Iterator[tuple[TestClient, TestClient]]:
    app = create_app(bank=bank)
    with TestClient(app) as signed, TestClient(app) as anonymous:
        signed.headers["Authorization"] = (
            f"Bearer {bank.issue_token('ana', name='t', actor='t').secret}"
        )
        yield signed, anonymous


def start(client: TestClient, name: str = "pw1") -> dict[str, Any]:
    r = client.post(
        "/api/campaigns",
        json={"name": name, "chassis": CHASSIS, "goal": {"product": "product", "titre_g_l": 1.0},
              "design_space": DESIGN_SPACE},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def measured_rows(cycle: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for s in cycle["strains"]:
        titres = SIMULATOR.measure([s["design"]] * 3, rng)
        rows.append(
            {"strain": s["accession"], "titre_g_l": float(np.mean(titres)),
             "titre_g_l_sd": float(np.std(titres, ddof=1)), "replicates": 3}
        )  # fmt: skip
    return rows


def test_a_campaign_runs_through_the_api(clients: tuple[TestClient, TestClient]) -> None:
    client, anonymous = clients
    rng = np.random.default_rng(11)
    created = start(client)
    assert created["chassis"] == CHASSIS
    assert created["cycles"] == []
    assert created["design_space"]["factors"] == DESIGN_SPACE["factors"]
    listed = client.get("/api/campaigns").json()["data"]
    assert [c["name"] for c in listed] == ["pw1"]

    r = client.post(
        "/api/campaigns/pw1/cycles",
        json={"first": 8, "seed": 3, "parts": PARTS, "backbone": BACKBONE},
    )
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/api/campaigns/pw1/cycles/1"
    cycle = r.json()
    assert cycle["number"] == 1
    assert [s["accession"] for s in cycle["strains"]] == [f"pw1-C1-{k:03d}" for k in range(1, 9)]
    assert cycle["worklists"]["reactions"] == 8
    for s in cycle["strains"]:
        assert set(s["design"]) == set(DESIGN_SPACE["factors"])
        assert s["measurements"] == {}

    # worklists download as files, with the text the cycle keeps
    for kind, media in (("opentrons.py", "text/x-python"), ("tecan.gwl", "text/plain"),
                        ("echo.csv", "text/csv")):  # fmt: skip
        w = client.get(f"/api/campaigns/pw1/cycles/1/worklists/{kind}")
        assert w.status_code == 200
        assert w.headers["content-type"].startswith(media)
        assert f'filename="pw1-cycle1-{kind}"' in w.headers["content-disposition"]
        assert w.text == cycle["worklists"][kind]
    assert client.get("/api/campaigns/pw1/cycles/1/worklists/x.txt").status_code == 422
    assert client.get("/api/campaigns/pw1/cycles/9/worklists/echo.csv").status_code == 404

    rows = measured_rows(cycle, rng)
    r = client.post("/api/campaigns/pw1/cycles/1/measurements", json={"rows": rows})
    assert r.status_code == 200, r.text
    stored = {s["accession"]: s["measurements"] for s in r.json()["strains"]}
    for row in rows:
        assert stored[row["strain"]]["titre_g_l"] == pytest.approx(row["titre_g_l"])
        assert stored[row["strain"]]["replicates"] == 3

    r = client.post("/api/campaigns/pw1/recommendations", json={"n": 5, "seed": 1})
    assert r.status_code == 200, r.text
    learned = r.json()
    assert learned["number"] == 1
    assert len(learned["recommendations"]) == 5
    assert learned["model"]["trained_on"] == 8
    assert {i["factor"] for i in learned["model"]["importance"]} == set(DESIGN_SPACE["factors"])
    for rec in learned["recommendations"]:
        assert {"predicted", "sd", "score"} <= set(rec)
        assert rec["sd"] >= 0

    # the recommendations become the next cycle's designs
    designs = [{f: rec[f] for f in DESIGN_SPACE["factors"]} for rec in learned["recommendations"]]
    r = client.post(
        "/api/campaigns/pw1/cycles", json={"designs": designs, "parts": PARTS, "backbone": BACKBONE}
    )
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 2
    assert [s["design"] for s in r.json()["strains"]] == designs

    # the record read back is what the writes returned
    whole = client.get("/api/campaigns/pw1").json()
    assert [c["number"] for c in whole["cycles"]] == [1, 2]
    assert whole["cycles"][0]["recommendations"] == learned["recommendations"]
    assert client.get("/api/campaigns/pw1/cycles/2").json() == whole["cycles"][1]
    # private strains: an anonymous reader sees the campaign but not its strains
    seen = anonymous.get("/api/campaigns/pw1").json()
    assert seen["name"] == "pw1"
    assert all(c["strains"] == [] for c in seen["cycles"])


def test_refusals_are_named(clients: tuple[TestClient, TestClient], bank: Bank) -> None:
    client, anonymous = clients
    body = {"name": "pw2", "chassis": CHASSIS, "goal": {"product": "p"},
            "design_space": DESIGN_SPACE}  # fmt: skip
    r = anonymous.post("/api/campaigns", json=body)
    assert r.status_code == 401
    start(client, "pw2")
    r = client.post("/api/campaigns", json=body)
    assert r.status_code == 409
    assert r.json()["field"] == "name"
    r = client.post("/api/campaigns", json={**body, "name": "pw3", "chassis": "CF-NOPE"})
    assert r.status_code == 404
    r = client.post("/api/campaigns", json={**body, "name": "pw3", "design_space": {}})
    assert (r.status_code, r.json()["field"]) == (422, "design_space.factors")
    assert client.get("/api/campaigns/nope").status_code == 404

    # neither designs nor first; a level the space does not have
    r = client.post("/api/campaigns/pw2/cycles", json={"parts": PARTS, "backbone": BACKBONE})
    assert (r.status_code, r.json()["field"]) == (422, "designs")
    factor = next(iter(DESIGN_SPACE["factors"]))
    bad = {f: levels[0] for f, levels in DESIGN_SPACE["factors"].items()} | {factor: "nope"}
    r = client.post(
        "/api/campaigns/pw2/cycles", json={"designs": [bad], "parts": PARTS, "backbone": BACKBONE}
    )
    assert r.status_code == 422
    assert (r.json()["record"], r.json()["field"]) == ("1", f"designs.{factor}")
    assert bank.campaign("pw2").cycles == ()
    r = anonymous.post(
        "/api/campaigns/pw2/cycles", json={"first": 4, "parts": PARTS, "backbone": BACKBONE}
    )
    assert r.status_code == 401

    r = client.post(
        "/api/campaigns/pw2/cycles",
        json={"first": 4, "seed": 5, "parts": PARTS, "backbone": BACKBONE},
    )
    assert r.status_code == 201
    rows = [{"strain": s["accession"], "titre_g_l": 1.0} for s in r.json()["strains"]]
    rows.append({"strain": "pw9-C1-001", "titre_g_l": 2.0})
    r = client.post(
        "/api/campaigns/pw2/cycles/1/measurements", json={"rows": rows, "source": "plate7.csv"}
    )
    assert r.status_code == 422
    assert {k: r.json()[k] for k in ("source", "record", "field")} == {
        "source": "plate7.csv", "record": "5", "field": "strain"
    }  # fmt: skip
    assert all(not s.measurements for s in bank.campaign("pw2").cycles[0].strains)
    r = client.post("/api/campaigns/pw2/cycles/3/measurements", json={"rows": rows[:1]})
    assert r.status_code == 404

    r = client.post("/api/campaigns/pw2/recommendations", json={"n": 4})
    assert r.status_code == 422
    assert "at least 4" in r.json()["detail"]
    r = client.post("/api/campaigns/pw2/recommendations", json={"n": 4, "acquisition": "best"})
    assert (r.status_code, r.json()["field"]) == (422, "acquisition")
    assert anonymous.post("/api/campaigns/pw2/recommendations", json={}).status_code == 401


def test_campaign_endpoints_are_in_the_openapi_document(
    clients: tuple[TestClient, TestClient],
) -> None:
    doc = clients[0].get("/openapi.json").json()
    for path in (
        "/api/campaigns",
        "/api/campaigns/{name}",
        "/api/campaigns/{name}/cycles",
        "/api/campaigns/{name}/cycles/{number}/worklists/{kind}",
        "/api/campaigns/{name}/cycles/{number}/measurements",
        "/api/campaigns/{name}/recommendations",
    ):
        assert path in doc["paths"], path
    assert doc["components"]["schemas"]["CycleCreate"]["properties"]["first"]["description"]
