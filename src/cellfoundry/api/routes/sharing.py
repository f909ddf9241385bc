"""Sharing endpoints: who am I, the inbox, releases, visibility, the audit trail, statements.

Thin: each operation asks the bank, acting for the caller, and translates its
answer; the bank's policy decides what may be seen and done. Everything but
``GET /api/me`` acts in the caller's name and so needs a signed-in caller: an
anonymous request gets 401 (with ``WWW-Authenticate: Bearer``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query

from cellfoundry.api.deps import ActorDep, BankDep, ViewerDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.schemas import StrainPublic
from cellfoundry.api.schemas_sharing import (
    MAX_ID,
    NO_NUL,
    AuditEventPublic,
    AuditEventsPublic,
    AuditReportPublic,
    InboxPublic,
    InboxRead,
    InboxReadPublic,
    MePublic,
    NotificationPublic,
    ReleaseCreate,
    ReleasePublic,
    ReleasesPublic,
    ViabilityStatementPublic,
    VisibilityUpdate,
)
from cellfoundry.bank.policy import Viewer
from cellfoundry.core.errors import AuthenticationError

__all__ = ["router", "signed_in"]


def signed_in(viewer: ViewerDep) -> Viewer:
    """Refuse an anonymous request (401): the operation acts in the caller's name."""
    if not viewer.signed_in:
        raise AuthenticationError("sign in, or send an API token (Authorization: Bearer ...)")
    return viewer


router = APIRouter(tags=["sharing"], responses=ERROR_RESPONSES)
SIGNED_IN = [Depends(signed_in)]

Accession = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="Strain accession.")
]
PlasmidName = Annotated[
    str, Path(min_length=1, max_length=255, pattern=NO_NUL, description="Plasmid name.")
]
AuditFilter = Annotated[str, Query(max_length=64, pattern=NO_NUL)]


# -- who am I and the inbox -----------------------------------------------------------------------


@router.get("/me", operation_id="read_me", response_model=MePublic)
def read_me(bank: BankDep, viewer: ViewerDep) -> MePublic:
    """Show who the request acts for: account, role, organisation and unread messages."""
    if not viewer.signed_in:
        return MePublic(
            username=viewer.username,
            display_name="",
            role=viewer.role,
            organisation=None,
            signed_in=False,
            unread=0,
        )
    user = bank.get_user(viewer.username)
    return MePublic(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        organisation=user.organisation,
        signed_in=True,
        unread=bank.unread_count(),
    )


