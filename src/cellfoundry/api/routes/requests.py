"""Material request endpoints: ask, decide, ship; fee accounts per organisation.

The caller files requests and decides them in their own name; the bank decides
who may see, decide and ship which request. Every operation needs a signed-in
caller (401 otherwise).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.routes.sharing import signed_in
from cellfoundry.api.schemas_sharing import (
    MAX_ID,
    NO_NUL,
    FeeAccountPublic,
    FeeAccountsPublic,
    RequestCreate,
    RequestDecision,
    RequestPublic,
    RequestShipment,
    RequestsPublic,
    RequestStatus,
)

__all__ = ["router"]

router = APIRouter(tags=["requests"], responses=ERROR_RESPONSES, dependencies=[Depends(signed_in)])

RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="Number of the request.")]


@router.get("/requests", operation_id="list_requests", response_model=RequestsPublic)
def list_requests(
    bank: BankDep,
    status: Annotated[
        RequestStatus | None, Query(description="Only requests in this state.")
    ] = None,
) -> RequestsPublic:
    """List the requests the caller may see: curators all, others theirs and for their material."""
    found = bank.list_requests(status=status)
    return RequestsPublic(data=[RequestPublic.from_view(r) for r in found], count=len(found))


@router.post(
    "/requests", operation_id="create_request", response_model=RequestPublic, status_code=201
)
def create_request(body: RequestCreate, bank: BankDep, actor: ActorDep) -> RequestPublic:
    """File a request in the caller's name for vials of a strain or plasmid (no sample needed)."""
    return RequestPublic.from_view(
        bank.request_material(
            actor, strain=body.strain, plasmid=body.plasmid, vials=body.vials, purpose=body.purpose
        )
    )


@router.get("/requests/{request_id}", operation_id="read_request", response_model=RequestPublic)
def read_request(request_id: RequestId, bank: BankDep) -> RequestPublic:
    """Show one request; a request the caller may not see is not found (404)."""
    return RequestPublic.from_view(bank.get_request(request_id))


@router.post(
    "/requests/{request_id}/decision", operation_id="decide_request", response_model=RequestPublic
)
def decide_request(
    request_id: RequestId, body: RequestDecision, bank: BankDep, actor: ActorDep
) -> RequestPublic:
    """Approve a pending request with a licence and fee (in minor units), or decline it."""
    return RequestPublic.from_view(
        bank.decide_request(
            request_id,
            approver=actor,
            approve=body.approve,
            licence=body.licence,
            fee_cents=body.fee_cents,
            currency=body.currency,
            note=body.note,
        )
    )


@router.post(
    "/requests/{request_id}/shipment", operation_id="ship_request", response_model=RequestPublic
)
def ship_request(
    request_id: RequestId, body: RequestShipment, bank: BankDep, actor: ActorDep
) -> RequestPublic:
    """Ship an approved request from a sample, taking its vials from the stock."""
    return RequestPublic.from_view(bank.ship_request(request_id, sample=body.sample, actor=actor))


@router.get("/fees", operation_id="list_fee_accounts", response_model=FeeAccountsPublic)
def list_fee_accounts(bank: BankDep) -> FeeAccountsPublic:
    """List the fees owed per organisation and currency (curators all, others their own)."""
    return FeeAccountsPublic(data=[FeeAccountPublic.from_view(a) for a in bank.fee_accounts()])


@router.get(
    "/fees/{organisation}.csv",
    operation_id="export_fee_account_csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One line per approved or shipped request, then a total per currency.",
        }
    },
)
def export_fee_account_csv(
    organisation: Annotated[
        str, Path(min_length=1, max_length=255, pattern=NO_NUL, description="Organisation name.")
    ],
    bank: BankDep,
) -> Response:
    """Download an organisation's fee account as CSV (UTF-8 with a byte order mark)."""
    text = bank.fee_account_csv(organisation)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in organisation)
    filename = f"fees-{organisation}.csv"
    disposition = (
        f"attachment; filename=\"fees-{safe}.csv\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return Response(
        text.encode("utf-8-sig"),  # the BOM lets spreadsheet programs read Chinese names right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )
