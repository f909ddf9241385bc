"""The one place where domain errors become HTTP responses.

=====================  ======  ==============================================
error                  status  body
=====================  ======  ==============================================
``NotFoundError``      404     ``{"detail", "source", "record", "field"}``
``ConflictError``      409     same, naming the clashing record and field
``ValidationError``    422     same, naming file, record and field
``AuthenticationError`` 401    ``{"detail"}``: sign in, or a valid token
``ForbiddenError``     403     ``{"detail"}``: the viewer may see it but not do this
request not valid      422     same; ``source`` is ``body``, ``query`` or ``path``
=====================  ======  ==============================================

API paths (``/api/...``) get JSON; web pages get an error page in the
reader's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cellfoundry.api.schemas import ErrorPublic
from cellfoundry.core.errors import (
    AuthenticationError,
    CellfoundryError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.web.routes import render_error

__all__ = ["ERROR_RESPONSES", "install_error_handlers", "status_of"]

#: The error responses every route may give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorPublic,
        "description": "The body cannot be parsed (not JSON, broken form).",
    },
    401: {"model": ErrorPublic, "description": "Not signed in, or the token is not valid."},
    403: {"model": ErrorPublic, "description": "The viewer may not do this."},
    404: {"model": ErrorPublic, "description": "No such record."},
    409: {"model": ErrorPublic, "description": "The write collides with stored state."},
    422: {"model": ErrorPublic, "description": "A value breaks a rule; names record and field."},
}


def status_of(err: CellfoundryError) -> int:
    """Return the HTTP status of a domain error."""
    if isinstance(err, NotFoundError):
        return 404
    if isinstance(err, ConflictError):
        return 409
    if isinstance(err, ValidationError):
        return 422
    if isinstance(err, AuthenticationError):
        return 401
    if isinstance(err, ForbiddenError):
        return 403
    return 500


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/api" or path == "/openapi.json"


def _body(err: CellfoundryError) -> ErrorPublic:
    if isinstance(err, ValidationError):
        return ErrorPublic(detail=str(err), source=err.source, record=err.record, field=err.field)
    if isinstance(err, NotFoundError):
        return ErrorPublic(detail=str(err), record=err.key)
    return ErrorPublic(detail=str(err))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CellfoundryError)
    status = status_of(exc)
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(_body(exc).model_dump(), status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    return render_error(request, status, exc)


def _request_error_body(exc: RequestValidationError) -> ErrorPublic:
    errors = list(exc.errors())
    messages = []
    source: str | None = None
    field: str | None = None
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        where = ".".join(loc[1:]) or (loc[0] if loc else "")
        if field is None and len(loc) > 1:
            source, field = loc[0], loc[-1]
            if field.isdigit() and len(loc) > 2:
                field = loc[-2]
        messages.append(f"{where}: {error.get('msg', 'invalid value')}" if where else error["msg"])
    return ErrorPublic(detail="; ".join(messages), source=source, field=field)


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    body = _request_error_body(exc)
    if _wants_json(request):
        return JSONResponse(body.model_dump(), status_code=422)
    return render_error(
        request, 422, ValidationError(body.detail, source=body.source, field=body.field)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request) or exc.status_code not in (404, 405):
        return JSONResponse(
            ErrorPublic(detail=str(exc.detail)).model_dump(),
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return render_error(request, exc.status_code, None)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse(
            ErrorPublic(detail="internal server error").model_dump(), status_code=500
        )
    return render_error(request, 500, None)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping from domain errors to HTTP responses on ``app``.

    Anything else is a 500, shown without its internals (the server log has them).
    """
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(CellfoundryError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
