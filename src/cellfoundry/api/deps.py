"""Dependencies of the API routes and pages: who is asking, and the bank acting for them.

The :class:`~cellfoundry.bank.services.Bank` is opened once by
:func:`cellfoundry.api.app.create_app` and kept on ``app.state.bank``. Every
request is served by a handle on it that acts for the request's
:class:`~cellfoundry.bank.policy.Viewer`, so the bank's one policy decides what
the request may see and do. A request is identified by

- an API token, ``Authorization: Bearer cf_...`` (scripts), or
- a session cookie set by the sign-in page (browsers); a request that changes
  anything must then also carry the session's CSRF token, as the ``csrf`` form
  field or the ``X-CSRF-Token`` header;

otherwise it is anonymous and sees public entries only. Nothing here decides a
permission: it only finds out who is asking.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cellfoundry.bank.policy import ANONYMOUS, Viewer
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import AuthenticationError, ValidationError
from cellfoundry.core.text import strings_in, text_problem

__all__ = [
    "SESSION_COOKIE",
    "ActorDep",
    "BankDep",
    "ViewerDep",
    "check_text",
    "get_actor",
    "get_bank",
    "get_viewer",
]

#: The cookie holding a browser's session secret.
SESSION_COOKIE = "cf_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`cellfoundry user token NAME`); anonymous requests see "
    "public entries only.",
)


def root_bank(request: Request) -> Bank:
    """Return the bank the app was created with (acting for the platform)."""
    bank = request.app.state.bank
    assert isinstance(bank, Bank)
    return bank


async def get_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Viewer:
    """Identify the request: API token, else session cookie (with CSRF check), else anonymous.

    Raises
    ------
    AuthenticationError
        A token that is unknown or revoked, or a write through a session
        without its CSRF token.
    """
    cached = getattr(request.state, "viewer", None)
    if isinstance(cached, Viewer):
        return cached
    bank = root_bank(request)
    viewer, csrf = ANONYMOUS, ""
    if credentials is not None:
        user = bank.user_for_token(credentials.credentials)
        viewer = bank.viewer_for(user.username)
    elif secret := request.cookies.get(SESSION_COOKIE):
        try:
            user, csrf = bank.session_user(secret)
            viewer = bank.viewer_for(user.username)
        except AuthenticationError:
            viewer, csrf = ANONYMOUS, ""
        if viewer.signed_in and request.method not in _SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                sent = str((await request.form()).get("csrf", ""))
            if sent != csrf:
                raise AuthenticationError("the form is stale or forged; reload the page")
    request.state.viewer = viewer
    request.state.csrf = csrf
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def check_text(request: Request) -> None:
    """Refuse text no database can store (NUL, lone surrogates) wherever a request carries it.

    Path, query, form fields and JSON bodies are checked here once, so the refusal is
    a 422 naming where the text was rather than a database error.

    Raises
    ------
    ValidationError
        Naming ``path``, ``query``, ``form`` or ``body`` and the field.
    """
    found: list[tuple[str, str, str]] = []
    found += [("path", k, str(v)) for k, v in request.path_params.items()]
    found += [("query", k, v) for k, v in request.query_params.multi_items()]
    content_type = request.headers.get("content-type", "")
    if request.method not in _SAFE_METHODS:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception:
                form = None
            if form is not None:
                found += [("form", k, v) for k, v in form.multi_items() if isinstance(v, str)]
        elif content_type.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"null")
            except ValueError:
                body = None  # FastAPI answers a body that is not JSON itself
            found += [("body", path, text) for path, text in strings_in(body)]
    for source, field, value in found:
        problem = text_problem(value)
        if problem:
            raise ValidationError(f"the text {problem}", source=source, field=field)


def get_bank(request: Request, viewer: ViewerDep) -> Bank:
    """Return the bank acting for the request's viewer."""
    return root_bank(request).as_viewer(viewer)


def get_actor(viewer: ViewerDep) -> str:
    """Return the name the history records for writes of this request."""
    return viewer.username


BankDep = Annotated[Bank, Depends(get_bank)]
ActorDep = Annotated[str, Depends(get_actor)]
