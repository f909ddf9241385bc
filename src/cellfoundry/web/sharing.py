"""Pages of accounts and sharing: sign in, inbox, requests, fees, releases, audit, statements.

Each page asks the bank, acting for the signed-in viewer, and renders what it
answers; the bank's policy decides what may be seen and done. Forms that change
anything carry the session's CSRF token (checked in :mod:`cellfoundry.api.deps`).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cellfoundry.api.deps import (
    SESSION_COOKIE,
    BankDep,
    ViewerDep,
    check_text,
    get_viewer,
    root_bank,
)
from cellfoundry.bank._accounts import SESSION_LIFETIME
from cellfoundry.bank._requests import LICENCES
from cellfoundry.core.errors import AuthenticationError, NotFoundError, ValidationError
from cellfoundry.web.routes import render, translator

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])

AUDIT_PAGE: Final = 50
#: Currencies offered for fees (ISO 4217).
CURRENCIES: Final = ("CNY", "USD", "EUR")
AUDIT_ENTITIES: Final = (
    "strain",
    "plasmid",
    "part",
    "genome",
    "sample",
    "request",
    "user",
    "api_token",
)
AUDIT_ACTIONS: Final = (
    "create",
    "update",
    "read",
    "export",
    "release",
    "withdraw",
    "visibility",
    "deposit",
    "request",
    "approved",
    "declined",
    "ship",
    "statement",
    "move",
    "viability",
    "revoke",
)


def _safe_next(target: str) -> str:
    """Only a path on this site may be a redirect target (never ``//host`` or a URL)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- sign in and out ----------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """Show the sign-in form."""
    return render(request, "login.html", {"next": _safe_next(next), "failed": False})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password (rate-limited per name and per address) and open a session."""
    bank = root_bank(request)
    client = request.client.host if request.client else ""
    try:
        user = bank.authenticate(username, password, client=client)
    except AuthenticationError:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "failed": True, "username": username},
            status_code=401,
        )
    secret, _csrf = bank.start_session(user.username)
    response = _redirect(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep) -> Response:
    """End the session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        root_bank(request).end_session(secret)
    response = _redirect("/")
    response.delete_cookie(SESSION_COOKIE)
    return response


def _signed_in(viewer: Any) -> None:
    if not viewer.signed_in:
        raise AuthenticationError("sign in to see this page")


# -- inbox --------------------------------------------------------------------------------------


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Show the viewer's notifications: releases of their deposits, decisions, shipments."""
    _signed_in(bank.viewer)
    return render(request, "inbox.html", {"notes": bank.inbox()}, section="inbox")


@router.post("/inbox/read")
def inbox_read(bank: BankDep) -> Response:
    """Mark every notification read."""
    _signed_in(bank.viewer)
    bank.mark_read()
    return _redirect("/inbox")


# -- requests -----------------------------------------------------------------------------------


@router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request, bank: BankDep, status: str = "") -> HTMLResponse:
    """List requests: a curator sees all, anyone else theirs and those for their material."""
    _signed_in(bank.viewer)
    items = bank.list_requests(status=status or None)
    samples: dict[str, list[str]] = {}
    if bank.viewer.privileged:
        for r in items:
            if r.status == "approved" and r.kind == "strain" and r.item not in samples:
                samples[r.item] = [
                    s.label for s in bank.get_strain(r.item).samples if s.vials >= r.vials
                ]
    return render(
        request,
        "requests.html",
        {
            "items": items,
            "status": status,
            "statuses": ("pending", "approved", "declined", "shipped"),
            "licences": LICENCES,
            "currencies": CURRENCIES,
            "samples": samples,
        },
        section="requests",
    )


