"""Strain endpoints: search with facets, create, show, edit, lineage, history, lookup, counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.schemas import (
    AccessionLookupPublic,
    CountsPublic,
    HistoryEntryPublic,
    HistoryPublic,
    LineagePublic,
    StrainCreate,
    StrainPublic,
    StrainsPublic,
    StrainSummaryPublic,
    StrainUpdate,
    Visibility,
)
from cellfoundry.bank.search import StrainQuery
from cellfoundry.core.errors import NotFoundError

router = APIRouter(tags=["strains"], responses=ERROR_RESPONSES)

Facet = Annotated[tuple[str, ...], Query()]


@router.get("/strains", operation_id="search_strains", response_model=StrainsPublic)
def search_strains(
    bank: BankDep,
    q: Annotated[str, Query(description="Words, accession or other collection number.")] = "",
    taxon: Annotated[str, Query(description="Taxon name prefix.")] = "",
    genus: Facet = (),
    organism_type: Facet = (),
    risk_group: Annotated[
        tuple[Annotated[int, Field(ge=1, le=4)], ...], Query(description="WHO risk group 1-4.")
    ] = (),
    status: Annotated[tuple[str, ...], Query(description="Availability.")] = (),
    deposit_type: Annotated[
        tuple[str, ...], Query(description="public, safe, patent or none.")
    ] = (),
    feature: Annotated[str, Query(description="Gene or feature on genome or plasmid.")] = "",
    parent: Annotated[str, Query(description="Accession of the parent strain.")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 25,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    facets: bool = True,
) -> StrainsPublic:
    """Search strains by text and facets; returns one page, the total and facet counts."""
    page = bank.search(
        StrainQuery(
            text=q,
            taxon=taxon,
            genus=genus,
            organism_type=organism_type,
            risk_group=risk_group,
            status=status,
            deposit_type=deposit_type,
            feature=feature,
            parent=parent,
            limit=limit,
            offset=offset,
            facets=facets,
        )
    )
    return StrainsPublic.from_view(page)


@router.post(
    "/strains",
    operation_id="create_strain",
    response_model=StrainPublic,
    status_code=201,
)
def create_strain(
    body: StrainCreate,
    bank: BankDep,
    actor: ActorDep,
    visibility: Annotated[
        Visibility, Query(description="Who sees the new strain: private, group or public.")
    ] = "public",
) -> StrainPublic:
    """Add a strain owned by the caller; its parent and plasmids must already be in the bank."""
    return StrainPublic.from_view(
        bank.add_strain(body.to_record(), actor=actor, visibility=visibility)
    )


@router.get("/strains/{accession}", operation_id="read_strain", response_model=StrainPublic)
def read_strain(accession: str, bank: BankDep) -> StrainPublic:
    """Show a strain with its catalogue fields, lineage links, plasmids, samples and deposit."""
    return StrainPublic.from_view(bank.get_strain(accession))


@router.patch("/strains/{accession}", operation_id="update_strain", response_model=StrainPublic)
def update_strain(
    accession: str, body: StrainUpdate, bank: BankDep, actor: ActorDep
) -> StrainPublic:
    """Change catalogue fields; the old and new values go into the strain's history."""
    return StrainPublic.from_view(bank.update_strain(accession, body.changes(), actor=actor))


@router.get(
    "/strains/{accession}/lineage", operation_id="read_lineage", response_model=LineagePublic
)
def read_lineage(accession: str, bank: BankDep) -> LineagePublic:
    """Walk the strain's pedigree: ancestors up to the root and every descendant."""
    return LineagePublic.from_view(bank.lineage(accession))


@router.get(
    "/strains/{accession}/history", operation_id="read_history", response_model=HistoryPublic
)
def read_history(accession: str, bank: BankDep) -> HistoryPublic:
    """List every versioned write of the strain, oldest first."""
    return HistoryPublic(
        accession=accession,
        data=[HistoryEntryPublic.from_view(e) for e in bank.history(accession)],
    )


@router.get(
    "/accessions/{number}", operation_id="lookup_accession", response_model=AccessionLookupPublic
)
def lookup_accession(number: str, bank: BankDep) -> AccessionLookupPublic:
    """Find strains by this collection's or another collection's accession number."""
    found = bank.lookup(number)
    if not found:
        raise NotFoundError("accession", number)
    return AccessionLookupPublic(
        number=number, data=[StrainSummaryPublic.from_view(s) for s in found]
    )


@router.get("/counts", operation_id="read_counts", response_model=CountsPublic)
def read_counts(bank: BankDep) -> CountsPublic:
    """Count strains, plasmids, parts, genomes, samples and deposits."""
    return CountsPublic.from_view(bank.counts())
