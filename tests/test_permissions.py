"""The permission matrix: every role and visibility, every read endpoint and page, both databases.

Seven viewers (administrator, curator, the depositor, a member of the depositor's
organisation, a member of another organisation, a guest, and a visitor who is
not signed in) read a bank holding public, group-visible, private and patent
entries, a lineage that runs through a private strain, a private plasmid
carried by a public strain, and a patent deposit released to one member. Who
may see what is written down here independently of the policy module
(:data:`EXPECTED`), and for every viewer the test checks that

- search pages, totals and every facet count count exactly the visible strains
  (text search, taxon prefix, facet-only, parent filter, browse);
- a hidden strain, plasmid or request answers exactly like a missing one:
  same status, same body (with the name swapped), for reads *and* writes, so
  neither a 403 nor a different message betrays that it exists;
- lineage walks, strain pages, carried plasmids, sequence search hits, exports,
  dashboard counts and accession look-ups never name a hidden entry;
- no response body, JSON or HTML, contains a hidden name anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import SequenceRecord

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PW = "a long enough password"
SECRET_WORD = "zyxsecret"
VIEWERS = ("admin", "cur", "dep", "mem_d", "mem_x", "guest", "anonymous")

#: Who sees which entry, by the rules of issue 3 (not by reading policy.py).
_ALL = set(VIEWERS)
_STAFF = {"admin", "cur"}
EXPECTED: dict[str, set[str]] = {
    "PM-ROOT": _ALL,  # public, the collection's
    "PM-PUB": _ALL,  # public, carries the private plasmid
    "PM-CHILD": _ALL,  # public child of a private strain
    "PM-GRP": _STAFF | {"dep", "mem_d"},  # group: the depositor's organisation
    "PM-PRIV": _STAFF | {"dep"},  # private, the depositor's
    "PM-PAT": _STAFF | {"dep"},  # patent deposit: secret
    "PM-PAT2": _STAFF | {"dep", "mem_x"},  # patent deposit released to mem_x
}
PLASMIDS: dict[str, set[str]] = {"pPM-PUB": _ALL, "pPM-PRIV": _STAFF | {"dep"}}
SECRET_GENUS = "Zyxomyces"


def _dna(seed: int, n: int = 900) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(n))


def _build(bank: Bank) -> dict[str, str]:
    """Fill the bank; return each user's API token."""
    bank.create_user("admin", PW, role="administrator", organisation="Collection", actor="t")
    bank.create_user("cur", PW, role="curator", organisation="Collection", actor="t")
    bank.create_user("dep", PW, role="depositor", organisation="DepCo", actor="t")
    bank.create_user("mem_d", PW, role="member", organisation="DepCo", actor="t")
    bank.create_user("mem_x", PW, role="member", organisation="OtherLab", actor="t")
    bank.create_user("guest", PW, role="guest", actor="t")
    tokens = {
        u: str(bank.issue_token(u, name="matrix", actor="t").secret)
        for u in VIEWERS
        if u != "anonymous"
    }
    depositor = bank.as_viewer(bank.viewer_for("dep"))
    depositor.import_sequences(
        [SequenceRecord("pPM-PUB", _dna(1), topology="circular")], kind="plasmid", actor="dep"
    )
    depositor.import_sequences(
        [SequenceRecord("pPM-PRIV", _dna(2), topology="circular", description=SECRET_WORD)],
        kind="plasmid",
        actor="dep",
        visibility="private",
    )
    secret = {"genotype": f"{SECRET_WORD} marker", "other_accessions": ()}
    bank.import_strains(
        [
            StrainRecord("PM-ROOT", "Escherichia coli K-12 MG1655"),
            StrainRecord(
                "PM-PUB", "Escherichia coli K-12 W3110", plasmid_names=("pPM-PUB", "pPM-PRIV")
            ),
        ],
        actor="t",
    )
    depositor.import_strains(
        [
            StrainRecord(
                "PM-PRIV",
                f"{SECRET_GENUS} hiddenensis P1",
                parent_accession="PM-ROOT",
                modifications=(Modification("deletion", "ldhA"),),
                other_accessions=("DSMZ 99991",),
                genotype=f"{SECRET_WORD} marker",
            ),
        ],
        actor="dep",
        visibility="private",
    )
    depositor.import_strains(
        [StrainRecord("PM-GRP", f"{SECRET_GENUS} hiddenensis G1", **secret)],  # type: ignore[arg-type]
        actor="dep",
        visibility="group",
    )
    bank.import_strains(
        [
            StrainRecord(
                "PM-CHILD",
                "Escherichia coli K-12 MG1655 evolved",
                parent_accession="PM-PRIV",
                modifications=(Modification("adaptive evolution", "ALE"),),
            ),
            StrainRecord("PM-PAT", f"{SECRET_GENUS} hiddenensis T1", **secret),  # type: ignore[arg-type]
            StrainRecord("PM-PAT2", f"{SECRET_GENUS} hiddenensis T2", **secret),  # type: ignore[arg-type]
        ],
        actor="t",
    )
    for accession in ("PM-PAT", "PM-PAT2"):
        bank.deposit(
            accession,
            deposit_type="patent",
            depositor="DepCo",
            deposited_on=dt.date(2026, 1, 5),
            depositor_statement="Rule 6.1",
            owner="dep",
            actor="t",
        )
    bank.grant_access(
        strain="PM-PAT2", user="mem_x", basis="patent office certification", actor="cur"
    )
    box = bank.add_box("Site", "F1", "R1", "B1")
    bank.add_sample("S-PRIV", box=box, position="A1", preservation="lyophilised",
                    vials=3, strain="PM-PRIV", actor="t")  # fmt: skip
    # a request by the depositor for their own private strain, invisible to others
    depositor.request_material("dep", strain="PM-PRIV", vials=1, purpose=SECRET_WORD)
    return tokens