@router.post("/requests")
def file_request(
    bank: BankDep,
    strain: Annotated[str, Form(max_length=64)] = "",
    plasmid: Annotated[str, Form(max_length=255)] = "",
    vials: Annotated[int, Form(ge=1, le=1000)] = 1,
    purpose: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """File a request in the viewer's name (a sample need not exist yet)."""
    _signed_in(bank.viewer)
    bank.request_material(
        bank.viewer.username,
        strain=strain or None,
        plasmid=plasmid or None if not strain else None,
        vials=vials,
        purpose=purpose,
    )
    return _redirect("/requests")


def _cents(fee: str) -> int:
    try:
        value = Decimal(fee.strip() or "0")
    except InvalidOperation as err:
        raise ValidationError("a fee is a number, e.g. 1200.00", field="fee") from err
    if not value.is_finite() or value < 0 or value > Decimal("100000000"):
        raise ValidationError("a fee is between 0 and 100,000,000", field="fee")
    return int((value * 100).to_integral_value())


@router.post("/requests/{request_id}/approve")
def approve(
    request_id: int,
    bank: BankDep,
    licence: Annotated[str, Form(max_length=32)] = "",
    fee: Annotated[str, Form(max_length=32)] = "0",
    currency: Annotated[str, Form(pattern="^[A-Z]{3}$")] = "CNY",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve a request under a licence (with a fee for a commercial one)."""
    _signed_in(bank.viewer)
    bank.decide_request(
        request_id,
        approver=bank.viewer.username,
        approve=True,
        licence=licence or None,
        fee_cents=_cents(fee),
        currency=currency,
        note=note,
    )
    return _redirect(f"/requests#request-{request_id}")


@router.post("/requests/{request_id}/decline")
def decline(
    request_id: int, bank: BankDep, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """Decline a request."""
    _signed_in(bank.viewer)
    bank.decide_request(request_id, approver=bank.viewer.username, approve=False, note=note)
    return _redirect(f"/requests#request-{request_id}")


@router.post("/requests/{request_id}/ship")
def ship(
    request_id: int, bank: BankDep, sample: Annotated[str, Form(min_length=1, max_length=128)]
) -> Response:
    """Ship an approved request from a sample."""
    _signed_in(bank.viewer)
    bank.ship_request(request_id, sample=sample, actor=bank.viewer.username)
    return _redirect(f"/requests#request-{request_id}")


# -- fees ---------------------------------------------------------------------------------------


@router.get("/fees", response_class=HTMLResponse)
def fees_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Show what each organisation owes under its licences, with CSV downloads."""
    _signed_in(bank.viewer)
    accounts = bank.fee_accounts()
    licensed = [
        r for r in bank.list_requests() if r.status in ("approved", "shipped") and r.licence
    ]
    return render(
        request,
        "fees.html",
        {"accounts": accounts, "licensed": licensed, "licences": LICENCES},
        section="fees",
    )


@router.get("/fees/{organisation}.csv")
def fees_csv(organisation: str, bank: BankDep) -> Response:
    """Download an organisation's fee account as CSV."""
    _signed_in(bank.viewer)
    body = bank.fee_account_csv(organisation)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in organisation) or "account"
    return Response(
        body.encode("utf-8-sig"),  # a BOM so spreadsheet programs read Chinese names right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="fees-{safe}.csv"'},
    )


# -- releases and visibility --------------------------------------------------------------------


@router.post("/strains/{accession}/releases")
def release(
    accession: str,
    bank: BankDep,
    grantee: Annotated[str, Form(min_length=1, max_length=255)],
    grantee_kind: Annotated[str, Form(pattern="^(user|organisation)$")] = "user",
    basis: Annotated[str, Form(max_length=32)] = "sharing",
    reference: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Release a strain to a user or an organisation."""
    bank.grant_access(
        strain=accession,
        user=grantee if grantee_kind == "user" else None,
        organisation=grantee if grantee_kind == "organisation" else None,
        basis=basis,
        reference=reference,
        actor=bank.viewer.username,
    )
    return _redirect(f"/strains/{accession}#access")


@router.post("/releases/{grant_id}/withdraw")
def withdraw(
    grant_id: int, bank: BankDep, back: Annotated[str, Form(max_length=300)] = "/"
) -> Response:
    """Withdraw a release."""
    bank.revoke_grant(grant_id, actor=bank.viewer.username)
    return _redirect(_safe_next(back))


@router.post("/strains/{accession}/visibility")
def change_visibility(
    accession: str, bank: BankDep, visibility: Annotated[str, Form(max_length=8)]
) -> Response:
    """Make a strain private, group-visible or public."""
    bank.set_visibility(accession, visibility, actor=bank.viewer.username)
    return _redirect(f"/strains/{accession}#access")


@router.post("/{section}/{name}/visibility")
def change_sequence_visibility(
    section: str, name: str, bank: BankDep, visibility: Annotated[str, Form(max_length=8)]
) -> Response:
    """Make a plasmid or part private, group-visible or public."""
    kinds = {"plasmids": "plasmid", "parts": "part"}
    if section not in kinds:
        raise NotFoundError("page", f"/{section}/{name}")
    bank.set_sequence_visibility(
        kinds[section],  # type: ignore[arg-type]
        name,
        visibility,
        actor=bank.viewer.username,
    )
    return _redirect(f"/{section}/{name}")


@router.get("/strains/{accession}/statement", response_class=HTMLResponse)
def statement_page(request: Request, accession: str, bank: BankDep) -> HTMLResponse:
    """Show a printable viability statement of a deposit (Budapest Treaty Rule 10.2, BP/9)."""
    statement = bank.viability_statement(accession, actor=bank.viewer.username)
    return render(request, "statement.html", {"s": statement})


# -- audit browser ------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    bank: BankDep,
    entity: str = "",
    actor: str = "",
    action: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Browse and filter the audit trail (curators), with the hash chain's state."""
    _signed_in(bank.viewer)
    events, total = bank.audit_events(
        entity=entity,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=AUDIT_PAGE,
        offset=offset,
    )
    report = bank.verify_audit()
    pages = max(1, math.ceil(total / AUDIT_PAGE))
    return render(
        request,
        "audit.html",
        {
            "events": events,
            "total": total,
            "report": report,
            "filters": {
                "entity": entity,
                "actor": actor,
                "action": action,
                "since": since.isoformat() if since else "",
                "until": until.isoformat() if until else "",
            },
            "entities": AUDIT_ENTITIES,
            "actions": AUDIT_ACTIONS,
            "paging": {
                "page": offset // AUDIT_PAGE + 1,
                "pages": pages,
                "offset": offset,
                "limit": AUDIT_PAGE,
                "total": total,
            },
            "lang_code": translator(request).lang,
        },
        section="audit",
    )
