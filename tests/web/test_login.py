"""Signing in over HTTP: sessions, CSRF, rate limits, redirects, and no password anywhere."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cellfoundry.api.app import create_app
from cellfoundry.api.deps import SESSION_COOKIE
from cellfoundry.bank._accounts import MAX_CLIENT_FAILURES, MAX_FAILURES
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PW = "correct horse battery staple"


@pytest.fixture
def app(sqlite_bank: Bank) -> Any:
    sqlite_bank.create_user("ana", PW, role="curator", organisation="BJCC", actor="t")
    sqlite_bank.create_user("bo", PW, role="member", organisation="Lab", actor="t")
    sqlite_bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12"), actor="t")
    return create_app(bank=sqlite_bank)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def login(client: TestClient, user: str, password: str, nxt: str = "/") -> Any:
    return client.post(
        "/login",
        data={"username": user, "password": password, "next": nxt},
        follow_redirects=False,
    )


def csrf_of(client: TestClient) -> str:
    html = client.get("/?lang=en").text
    found = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(client: TestClient) -> None:
    response = login(client, "ana", PW, "/audit")
    assert response.status_code == 303
    assert response.headers["location"] == "/audit"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    secret = client.cookies[SESSION_COOKIE]
    assert client.get("/audit?lang=en").status_code == 200
    assert 'data-user="ana"' in client.get("/?lang=en").text
    client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    # the old cookie is worthless after signing out
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/audit", follow_redirects=False).status_code == 303
    assert 'data-user=""' in client.get("/?lang=en").text


def test_forms_need_the_session_csrf_token(client: TestClient) -> None:
    login(client, "bo", PW)
    form = {"strain": "CF-1", "vials": "1", "purpose": "test"}
    refused = client.post("/requests", data=form, follow_redirects=False)
    assert refused.status_code == 401
    forged = client.post("/requests", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 401
    ok = client.post("/requests", data={**form, "csrf": csrf_of(client)}, follow_redirects=False)
    assert ok.status_code == 303
    # JSON through the session needs the header; a bearer token needs none
    api = client.post("/api/requests", json={"strain": "CF-1"})
    assert api.status_code == 401
    api = client.post(
        "/api/requests", json={"strain": "CF-1"}, headers={"X-CSRF-Token": csrf_of(client)}
    )
    assert api.status_code == 201


def test_wrong_password_and_unknown_name_look_the_same(client: TestClient) -> None:
    wrong = login(client, "ana", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    strip = re.compile(r'name="username" value="[^"]*"')
    assert strip.sub("", wrong.text) == strip.sub("", unknown.text)


def test_login_is_rate_limited_per_name(client: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        assert login(client, "ana", "guess").status_code == 401
    # the right password no longer helps for this name ...
    assert login(client, "ana", PW).status_code == 401
    # ... while other names still sign in
    assert login(client, "bo", PW).status_code == 303


def test_login_is_rate_limited_per_client_address(client: TestClient) -> None:
    for i in range(MAX_CLIENT_FAILURES):
        assert login(client, f"user{i}", "guess").status_code == 401
    # one address guessing many names is refused, whatever the name
    assert login(client, "bo", PW).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "\\\\evil"])
def test_sign_in_never_redirects_off_site(client: TestClient, target: str) -> None:
    response = login(client, "ana", PW, target)
    assert response.headers["location"] == "/"


def test_passwords_are_never_logged_or_stored(
    app: Any, client: TestClient, sqlite_bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login(client, "ana", "my secret guess 123")
    login(client, "ana", PW)
    text = caplog.text
    assert PW not in text
    assert "my secret guess 123" not in text
    with sqlite_bank.engine.connect() as conn:
        for table in sa.inspect(sqlite_bank.engine).get_table_names():
            if table.startswith("strains_fts"):
                continue
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                flat = repr(tuple(row))
                assert PW not in flat, table
                assert "my secret guess 123" not in flat, table


def test_owner_publishes_a_private_plasmid_from_its_page(
    client: TestClient, sqlite_bank: Bank
) -> None:
    from cellfoundry.core.sequence import SequenceRecord

    owner = sqlite_bank.as_viewer(sqlite_bank.viewer_for("bo"))
    owner.import_sequences(
        [SequenceRecord("pBO1", "ACGT" * 100, topology="circular")],
        kind="plasmid",
        actor="bo",
        visibility="private",
    )
    with TestClient(client.app) as visitor:
        assert visitor.get("/plasmids/pBO1").status_code == 404
        login(client, "bo", PW)
        page = client.get("/plasmids/pBO1?lang=zh").text
        assert 'data-visibility="private"' in page
        assert 'id="visibility-form"' in page
        changed = client.post(
            "/plasmids/pBO1/visibility",
            data={"visibility": "public", "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert visitor.get("/plasmids/pBO1").status_code == 200
        assert 'id="visibility-form"' not in visitor.get("/plasmids/pBO1").text