@pytest.fixture
def matrix(bank: Bank) -> Iterator[tuple[Any, dict[str, str]]]:
    tokens = _build(bank)
    with TestClient(create_app(bank=bank)) as client:
        yield client, tokens


def _hidden(viewer: str) -> set[str]:
    names = {a for a, who in EXPECTED.items() if viewer not in who}
    names |= {p for p, who in PLASMIDS.items() if viewer not in who}
    return names


def _no_leak(viewer: str, body: str, where: str) -> None:
    for name in _hidden(viewer):
        if name in where:  # a 404 repeats the name the viewer asked for; that is no leak
            continue
        assert re.search(re.escape(name) + r"(?![\w-])", body) is None, (
            f"{viewer} sees hidden {name} in {where}"
        )


def _same_as_missing(response: Any, missing: Any, hidden: str, fake: str) -> None:
    assert response.status_code == missing.status_code
    assert response.text.replace(hidden, fake) == missing.text


@pytest.mark.parametrize("viewer", VIEWERS)
def test_permission_matrix(matrix: tuple[Any, dict[str, str]], viewer: str) -> None:
    client, tokens = matrix
    headers = {"Authorization": f"Bearer {tokens[viewer]}"} if viewer in tokens else {}
    visible = {a for a, who in EXPECTED.items() if viewer in who}
    secret_visible = {a for a in visible if a not in ("PM-ROOT", "PM-PUB", "PM-CHILD")}
    bodies: list[tuple[str, str]] = []

    def get(path: str, **kw: Any) -> Any:
        r = client.get(path, headers=headers, **kw)
        bodies.append((path, r.text))
        return r

    # search: browse, facets, text, taxon prefix, parent -- page, total and facet counts
    page = get("/api/strains", params={"limit": 500}).json()
    assert {i["accession"] for i in page["data"]} == visible
    assert page["count"] == len(visible)
    genus = {f["value"]: f["count"] for f in page["facets"]["genus"]}
    assert genus.get(SECRET_GENUS, 0) == len(secret_visible)
    deposits = {f["value"]: f["count"] for f in page["facets"]["deposit_type"]}
    assert deposits.get("patent", 0) == len(visible & {"PM-PAT", "PM-PAT2"})
    for params in (
        {"q": SECRET_WORD},
        {"taxon": SECRET_GENUS.lower()},
        {"genus": SECRET_GENUS},
        {"deposit_type": "patent"},
        {"q": "hiddenensis", "genus": SECRET_GENUS},
    ):
        found = get("/api/strains", params={**params, "limit": 500}).json()
        want = secret_visible if "deposit_type" not in params else visible & {"PM-PAT", "PM-PAT2"}
        assert {i["accession"] for i in found["data"]} == want, params
        assert found["count"] == len(want), params
        assert sum(f["count"] for f in found["facets"]["genus"]) == len(want), params
    children = get("/api/strains", params={"parent": "PM-PRIV"}).json()
    assert children["count"] == (1 if "PM-PRIV" in visible else 0)
    # a child of a hidden parent is listed without its parent
    root_page = get("/api/strains", params={"q": "evolved"}).json()
    child = next(i for i in root_page["data"] if i["accession"] == "PM-CHILD")
    assert child["parent_accession"] == ("PM-PRIV" if "PM-PRIV" in visible else None)

    # every strain: visible ones read, hidden ones answer exactly like missing ones
    for accession in EXPECTED:
        for suffix in ("", "/lineage", "/history"):
            r = get(f"/api/strains/{accession}{suffix}")
            if accession in visible:
                assert r.status_code == 200, (accession, suffix, r.text)
            else:
                missing = client.get(f"/api/strains/PM-NONE{suffix}", headers=headers)
                _same_as_missing(r, missing, accession, "PM-NONE")
        page_html = get(f"/strains/{accession}?lang=en")
        assert page_html.status_code == (200 if accession in visible else 404)
    # writes on hidden entries are 404 too (never 403); on visible ones 403 if not the owner
    for accession in ("PM-PRIV", "PM-PUB"):
        r = client.patch(f"/api/strains/{accession}", json={"remarks": "x"}, headers=headers)
        missing = client.patch("/api/strains/PM-NONE", json={"remarks": "x"}, headers=headers)
        if accession not in visible:
            _same_as_missing(r, missing, accession, "PM-NONE")
        elif viewer in _STAFF or (viewer == "dep" and accession == "PM-PRIV"):
            assert r.status_code == 200
        else:
            assert r.status_code in (401, 403)
    if viewer in ("mem_d", "mem_x"):
        r = client.post("/api/requests", json={"strain": "PM-PRIV"}, headers=headers)
        missing = client.post("/api/requests", json={"strain": "PM-NONE"}, headers=headers)
        _same_as_missing(r, missing, "PM-PRIV", "PM-NONE")

    # lineage through the private strain: the walk stops where the viewer may not see
    lineage = get("/api/strains/PM-CHILD/lineage").json()
    nodes = {n["accession"] for n in lineage["ancestors"] + lineage["descendants"]}
    assert nodes <= visible
    assert ("PM-ROOT" in nodes) == ("PM-PRIV" in visible)
    root = get("/api/strains/PM-ROOT").json()
    assert set(root["children"]) == visible & {"PM-PRIV"}
    # the public carrier does not name the private plasmid it carries
    carrier = get("/api/strains/PM-PUB").json()
    want_plasmids = {p for p, who in PLASMIDS.items() if viewer in who}
    assert set(carrier["plasmid_names"]) == want_plasmids
    assert {p["name"] for p in carrier["plasmids"]} == want_plasmids

    # plasmids: list, read, exports, sequence search hits
    listed = get("/api/plasmids", params={"limit": 500}).json()
    assert {p["name"] for p in listed["data"]} == want_plasmids
    assert listed["count"] == len(want_plasmids)
    for name in PLASMIDS:
        for suffix in ("", ".gb", ".fasta"):
            r = get(f"/api/plasmids/{name}{suffix}")
            if name in want_plasmids:
                assert r.status_code == 200
            else:
                missing = client.get(f"/api/plasmids/pPM-NONE{suffix}", headers=headers)
                _same_as_missing(r, missing, name, "pPM-NONE")
    hits = client.post(
        "/api/sequences/search", json={"sequence": _dna(2)[100:400], "top": 10}, headers=headers
    )
    bodies.append(("sequence search", hits.text))
    assert hits.status_code == 200
    assert ("pPM-PRIV" in {h["name"] for h in hits.json()["data"]}) == ("pPM-PRIV" in want_plasmids)

    # counts on the dashboard and in the API; look-up by another collection's number
    counts = get("/api/counts").json()
    assert counts["strains"] == len(visible)
    assert counts["plasmids"] == len(want_plasmids)
    assert counts["deposits"] == len(visible & {"PM-PAT", "PM-PAT2"})
    assert counts["samples"] == (1 if "PM-PRIV" in visible else 0)
    dashboard = get("/?lang=en").text
    assert f"{counts['strains']}</span>" in dashboard
    lookup = get("/api/accessions/DSMZ 99991")
    assert lookup.status_code == (200 if "PM-PRIV" in visible else 404)

    # pages: search results and the plasmid list
    html = get(f"/strains?q={SECRET_WORD}&lang=en").text
    assert f'data-total="{len(secret_visible)}"' in html
    get("/plasmids?lang=zh")
    get("/strains?lang=zh")

    # requests: the depositor's request for a private strain is theirs and staff's only
    if viewer in tokens:
        requests = get("/api/requests").json()
        mine = [r for r in requests["data"] if r["item"] == "PM-PRIV"]
        assert len(mine) == (1 if viewer in _STAFF | {"dep"} else 0)
        r = get(f"/api/requests/{1}")
        if viewer not in _STAFF | {"dep"}:
            missing = client.get("/api/requests/999", headers=headers)
            _same_as_missing(r, missing, "1", "999")

    for where, body in bodies:
        _no_leak(viewer, body, where)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_staff_pages_and_audit_are_closed_to_others(
    matrix: tuple[Any, dict[str, str]], viewer: str
) -> None:
    client, tokens = matrix
    headers = {"Authorization": f"Bearer {tokens[viewer]}"} if viewer in tokens else {}
    audit = client.get("/api/audit", headers=headers)
    page = client.get("/audit?lang=en", headers=headers, follow_redirects=False)
    verify = client.get("/api/audit/verify", headers=headers)
    if viewer in _STAFF:
        assert (audit.status_code, page.status_code, verify.status_code) == (200, 200, 200)
        assert verify.json()["ok"]
        # reads of restricted entries by the staff themselves are in the trail
        actions = {e["action"] for e in audit.json()["data"]}
        assert "release" in actions
    elif viewer == "anonymous":
        assert audit.status_code == 401
        assert page.status_code == 303  # to the sign-in page
        assert verify.status_code == 401
    else:
        assert (audit.status_code, page.status_code, verify.status_code) == (403, 403, 403)
        _no_leak(viewer, audit.text + page.text + verify.text, "audit")