@router.get("/inbox", operation_id="read_inbox", response_model=InboxPublic, dependencies=SIGNED_IN)
def read_inbox(
    bank: BankDep,
    unread: Annotated[bool, Query(description="Only unread notifications.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxPublic:
    """List the caller's notifications, newest first: releases, decisions, shipments."""
    notes = bank.inbox(unread_only=unread, limit=limit)
    return InboxPublic(
        data=[NotificationPublic.from_view(n) for n in notes], unread=bank.unread_count()
    )


@router.post(
    "/inbox/read",
    operation_id="mark_inbox_read",
    response_model=InboxReadPublic,
    dependencies=SIGNED_IN,
)
def mark_inbox_read(
    bank: BankDep, body: Annotated[InboxRead | None, Body()] = None
) -> InboxReadPublic:
    """Mark the caller's notifications read: those listed in ``ids``, or all without a body."""
    marked = bank.mark_read(None if body is None or body.ids is None else list(body.ids))
    return InboxReadPublic(marked=marked, unread=bank.unread_count())


# -- releases and visibility --------------------------------------------------------------------


@router.get(
    "/strains/{accession}/releases",
    operation_id="list_strain_releases",
    response_model=ReleasesPublic,
    dependencies=SIGNED_IN,
)
def list_strain_releases(accession: Accession, bank: BankDep) -> ReleasesPublic:
    """List the releases of a strain, withdrawn ones included (its owner and curators)."""
    return ReleasesPublic(
        data=[ReleasePublic.from_view(g) for g in bank.list_grants(strain=accession)]
    )


@router.post(
    "/strains/{accession}/releases",
    operation_id="create_strain_release",
    response_model=ReleasePublic,
    status_code=201,
    dependencies=SIGNED_IN,
)
def create_strain_release(
    accession: Accession, body: ReleaseCreate, bank: BankDep, actor: ActorDep
) -> ReleasePublic:
    """Release a restricted strain to a user or an organisation; its owner is notified."""
    return ReleasePublic.from_view(
        bank.grant_access(
            strain=accession,
            user=body.user,
            organisation=body.organisation,
            basis=body.basis,
            reference=body.reference,
            actor=actor,
        )
    )


@router.get(
    "/plasmids/{name}/releases",
    operation_id="list_plasmid_releases",
    response_model=ReleasesPublic,
    dependencies=SIGNED_IN,
)
def list_plasmid_releases(name: PlasmidName, bank: BankDep) -> ReleasesPublic:
    """List the releases of a plasmid, withdrawn ones included (its owner and curators)."""
    return ReleasesPublic(data=[ReleasePublic.from_view(g) for g in bank.list_grants(plasmid=name)])


@router.post(
    "/plasmids/{name}/releases",
    operation_id="create_plasmid_release",
    response_model=ReleasePublic,
    status_code=201,
    dependencies=SIGNED_IN,
)
def create_plasmid_release(
    name: PlasmidName, body: ReleaseCreate, bank: BankDep, actor: ActorDep
) -> ReleasePublic:
    """Release a restricted plasmid to a user or an organisation; its owner is notified."""
    return ReleasePublic.from_view(
        bank.grant_access(
            plasmid=name,
            user=body.user,
            organisation=body.organisation,
            basis=body.basis,
            reference=body.reference,
            actor=actor,
        )
    )


@router.get(
    "/releases", operation_id="list_releases", response_model=ReleasesPublic, dependencies=SIGNED_IN
)
def list_releases(bank: BankDep) -> ReleasesPublic:
    """List every release of every entry, withdrawn ones included (curators)."""
    return ReleasesPublic(data=[ReleasePublic.from_view(g) for g in bank.list_grants()])


@router.delete(
    "/releases/{release_id}",
    operation_id="withdraw_release",
    response_model=ReleasePublic,
    dependencies=SIGNED_IN,
)
def withdraw_release(
    release_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Number of the release.")],
    bank: BankDep,
    actor: ActorDep,
) -> ReleasePublic:
    """Withdraw a release (the entry's owner or a curator); returns it with ``revoked_at`` set."""
    return ReleasePublic.from_view(bank.revoke_grant(release_id, actor=actor))


@router.put(
    "/strains/{accession}/visibility",
    operation_id="set_strain_visibility",
    response_model=StrainPublic,
    dependencies=SIGNED_IN,
)
def set_strain_visibility(
    accession: Accession, body: VisibilityUpdate, bank: BankDep, actor: ActorDep
) -> StrainPublic:
    """Make a strain (and its genomes) private, group-visible or public."""
    return StrainPublic.from_view(bank.set_visibility(accession, body.visibility, actor=actor))


@router.get(
    "/strains/{accession}/viability-statement",
    operation_id="read_viability_statement",
    response_model=ViabilityStatementPublic,
    dependencies=SIGNED_IN,
)
def read_viability_statement(
    accession: Accession, bank: BankDep, actor: ActorDep
) -> ViabilityStatementPublic:
    """Issue a viability statement of a deposit (Budapest Treaty Rule 10.2); it is audited."""
    return ViabilityStatementPublic.from_view(bank.viability_statement(accession, actor=actor))


# -- audit trail --------------------------------------------------------------------------------


@router.get(
    "/audit",
    operation_id="list_audit_events",
    response_model=AuditEventsPublic,
    dependencies=SIGNED_IN,
)
def list_audit_events(
    bank: BankDep,
    entity: AuditFilter = "",
    actor: AuditFilter = "",
    action: AuditFilter = "",
    since: Annotated[dt.date | None, Query(description="From this day on (UTC).")] = None,
    until: Annotated[dt.date | None, Query(description="Up to and including this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> AuditEventsPublic:
    """Filter the audit trail (curators), newest first: one page and the total."""
    events, total = bank.audit_events(
        entity=entity,
        actor=actor,
        action=action,
        since=since,
        # the last representable day bounds nothing (and has no day after it)
        until=None if until == dt.date.max else until,
        limit=limit,
        offset=offset,
    )
    return AuditEventsPublic(
        data=[AuditEventPublic.from_view(e) for e in events],
        count=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/audit/verify",
    operation_id="verify_audit",
    response_model=AuditReportPublic,
    dependencies=SIGNED_IN,
)
def verify_audit(bank: BankDep) -> AuditReportPublic:
    """Walk the audit trail's hash chain (curators): events, head hash and every break."""
    bank.audit_events(limit=1)  # the bank's rule for the audit trail: curators only
    return AuditReportPublic.from_view(bank.verify_audit())
