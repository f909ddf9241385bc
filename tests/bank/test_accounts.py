"""Accounts on both databases: argon2 passwords, lockout, API tokens and revocation."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from cellfoundry.bank._accounts import MAX_FAILURES, AuthenticationError
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError

PASSWORD = "correct horse battery"


def test_create_and_authenticate(bank: Bank) -> None:
    user = bank.create_user(
        "wang.li", PASSWORD, role="curator", organisation="BJ Culture Collection", actor="admin"
    )
    assert (user.role, user.organisation, user.active) == ("curator", "BJ Culture Collection", True)
    assert bank.authenticate("wang.li", PASSWORD) == user
    with pytest.raises(ConflictError, match="field 'username'"):
        bank.create_user("wang.li", PASSWORD, actor="admin")
    with pytest.raises(ValidationError, match="field 'password'"):
        bank.create_user("short", "abc", actor="admin")
    with pytest.raises(ValidationError, match="field 'role'"):
        bank.create_user("x.y", PASSWORD, role="owner", actor="admin")


def test_password_is_never_stored_or_recorded(bank: Bank, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bank.create_user("zhang.wei", PASSWORD, actor="admin")
    with pytest.raises(AuthenticationError) as err:
        bank.authenticate("zhang.wei", PASSWORD + "!")
    assert PASSWORD not in str(err.value)
    with bank.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
        history = conn.execute(sa.text("SELECT changes FROM history")).all()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert all(PASSWORD not in str(row) for row in history)
    assert PASSWORD not in caplog.text
    assert bank.verify_audit().ok


def test_wrong_name_and_wrong_password_look_the_same(bank: Bank) -> None:
    bank.create_user("li.na", PASSWORD, actor="admin")
    with pytest.raises(AuthenticationError) as unknown:
        bank.authenticate("nobody", PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        bank.authenticate("li.na", "not the password")
    assert str(unknown.value) == str(wrong.value)


def test_guessing_locks_the_account_out(bank: Bank) -> None:
    bank.create_user("chen.jie", PASSWORD, actor="admin")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            bank.authenticate("chen.jie", "guess")
    # even the right password is refused while locked
    with pytest.raises(AuthenticationError):
        bank.authenticate("chen.jie", PASSWORD)
    with bank.engine.begin() as conn:  # the window passes
        conn.execute(sa.text("UPDATE login_failures SET at = :old"), {"old": "2000-01-01 00:00:00"})
    assert bank.authenticate("chen.jie", PASSWORD).username == "chen.jie"
    with bank.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_failures")).scalar_one() == 0


def test_tokens_authenticate_until_revoked(bank: Bank) -> None:
    bank.create_user("robot", PASSWORD, role="member", actor="admin")
    token = bank.issue_token("robot", name="plate reader", actor="admin")
    assert token.secret is not None
    assert token.secret.startswith("cf_")
    assert bank.user_for_token(token.secret).username == "robot"
    with bank.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert token.secret not in stored
    revoked = bank.revoke_token(token.id, actor="admin")
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="revoked"):
        bank.user_for_token(token.secret)
    with pytest.raises(AuthenticationError):
        bank.user_for_token("cf_made-up")
    with pytest.raises(NotFoundError):
        bank.issue_token("ghost", name="x", actor="admin")
    assert bank.verify_audit().ok
