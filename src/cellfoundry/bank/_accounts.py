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
from cellfoundry.bank.db import ApiToken, LoginFailure, Organisation, User, WebSession, utcnow
from cellfoundry.bank.policy import Viewer, require_privileged
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)

Role = Literal["administrator", "curator", "depositor", "member", "guest"]
ROLES: tuple[str, ...] = get_args(Role)
MAX_FAILURES = 5
#: Failed logins from one client address (any user names) before it is refused.
MAX_CLIENT_FAILURES = 20
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: How long a web session lasts.
SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
#: Names the policy uses for the platform and for visitors; no account may take them.
RESERVED_NAMES = frozenset({"system", "anonymous", "web", "demo"})
TOKEN_PREFIX = "cf_"
_HASHER = PasswordHasher()


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
        if username.strip().lower() in RESERVED_NAMES:
            raise ValidationError(
                f"{username!r} is reserved for the platform", record=username, field="username"
            )
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

    def authenticate(self, username: str, password: str, *, client: str = "") -> UserView:
        """Check a user name and password; count failures and lock out guessing.

        More than :data:`MAX_FAILURES` failures for a name, or
        :data:`MAX_CLIENT_FAILURES` from one ``client`` address, within
        :data:`FAILURE_WINDOW` refuse every further try until the window has passed.

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
            from_client = (
                s.execute(
                    select(func.count())
                    .select_from(LoginFailure)
                    .where(LoginFailure.client == client, LoginFailure.at > now - FAILURE_WINDOW)
                ).scalar_one()
                if client
                else 0
            )
            user = s.scalars(select(User).where(User.username == username)).first()
            ok = False
            allowed = recent < MAX_FAILURES and from_client < MAX_CLIENT_FAILURES
            if allowed and user is not None and user.active:
                try:
                    ok = _HASHER.verify(user.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
            if not ok:
                s.add(LoginFailure(username=username[:64], client=client[:64], at=now))
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

    # -- web sessions --------------------------------------------------------------------------

    def start_session(self, username: str) -> tuple[str, str]:
        """Open a web session for a user; return (cookie secret, CSRF token).

        Only the secret's SHA-256 is stored; the CSRF token is sent back with every form.
        """
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = utcnow()
        with self._tx() as s:
            uid = s.scalars(select(User.id).where(User.username == username)).first()
            if uid is None:
                raise NotFoundError("user", username)
            s.execute(delete(WebSession).where(WebSession.expires_at < now))
            s.add(
                WebSession(
                    user_id=uid,
                    token_hash=_token_hash(secret),
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return secret, csrf

    def session_user(self, secret: str) -> tuple[UserView, str]:
        """Return the user and CSRF token of a live session."""
        with self._tx() as s:
            row = s.execute(
                select(User.username, User.active, WebSession.expires_at, WebSession.csrf_token)
                .join(WebSession, WebSession.user_id == User.id)
                .where(WebSession.token_hash == _token_hash(secret))
            ).first()
        if row is None or not row[1] or _aware(row[2]) < utcnow():
            raise AuthenticationError("the session has ended; sign in again")
        return self.get_user(row[0]), row[3]

    def end_session(self, secret: str) -> None:
        """Sign a browser out (its session cannot be used again)."""
        with self._tx() as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(secret)))

    def viewer_for(self, username: str) -> Viewer:
        """Return the policy :class:`~cellfoundry.bank.policy.Viewer` of an active account."""
        with self._tx() as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                raise AuthenticationError("unknown or inactive account")
            return Viewer(user.username, user.role, user.id, user.organisation_id)

    def list_users(self) -> tuple[UserView, ...]:
        """Return every account (administrators and curators)."""
        require_privileged(self.viewer, "list accounts")
        with self._tx() as s:
            rows = s.execute(
                select(User, Organisation.name)
                .outerjoin(Organisation, Organisation.id == User.organisation_id)
                .order_by(User.username)
            ).all()
            return tuple(
                UserView(u.id, u.username, u.display_name, u.role, org, u.active) for u, org in rows
            )
