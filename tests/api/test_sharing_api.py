"""The sharing endpoints over HTTP: requests, fees, releases, inbox, visibility, audit, tokens.

One bank with a curator, a depositor, two members in different organisations
and a guest, each calling with an API token of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.api.schemas_sharing import GrantBasis, Licence
from cellfoundry.bank._requests import LICENCES
from cellfoundry.bank._sharing import GRANT_BASES
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import SequenceRecord

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
USERS = {
    "cura": ("curator", None),
    "depo": ("depositor", "Depositor Ltd"),
    "ana": ("member", "Lab A"),
    "bo": ("member", "Lab B"),
    "gus": ("guest", None),
}
PATENT = {
    "deposit_type": "patent",
    "depositor": "Depositor Ltd, 1 Harbour Road, Shanghai",
    "deposited_on": "2024-03-01",
    "depositor_statement": "We deposit this strain under the Budapest Treaty.",
    "patent_reference": "CN 2024-0001",
    "owner": "depo",
}


def random_dna(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


def populate(bank: Bank) -> None:
    """Accounts, two strains with samples, a viability test and a private plasmid of bo."""
    for name, (role, organisation) in USERS.items():
        bank.create_user(name, PASSWORD, role=role, organisation=organisation, actor="test")
    bank.import_strains(
        [
            StrainRecord("CF-1", "Escherichia coli K-12 MG1655"),
            StrainRecord("CF-P", "Bacillus subtilis 168 patent strain"),
        ],
        actor="test",
    )
    box = bank.add_box("Main", "F1", "R1", "B1", rows=8, columns=12)
    bank.add_sample(
        "CF-1-G1", box=box, position="A1", preservation="glycerol -80 °C", vials=5, strain="CF-1",
        actor="test",
    )  # fmt: skip
    bank.add_sample(
        "CF-P-G1", box=box, position="A2", preservation="glycerol -80 °C", vials=3, strain="CF-P",
        actor="test",
    )  # fmt: skip
    bank.record_viability(
        "CF-P-G1", viable=True, tested_on=dt.date(2024, 3, 2), cfu_per_ml=2e9, actor="test"
    )
    bo = bank.as_viewer(bank.viewer_for("bo"))
    plasmid = SequenceRecord(name="pBo1", sequence=random_dna(900, 7), topology="circular")
    bo.import_sequences([plasmid], kind="plasmid", actor="bo", visibility="private")


@pytest.fixture(scope="module")
def template_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The populated bank, built once (password hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("sharing") / "bank.db"
    shutil.copyfile(sqlite_template, path)
    bank = Bank.open(f"sqlite:///{path}")
    populate(bank)
    bank.close()
    return path


@pytest.fixture
def shared_bank(template_db: Path, tmp_path: Path) -> Iterator[Bank]:
    path = tmp_path / "bank.db"
    shutil.copyfile(template_db, path)
    bank = Bank.open(f"sqlite:///{path}", migrate=False)
    yield bank
    bank.close()


@pytest.fixture
def tokens(shared_bank: Bank) -> dict[str, str]:
    return {
        name: str(shared_bank.issue_token(name, name="tests", actor="test").secret)
        for name in USERS
    }


@pytest.fixture
def client(shared_bank: Bank) -> Iterator[TestClient]:
    """An anonymous client; pass ``headers=auth[name]`` to call as someone."""
    with TestClient(create_app(bank=shared_bank)) as client:
        yield client


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "source", "record", "field"}
    assert body["detail"]
    return body  # type: ignore[no-any-return]


def unauthorised(response: Any) -> None:
    error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def file_request(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    return ok(client.post("/api/requests", json=body, headers=headers), 201)  # type: ignore[no-any-return]


# -- who am I and tokens ------------------------------------------------------------------------


def test_me_names_the_caller(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    anonymous = ok(client.get("/api/me"))
    assert anonymous == {
        "username": "anonymous",
        "display_name": "",
        "role": "anonymous",
        "organisation": None,
        "signed_in": False,
        "unread": 0,
    }
    ana = ok(client.get("/api/me", headers=auth["ana"]))
    assert (ana["username"], ana["role"], ana["organisation"]) == ("ana", "member", "Lab A")
    assert ana["signed_in"] is True
    assert ana["unread"] == 0
    assert ok(client.get("/api/me", headers=auth["cura"]))["role"] == "curator"


def test_revoked_or_unknown_token_is_401(client: TestClient, shared_bank: Bank) -> None:
    token = shared_bank.issue_token("ana", name="laptop", actor="test")
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert ok(client.get("/api/me", headers=headers))["username"] == "ana"
    shared_bank.revoke_token(token.id, actor="test")
    unauthorised(client.get("/api/me", headers=headers))
    unauthorised(client.get("/api/requests", headers=headers))
    unauthorised(client.get("/api/me", headers={"Authorization": "Bearer cf_nonsense"}))


def test_anonymous_callers_must_sign_in(client: TestClient) -> None:
    unauthorised(client.get("/api/requests"))
    unauthorised(client.post("/api/requests", json={"strain": "CF-1"}))
    unauthorised(client.get("/api/inbox"))
    unauthorised(client.get("/api/fees"))
    unauthorised(client.get("/api/audit"))
    unauthorised(client.get("/api/audit/verify"))
    unauthorised(client.get("/api/strains/CF-1/releases"))
    unauthorised(client.put("/api/strains/CF-1/visibility", json={"visibility": "private"}))


# -- requests -----------------------------------------------------------------------------------


def test_request_decision_and_shipment(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    filed = file_request(client, auth["ana"], strain="CF-1", vials=2, purpose="growth curves")
    rid = filed["id"]
    assert (filed["status"], filed["requester"], filed["organisation"]) == (
        "pending",
        "ana",
        "Lab A",
    )
    assert (filed["item"], filed["kind"], filed["vials"]) == ("CF-1", "strain", 2)
    assert filed["sample_available"] is True
    assert filed["requested_at"].endswith("Z") or filed["requested_at"].endswith("+00:00")
    assert [r["id"] for r in ok(client.get("/api/requests", headers=auth["ana"]))["data"]] == [rid]

    # a member cannot decide, not even their own request
    error(
        client.post(f"/api/requests/{rid}/decision", json={"approve": False}, headers=auth["ana"]),
        403,
    )
    # a commercial licence needs a fee
    no_fee = {"approve": True, "licence": "commercial licence", "fee_cents": 0}
    body = error(
        client.post(f"/api/requests/{rid}/decision", json=no_fee, headers=auth["cura"]), 422
    )
    assert body["field"] == "fee_cents"
    decision = {
        "approve": True,
        "licence": "commercial licence",
        "fee_cents": 120000,
        "currency": "CNY",
        "note": "invoice follows",
    }
    approved = ok(client.post(f"/api/requests/{rid}/decision", json=decision, headers=auth["cura"]))
    assert (approved["status"], approved["licence"], approved["fee_cents"]) == (
        "approved",
        "commercial licence",
        120000,
    )
    assert approved["decided_by"] == "cura"
    error(client.post(f"/api/requests/{rid}/decision", json=decision, headers=auth["cura"]), 409)

    inbox = ok(client.get("/api/inbox", headers=auth["ana"]))
    assert inbox["unread"] == 1
    assert inbox["data"][0]["kind"] == "request"
    assert inbox["data"][0]["details"]["status"] == "approved"
    assert inbox["data"][0]["read"] is False

    # only a curator ships
    ship = {"sample": "CF-1-G1"}
    error(client.post(f"/api/requests/{rid}/shipment", json=ship, headers=auth["ana"]), 403)
    before = ok(client.get("/api/samples/CF-1-G1", headers=auth["cura"]))["vials"]
    shipped = ok(client.post(f"/api/requests/{rid}/shipment", json=ship, headers=auth["cura"]))
    assert shipped["status"] == "shipped"
    assert shipped["shipped_at"] is not None
    assert ok(client.get("/api/samples/CF-1-G1", headers=auth["cura"]))["vials"] == before - 2
    error(client.post(f"/api/requests/{rid}/shipment", json=ship, headers=auth["cura"]), 409)

    inbox = ok(client.get("/api/inbox?unread=true", headers=auth["ana"]))
    assert [n["details"]["status"] for n in inbox["data"]] == ["shipped", "approved"]
    assert ok(client.get("/api/me", headers=auth["ana"]))["unread"] == 2
    marked = ok(
        client.post("/api/inbox/read", json={"ids": [inbox["data"][0]["id"]]}, headers=auth["ana"])
    )
    assert marked == {"marked": 1, "unread": 1}
    assert ok(client.post("/api/inbox/read", headers=auth["ana"])) == {"marked": 1, "unread": 0}
    assert ok(client.get("/api/inbox?unread=true", headers=auth["ana"]))["data"] == []
    assert len(ok(client.get("/api/inbox", headers=auth["ana"]))["data"]) == 2
    assert ok(client.get("/api/requests?status=shipped", headers=auth["cura"]))["count"] == 1
    assert ok(client.get("/api/requests?status=pending", headers=auth["cura"]))["count"] == 0


def test_other_members_request_is_not_found(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    rid = file_request(client, auth["ana"], strain="CF-1")["id"]
    missing = rid + 1000
    hidden = error(client.get(f"/api/requests/{rid}", headers=auth["bo"]), 404)
    absent = error(client.get(f"/api/requests/{missing}", headers=auth["bo"]), 404)
    # the same answer as for a request that does not exist, but for the number
    assert hidden["detail"].replace(str(rid), "#") == absent["detail"].replace(str(missing), "#")
    assert {k: v for k, v in hidden.items() if k != "detail" and k != "record"} == {
        k: v for k, v in absent.items() if k != "detail" and k != "record"
    }
    assert (hidden["record"], absent["record"]) == (str(rid), str(missing))
    assert ok(client.get("/api/requests", headers=auth["bo"])) == {"data": [], "count": 0}
    error(
        client.post(f"/api/requests/{rid}/decision", json={"approve": False}, headers=auth["bo"]),
        404,
    )
    assert ok(client.get(f"/api/requests/{rid}", headers=auth["cura"]))["requester"] == "ana"


def test_request_input_is_checked(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    ana = auth["ana"]
    for body in (
        {"strain": "CF-1", "vials": 0},
        {"strain": "CF-1", "vials": 1_000_000},
        {"strain": "CF-1", "vials": "many"},
        {"strain": "CF-1", "purpose": "x" * 2001},
        {"strain": "CF-1", "colour": "blue"},
        {"strain": ""},
        {"strain": "CF\x001"},
    ):
        error(client.post("/api/requests", json=body, headers=ana), 422)
    # one strain or one plasmid: the bank's rule, as a 422
    assert error(client.post("/api/requests", json={}, headers=ana), 422)["field"] == "strain"
    both = {"strain": "CF-1", "plasmid": "pBo1"}
    error(client.post("/api/requests", json=both, headers=ana), 422)
    error(client.post("/api/requests", json={"strain": "CF-404"}, headers=ana), 404)
    # a hidden entry is as missing as an absent one
    error(client.post("/api/requests", json={"plasmid": "pBo1"}, headers=ana), 404)
    error(client.post("/api/requests", json={"strain": "CF-1"}, headers=auth["gus"]), 403)
    error(client.get("/api/requests?status=lost", headers=ana), 422)
    error(client.get(f"/api/requests/{2**40}", headers=ana), 422)
    error(client.get("/api/requests/0", headers=ana), 422)

    rid = file_request(client, ana, strain="CF-1")["id"]
    cura = auth["cura"]
    for decision in (
        {"approve": True, "licence": "free for all"},
        {"approve": True, "licence": "academic MTA", "fee_cents": -1},
        {"approve": True, "licence": "academic MTA", "fee_cents": 10**12},
        {"approve": True, "licence": "academic MTA", "currency": "yuan"},
        {"approve": "perhaps"},
        {},
    ):
        error(client.post(f"/api/requests/{rid}/decision", json=decision, headers=cura), 422)
    body = error(
        client.post(f"/api/requests/{rid}/decision", json={"approve": True}, headers=cura), 422
    )
    assert body["field"] == "licence"
    declined = ok(
        client.post(f"/api/requests/{rid}/decision", json={"approve": False}, headers=cura)
    )
    assert declined["status"] == "declined"
    assert declined["licence"] is None
    error(
        client.post(f"/api/requests/{rid}/shipment", json={"sample": "CF-1-G1"}, headers=cura), 409
    )
    error(client.post(f"/api/requests/{rid}/shipment", json={"sample": ""}, headers=cura), 422)


# -- fees ---------------------------------------------------------------------------------------


def _approve(
    client: TestClient, cura: dict[str, str], rid: int, licence: str, fee: int, currency: str
) -> None:
    decision = {"approve": True, "licence": licence, "fee_cents": fee, "currency": currency}
    ok(client.post(f"/api/requests/{rid}/decision", json=decision, headers=cura))


def test_fee_accounts_and_csv(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    cura = auth["cura"]
    first = file_request(client, auth["ana"], strain="CF-1", vials=1)["id"]
    second = file_request(client, auth["ana"], strain="CF-1", vials=1)["id"]
    third = file_request(client, auth["bo"], strain="CF-1", vials=1)["id"]
    declined = file_request(client, auth["ana"], strain="CF-1", vials=1)["id"]
    _approve(client, cura, first, "commercial licence", 120000, "CNY")
    _approve(client, cura, second, "academic MTA", 5050, "CNY")
    _approve(client, cura, third, "commercial licence", 30000, "USD")
    ok(client.post(f"/api/requests/{declined}/decision", json={"approve": False}, headers=cura))

    accounts = ok(client.get("/api/fees", headers=cura))["data"]
    assert accounts == [
        {"organisation": "Lab A", "currency": "CNY", "requests": 2, "fee_cents": 125050},
        {"organisation": "Lab B", "currency": "USD", "requests": 1, "fee_cents": 30000},
    ]
    # a member sees their own organisation's account only
    assert ok(client.get("/api/fees", headers=auth["ana"]))["data"] == accounts[:1]

    response = client.get("/api/fees/Lab A.csv", headers=auth["ana"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="fees-Lab_A.csv"')
    assert "filename*=UTF-8''fees-Lab%20A.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["request", "requested_at"]
    assert sorted(int(r[0]) for r in rows[1:-1]) == [first, second]
    assert rows[-1][0] == "total"
    assert (rows[-1][5], rows[-1][6]) == ("1250.50", "CNY")
    # another organisation's account is the curators' business
    error(client.get("/api/fees/Lab B.csv", headers=auth["ana"]), 403)
    lab_b = client.get("/api/fees/Lab B.csv", headers=cura)
    assert lab_b.status_code == 200
    assert lab_b.content.decode("utf-8-sig").splitlines()[-1] == "total,,,,,300.00,USD,"


def test_fee_csv_names_a_chinese_organisation(
    client: TestClient, shared_bank: Bank, auth: dict[str, dict[str, str]]
) -> None:
    shared_bank.create_user("wei", PASSWORD, role="member", organisation="上海研究所", actor="t")
    response = client.get("/api/fees/上海研究所.csv", headers=auth["cura"])
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert 'filename="fees-_____.csv"' in disposition
    assert "filename*=UTF-8''fees-%E4%B8%8A%E6%B5%B7" in disposition
    assert response.content.startswith(b"\xef\xbb\xbfrequest,")


# -- releases of a patent deposit ---------------------------------------------------------------


def test_patent_deposit_release_and_withdrawal(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    cura, depo, ana, bo = auth["cura"], auth["depo"], auth["ana"], auth["bo"]
    ok(client.post("/api/strains/CF-P/deposit", json=PATENT, headers=cura), 201)

    # the deposit is secret: as missing to a member as a strain that does not exist
    hidden = error(client.get("/api/strains/CF-P", headers=ana), 404)
    absent = error(client.get("/api/strains/CF-NOPE", headers=ana), 404)
    assert hidden["detail"].replace("CF-P", "#") == absent["detail"].replace("CF-NOPE", "#")
    assert ok(client.get("/api/strains/CF-P", headers=depo))["owner"] == "depo"
    error(client.get("/api/strains/CF-P/releases", headers=ana), 404)
    release = {"user": "ana", "basis": "patent office certification", "reference": "CNIPA 123"}
    error(client.post("/api/strains/CF-P/releases", json=release, headers=ana), 404)
    # a member may see a public strain but not release it
    error(client.post("/api/strains/CF-1/releases", json=release, headers=ana), 403)
    # "sharing" is no ground to release a patent deposit (Budapest Treaty Rule 11)
    sharing = {"user": "ana", "basis": "sharing"}
    body = error(client.post("/api/strains/CF-P/releases", json=sharing, headers=cura), 422)
    assert body["field"] == "basis"
    error(
        client.post("/api/strains/CF-P/releases", json={**release, "basis": "a"}, headers=cura), 422
    )
    both = {**release, "organisation": "Lab A"}
    error(client.post("/api/strains/CF-P/releases", json=both, headers=cura), 422)
    nobody = {"user": "nobody", "basis": "patent office certification"}
    error(client.post("/api/strains/CF-P/releases", json=nobody, headers=cura), 404)

    granted = ok(client.post("/api/strains/CF-P/releases", json=release, headers=cura), 201)
    assert (granted["entry"], granted["kind"], granted["grantee"]) == ("CF-P", "strain", "ana")
    assert (granted["grantee_kind"], granted["basis"]) == ("user", "patent office certification")
    assert (granted["granted_by"], granted["active"], granted["revoked_at"]) == ("cura", True, None)

    seen = ok(client.get("/api/strains/CF-P", headers=ana))
    assert seen["deposit"]["deposit_type"] == "patent"
    error(client.get("/api/strains/CF-P", headers=bo), 404)
    depo_inbox = ok(client.get("/api/inbox", headers=depo))["data"]
    releases = [n for n in depo_inbox if n["kind"] == "release"]
    assert len(releases) == 1
    assert releases[0]["details"]["to"] == "ana"
    assert releases[0]["details"]["basis"] == "patent office certification"
    assert "CF-P" in releases[0]["subject"]
    assert [n["kind"] for n in ok(client.get("/api/inbox", headers=ana))["data"]] == ["access"]

    listed = ok(client.get("/api/strains/CF-P/releases", headers=depo))["data"]
    assert [r["id"] for r in listed] == [granted["id"]]
    error(client.get("/api/strains/CF-P/releases", headers=ana), 403)

    # the audit trail shows the member's read of the restricted strain
    reads = ok(client.get("/api/audit?action=read&actor=ana", headers=cura))
    assert reads["count"] >= 1
    assert {(e["actor"], e["entity"], e["action"]) for e in reads["data"]} == {
        ("ana", "strain", "read")
    }
    released = ok(client.get("/api/audit?action=release", headers=cura))
    assert released["count"] == 1
    assert released["data"][0]["changes"]["to"] == "ana"

    # only the owner or a curator withdraws; to anyone else the release does not exist
    error(client.delete(f"/api/releases/{granted['id']}", headers=bo), 404)
    error(client.delete(f"/api/releases/{granted['id']}", headers=ana), 404)
    withdrawn = ok(client.delete(f"/api/releases/{granted['id']}", headers=depo))
    assert withdrawn["id"] == granted["id"]
    assert withdrawn["active"] is False
    assert withdrawn["revoked_at"] is not None
    error(client.delete(f"/api/releases/{granted['id']}", headers=depo), 409)
    error(client.delete("/api/releases/999999", headers=cura), 404)
    error(client.get("/api/strains/CF-P", headers=ana), 404)
    assert ok(client.get("/api/strains/CF-P/releases", headers=cura))["data"][0]["active"] is False
    assert ok(client.get("/api/audit?action=withdraw", headers=cura))["count"] == 1


def test_plasmid_release_to_an_organisation(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    error(client.get("/api/plasmids/pBo1", headers=auth["ana"]), 404)
    to_lab_a = {"organisation": "Lab A", "basis": "sharing", "reference": "collaboration"}
    granted = ok(client.post("/api/plasmids/pBo1/releases", json=to_lab_a, headers=auth["bo"]), 201)
    assert (granted["kind"], granted["grantee"], granted["grantee_kind"]) == (
        "plasmid",
        "Lab A",
        "organisation",
    )
    assert ok(client.get("/api/plasmids/pBo1", headers=auth["ana"]))["name"] == "pBo1"
    assert len(ok(client.get("/api/plasmids/pBo1/releases", headers=auth["bo"]))["data"]) == 1
    error(client.get("/api/plasmids/pBo1/releases", headers=auth["ana"]), 403)
    error(client.get("/api/plasmids/pNope/releases", headers=auth["cura"]), 404)
    every = ok(client.get("/api/releases", headers=auth["cura"]))["data"]
    assert [r["id"] for r in every] == [granted["id"]]
    error(client.get("/api/releases", headers=auth["bo"]), 403)


# -- visibility and viability statements --------------------------------------------------------


def test_visibility(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    assert ok(client.get("/api/strains/CF-1"))["visibility"] == "public"
    private = {"visibility": "private"}
    error(client.put("/api/strains/CF-1/visibility", json=private, headers=auth["ana"]), 403)
    error(
        client.put("/api/strains/CF-1/visibility", json={"visibility": "x"}, headers=auth["cura"]),
        422,
    )
    error(client.put("/api/strains/CF-404/visibility", json=private, headers=auth["cura"]), 404)
    changed = ok(client.put("/api/strains/CF-1/visibility", json=private, headers=auth["cura"]))
    assert changed["visibility"] == "private"
    error(client.get("/api/strains/CF-1"), 404)
    error(client.get("/api/strains/CF-1", headers=auth["ana"]), 404)
    events = ok(client.get("/api/audit?action=visibility", headers=auth["cura"]))["data"]
    assert events[0]["changes"] == {"visibility": ["public", "private"]}


def test_viability_statement(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    ok(client.post("/api/strains/CF-P/deposit", json=PATENT, headers=auth["cura"]), 201)
    statement = ok(client.get("/api/strains/CF-P/viability-statement", headers=auth["depo"]))
    assert (statement["accession"], statement["deposit_type"]) == ("CF-P", "patent")
    assert (statement["sample"], statement["viable"], statement["tested_on"]) == (
        "CF-P-G1",
        True,
        "2024-03-02",
    )
    assert statement["keep_until"] == "2054-03-01"
    assert statement["issued_by"] == "depo"
    error(client.get("/api/strains/CF-P/viability-statement", headers=auth["ana"]), 404)
    error(client.get("/api/strains/CF-1/viability-statement", headers=auth["ana"]), 403)
    body = error(client.get("/api/strains/CF-1/viability-statement", headers=auth["cura"]), 422)
    assert body["field"] == "deposit_type"
    issued = ok(client.get("/api/audit?action=statement", headers=auth["cura"]))
    assert [(e["actor"], e["entity"]) for e in issued["data"]] == [("depo", "strain")]


# -- audit trail --------------------------------------------------------------------------------


def test_audit_browsing_and_verification(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    cura = auth["cura"]
    error(client.get("/api/audit", headers=auth["ana"]), 403)
    error(client.get("/api/audit/verify", headers=auth["ana"]), 403)
    error(client.get("/api/audit", headers=auth["gus"]), 403)
    unauthorised(client.get("/api/audit"))

    everything = ok(client.get("/api/audit?limit=500", headers=cura))
    assert everything["count"] == len(everything["data"]) > 0
    seqs = [e["seq"] for e in everything["data"]]
    assert seqs == sorted(seqs, reverse=True)
    page = ok(client.get("/api/audit?limit=2&offset=1", headers=cura))
    assert (page["limit"], page["offset"], page["count"]) == (2, 1, everything["count"])
    assert [e["seq"] for e in page["data"]] == seqs[1:3]
    users = ok(client.get("/api/audit?entity=user&action=create", headers=cura))
    assert users["count"] == len(USERS)
    today = dt.datetime.now(dt.UTC).date()
    todays = ok(client.get(f"/api/audit?since={today}&until={today}&limit=1", headers=cura))
    assert todays["count"] == everything["count"]
    tomorrow = today + dt.timedelta(days=1)
    assert ok(client.get(f"/api/audit?since={tomorrow}", headers=cura))["count"] == 0
    assert (
        ok(client.get("/api/audit?until=9999-12-31", headers=cura))["count"] == everything["count"]
    )
    for query in ("limit=0", "limit=501", "offset=-1", "since=yesterday", "entity=" + "x" * 65):
        error(client.get(f"/api/audit?{query}", headers=cura), 422)

    report = ok(client.get("/api/audit/verify", headers=cura))
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["events"] >= everything["count"]
    assert re.fullmatch("[0-9a-f]{64}", report["head"])


# -- the OpenAPI document -----------------------------------------------------------------------


def test_openapi_lists_the_sharing_operations(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        ("get", "/api/me"): "read_me",
        ("get", "/api/requests"): "list_requests",
        ("post", "/api/requests"): "create_request",
        ("get", "/api/requests/{request_id}"): "read_request",
        ("post", "/api/requests/{request_id}/decision"): "decide_request",
        ("post", "/api/requests/{request_id}/shipment"): "ship_request",
        ("get", "/api/fees"): "list_fee_accounts",
        ("get", "/api/fees/{organisation}.csv"): "export_fee_account_csv",
        ("get", "/api/strains/{accession}/releases"): "list_strain_releases",
        ("post", "/api/strains/{accession}/releases"): "create_strain_release",
        ("get", "/api/plasmids/{name}/releases"): "list_plasmid_releases",
        ("post", "/api/plasmids/{name}/releases"): "create_plasmid_release",
        ("get", "/api/releases"): "list_releases",
        ("delete", "/api/releases/{release_id}"): "withdraw_release",
        ("put", "/api/strains/{accession}/visibility"): "set_strain_visibility",
        ("get", "/api/strains/{accession}/viability-statement"): "read_viability_statement",
        ("get", "/api/inbox"): "read_inbox",
        ("post", "/api/inbox/read"): "mark_inbox_read",
        ("get", "/api/audit"): "list_audit_events",
        ("get", "/api/audit/verify"): "verify_audit",
    }
    for (method, path), op_id in expected.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == op_id
        assert operation["tags"][0] in {"requests", "sharing"}
        assert operation["description"], f"{op_id} needs a docstring"
        assert {"401", "403", "404", "422"} <= set(operation["responses"])
    csv_ok = spec["paths"]["/api/fees/{organisation}.csv"]["get"]["responses"]
    assert "text/csv" in csv_ok["200"]["content"]
    assert "application/json" in csv_ok["404"]["content"]
    tags = {t["name"] for t in spec["tags"]}
    assert {"requests", "sharing"} <= tags
    # the API's enumerations are the bank's
    assert get_args(Licence) == LICENCES
    assert get_args(GrantBasis) == GRANT_BASES
