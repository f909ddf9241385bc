"""Physical stock and deposit endpoints: samples, moves, deposits."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.schemas import DepositCreate, DepositPublic, SampleMove, SamplePublic

router = APIRouter(tags=["stock"], responses=ERROR_RESPONSES)


@router.get("/samples/{label}", operation_id="read_sample", response_model=SamplePublic)
def read_sample(label: str, bank: BankDep) -> SamplePublic:
    """Show a sample with its full freezer address and viability tests."""
    return SamplePublic.from_view(bank.get_sample(label))


@router.post("/samples/{label}/move", operation_id="move_sample", response_model=SamplePublic)
def move_sample(label: str, body: SampleMove, bank: BankDep, actor: ActorDep) -> SamplePublic:
    """Move a sample to a free position; an occupied position is a conflict (409)."""
    return SamplePublic.from_view(
        bank.move_sample(label, box=body.box, position=body.position, actor=actor)
    )


@router.post(
    "/strains/{accession}/deposit",
    operation_id="deposit_strain",
    response_model=DepositPublic,
    status_code=201,
)
def deposit_strain(
    accession: str, body: DepositCreate, bank: BankDep, actor: ActorDep
) -> DepositPublic:
    """Record a public, safe or Budapest Treaty patent deposit of a strain."""
    view = bank.deposit(
        accession,
        deposit_type=body.deposit_type,
        depositor=body.depositor,
        deposited_on=body.deposited_on or dt.date.today(),
        depositor_statement=body.depositor_statement,
        viability_statement=body.viability_statement,
        patent_reference=body.patent_reference,
        owner=body.owner,
        actor=actor,
    )
    return DepositPublic.from_view(view)
