"""Accounts of the bank: users with roles and organisations, passwords, API tokens.

Passwords are hashed with Argon2id (argon2-cffi) and never stored, logged or put
in an error message or history event. API tokens are random, shown once, and
stored only as their SHA-256, so a stolen database yields no usable token.
Failed logins are counted per user name: more than :data:`MAX_FAILURES` within
:data:`FAILURE_WINDOW` locks the name out until the window has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import _append_history
from cellfoundry.bank.db import ApiToken, LoginFailure, Organisation, User, utcnow
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import CellfoundryError, ConflictError, NotFoundError, ValidationError

Role = Literal["administrator", "curator", "depositor", "member", "guest"]
ROLES: tuple[str, ...] = get_args(Role)
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cf_"
_HASHER = PasswordHasher()


class AuthenticationError(CellfoundryError, PermissionError):
    """The user name, password or token is wrong, or the account is locked or inactive.

    The message never says which, so it cannot be used to probe for accounts.
    """

    def __init__(self, message: str = "wrong user name or password") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class UserView(_View):
    """An account as the interfaces see it (never with its password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    organisation: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class TokenView(_View):
    """An API token's record; ``secret`` is only set when the token is created."""

    id: int
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    secret: str | None = None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


class AccountsMixin(BankBase):
    """Accounts use cases: create users, log in, issue and revoke API tokens."""

    def create_user(
        self,
        username: str,
        password: str,
        *,
        role: str = "member",
        organisation: str | None = None,
        display_name: str = "",
        actor: str,
    ) -> UserView:
        """Create an account; the organisation is created on first use."""
        if not username.strip() or len(username) > 64 or not username.isprintable():
            raise ValidationError("a user name is 1-64 printable characters", field="username")
        if role not in ROLES:
            raise ValidationError(f"{role!r} is not one of {ROLES}", record=username, field="role")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                record=username,
                field="password",
            )
        with self._tx() as s:
            if s.scalars(select(User.id).where(User.username == username)).first() is not None:
                raise ConflictError("user name already taken", record=username, field="username")
            org_id = None
            if organisation:
                org = s.scalars(
                    select(Organisation).where(Organisation.name == organisation)
                ).first()
                if org is None:
                    org = Organisation(name=organisation)
                    s.add(org)
                    s.flush()
                org_id = org.id
            user = User(
                username=username,
                display_name=display_name,
                password_hash=_HASHER.hash(password),
                role=role,
                organisation_id=org_id,
            )
            s.add(user)
            s.flush()
            _append_history(
                s,
                {
                    "entity": "user",
                    "entity_id": user.id,
                    "version": 1,
                    "action": "create",
                    "actor": actor,
                    "changes": {"username": username, "role": role, "organisation": organisation},
                },
            )
        return self.get_user(username)

    def get_user(self, username: str) -> UserView:
        """Return an account by user name."""
        with self._tx() as s:
            row = s.execute(
                select(User, Organisation.name)
                .outerjoin(Organisation, Organisation.id == User.organisation_id)
                .where(User.username == username)
            ).first()
            if row is None:
                raise NotFoundError("user", username)
            user, org = row
            return UserView(user.id, user.username, user.display_name, user.role, org, user.active)

    def authenticate(self, username: str, password: str) -> UserView:
        """Check a user name and password; count failures and lock out guessing.

        Raises
        ------
        AuthenticationError
            For a wrong name or password, an inactive account, or too many recent
            failures; the message is the same in every case.
        """
        now = utcnow()
        with self._tx() as s:
            recent = s.execute(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.username == username, LoginFailure.at > now - FAILURE_WINDOW)
            ).scalar_one()
            user = s.scalars(select(User).where(User.username == username)).first()
            ok = False
            if recent < MAX_FAILURES and user is not None and user.active:
                try:
                    ok = _HASHER.verify(user.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
            if not ok:
                s.add(LoginFailure(username=username[:64], at=now))
            else:
                assert user is not None
                s.execute(delete(LoginFailure).where(LoginFailure.username == username))
                if _HASHER.check_needs_rehash(user.password_hash):
                    user.password_hash = _HASHER.hash(password)
        if not ok:
            raise AuthenticationError()
        return self.get_user(username)

    def issue_token(self, username: str, *, name: str, actor: str) -> TokenView:
        """Create an API token for a user; its secret is returned this once only."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._tx() as s:
            user_id = s.scalars(select(User.id).where(User.username == username)).first()
            if user_id is None:
                raise NotFoundError("user", username)
            token = ApiToken(user_id=user_id, name=name, token_hash=_token_hash(secret))
            s.add(token)
            s.flush()
            _append_history(
                s,
                {
                    "entity": "api_token",
                    "entity_id": token.id,
                    "version": 1,
                    "action": "create",
                    "actor": actor,
                    "changes": {"user": username, "name": name},
                },
            )
            return TokenView(token.id, name, token.created_at, None, secret)

    def user_for_token(self, secret: str) -> UserView:
        """Return the active user an unrevoked API token belongs to."""
        with self._tx() as s:
            row = s.execute(
                select(User.username, ApiToken.revoked_at, User.active)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == _token_hash(secret))
            ).first()
        if row is None or row[1] is not None or not row[2]:
            raise AuthenticationError("invalid or revoked API token")
        return self.get_user(row[0])

    def revoke_token(self, token_id: int, *, actor: str) -> TokenView:
        """Revoke an API token for good."""
        with self._tx() as s:
            token = s.get(ApiToken, token_id)
            if token is None:
                raise NotFoundError("API token", str(token_id))
            if token.revoked_at is None:
                token.revoked_at = utcnow()
                _append_history(
                    s,
                    {
                        "entity": "api_token",
                        "entity_id": token.id,
                        "version": 2,
                        "action": "revoke",
                        "actor": actor,
                        "changes": {},
                    },
                )
            return TokenView(token.id, token.name, token.created_at, _aware(token.revoked_at))
