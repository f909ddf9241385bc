"""Strain design endpoints: a metabolic design saved to the bank as a planned strain.

Design searches run as jobs on a stored chassis model (``POST /api/models/{id}/jobs`` with a
``design_*`` kind; the result lists evaluated, ranked designs as ``cellfoundry.strain-design/1``
JSON). ``POST /api/designs`` stores one of them as a planned strain derived from the chassis
strain; ``GET /api/strains/{accession}/design`` gives it back to the DNA designer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.routes.sharing import signed_in
from cellfoundry.api.schemas import StrainPublic, Visibility
from cellfoundry.api.schemas_sharing import NO_NUL
from cellfoundry.core.errors import NotFoundError

__all__ = ["DesignCreate", "DesignPublic", "router"]

router = APIRouter(tags=["models"], responses=ERROR_RESPONSES)

Accession = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="Strain accession.")
]


class DesignCreate(BaseModel):
    """A design to keep as a planned strain of the chassis strain ``parent_accession``."""

    model_config = ConfigDict(extra="forbid")

    design: dict[str, Any] = Field(
        description="A design as a design job returns it (format cellfoundry.strain-design/1)."
    )
    parent_accession: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
    accession: (
        Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)] | None
    ) = Field(default=None, description="Default: the parent's accession, -D and a number.")
    visibility: Visibility = "private"


class DesignPublic(BaseModel):
    """The design a planned strain was saved from."""

    accession: str
    parent_accession: str | None
    product: str
    method: str
    created_by: str
    design: dict[str, Any]


@router.post(
    "/designs",
    operation_id="save_design",
    response_model=StrainPublic,
    status_code=201,
    dependencies=[Depends(signed_in)],
)
def save_design(
    body: DesignCreate, bank: BankDep, actor: ActorDep, response: Response
) -> StrainPublic:
    """Save a design as a planned strain (status `planned`, parent = the chassis strain)."""
    view = bank.save_design(
        body.design,
        parent_accession=body.parent_accession,
        accession=body.accession,
        actor=actor,
        visibility=body.visibility,
    )
    response.headers["Location"] = f"/api/strains/{view.accession}"
    return StrainPublic.from_view(view)


@router.get(
    "/strains/{accession}/design", operation_id="read_strain_design", response_model=DesignPublic
)
def read_strain_design(accession: Accession, bank: BankDep) -> DesignPublic:
    """Show the design a planned strain was saved from (404 if it has none)."""
    saved = bank.strain_design(accession)
    if saved is None:
        raise NotFoundError("design of strain", accession)
    return DesignPublic(
        accession=saved.accession,
        parent_accession=saved.parent_accession,
        product=saved.product,
        method=saved.method,
        created_by=saved.created_by,
        design=saved.design,
    )
