"""Bodies of the sharing endpoints: who am I, requests, fees, releases, inbox, audit, statements.

Named like :mod:`cellfoundry.api.schemas`: ``*Create`` and the other input
models are what clients send (bounded, so that nothing malformed reaches the
bank), ``*Public`` what they get back, each built by ``from_view`` from a bank
view. Times are sent in UTC with an offset (the bank stores UTC; SQLite hands
it back without the offset). Money is an integer number of minor units
(``fee_cents``: cents, fen), never a float.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from cellfoundry.api.schemas import Visibility
from cellfoundry.bank._requests import FeeAccount, Licence, RequestView
from cellfoundry.bank._sharing import AuditEvent, GrantView, NotificationView, ViabilityStatement
from cellfoundry.bank.audit import AuditReport

__all__ = [
    "MAX_ID",
    "NO_NUL",
    "AuditEventPublic",
    "AuditEventsPublic",
    "AuditProblemPublic",
    "AuditReportPublic",
    "FeeAccountPublic",
    "FeeAccountsPublic",
    "GrantBasis",
    "InboxPublic",
    "InboxRead",
    "InboxReadPublic",
    "Licence",
    "MePublic",
    "NotificationPublic",
    "ReleaseCreate",
    "ReleasePublic",
    "ReleasesPublic",
    "RequestCreate",
    "RequestDecision",
    "RequestPublic",
    "RequestShipment",
    "RequestStatus",
    "RequestsPublic",
    "ViabilityStatementPublic",
    "VisibilityUpdate",
]

#: Text may hold anything but NUL (PostgreSQL refuses it in text columns).
NO_NUL = r"^[^\x00]*$"
#: The largest record id (the database's 32-bit integer keys).
MAX_ID = 2_147_483_647
#: The most vials one request may ask for.
MAX_VIALS = 1000
#: The largest fee, in minor units (10,000,000.00).
MAX_FEE_CENTS = 1_000_000_000

#: The bank's ``GRANT_BASES`` as a type (the tests check that the two agree).
GrantBasis = Literal[
    "sharing",
    "depositor authorisation",
    "patent office certification",
    "industrial property office",
]
RequestStatus = Literal["pending", "approved", "declined", "shipped"]

Accession = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
EntryName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
UserName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
OrganisationName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]
SampleLabel = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]
Note = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
Reference = Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _utc(value: dt.datetime) -> dt.datetime:
    """Attach UTC to a time the database returned without its offset."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


# -- who am I -----------------------------------------------------------------------------------


class MePublic(BaseModel):
    """Who the request acts for: the account, its role and organisation, unread messages."""

    username: str = Field(description='"anonymous" when not signed in.')
    display_name: str
    role: str = Field(description="administrator, curator, depositor, member, guest or anonymous.")
    organisation: str | None
    signed_in: bool
    unread: int = Field(description="Unread notifications in the inbox.")


# -- requests and fees --------------------------------------------------------------------------


class RequestCreate(BaseModel):
    """A request for vials of one strain or one plasmid, in the caller's name."""

    model_config = ConfigDict(extra="forbid")

    strain: Accession | None = Field(default=None, description="Accession of the strain.")
    plasmid: EntryName | None = Field(default=None, description="Name of the plasmid.")
    vials: int = Field(default=1, ge=1, le=MAX_VIALS)
    purpose: Note = ""


class RequestDecision(BaseModel):
    """Approve a pending request with its licence (and fee), or decline it."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    licence: Licence | None = Field(default=None, description="Needed to approve.")
    fee_cents: int = Field(
        default=0,
        ge=0,
        le=MAX_FEE_CENTS,
        description="The fee in minor units (cents, fen): 120000 is 1,200.00. A commercial "
        "licence needs a fee.",
        examples=[120000],
    )
    currency: Currency = Field(default="CNY", description="ISO 4217 code.")
    note: Note = ""


class RequestShipment(BaseModel):
    """The sample an approved request ships from."""

    model_config = ConfigDict(extra="forbid")

    sample: SampleLabel = Field(description="Label of a sample of the requested material.")


class RequestPublic(BaseModel):
    """A material request and where it stands."""

    id: int
    requester: str
    organisation: str | None = Field(description="The requester's organisation.")
    item: str = Field(description="Accession of the strain or name of the plasmid.")
    kind: str = Field(description="strain or plasmid")
    vials: int
    purpose: str
    status: str = Field(description="pending, approved, declined or shipped")
    requested_at: UtcDatetime
    sample_available: bool = Field(description="Whether a sample with vials exists.")
    licence: str | None
    fee_cents: int = Field(description="The fee in minor units (cents, fen).")
    currency: str
    decided_by: str | None
    shipped_at: UtcDatetime | None

    @classmethod
    def from_view(cls, view: RequestView) -> RequestPublic:
        """Build from a bank view."""
        return cls(
            id=view.id,
            requester=view.requester,
            organisation=view.organisation,
            item=view.item,
            kind=view.kind,
            vials=view.vials,
            purpose=view.purpose,
            status=view.status,
            requested_at=view.requested_at,
            sample_available=view.sample_available,
            licence=view.licence,
            fee_cents=view.fee_cents,
            currency=view.currency,
            decided_by=view.decided_by,
            shipped_at=view.shipped_at,
        )


class RequestsPublic(BaseModel):
    """The requests the caller may see, oldest first."""

    data: list[RequestPublic]
    count: int


class FeeAccountPublic(BaseModel):
    """What one organisation owes in one currency (approved and shipped requests)."""

    organisation: str
    currency: str
    requests: int
    fee_cents: int = Field(description="The total in minor units (cents, fen).")

    @classmethod
    def from_view(cls, view: FeeAccount) -> FeeAccountPublic:
        """Build from a bank view."""
        return cls(
            organisation=view.organisation,
            currency=view.currency,
            requests=view.requests,
            fee_cents=view.fee_cents,
        )


class FeeAccountsPublic(BaseModel):
    """The fee accounts the caller may see (curators: every organisation's)."""

    data: list[FeeAccountPublic]


# -- releases and visibility --------------------------------------------------------------------


class ReleaseCreate(BaseModel):
    """A release of a restricted entry to one user or one organisation."""

    model_config = ConfigDict(extra="forbid")

    user: UserName | None = Field(default=None, description="User name of the grantee.")
    organisation: OrganisationName | None = Field(
        default=None, description="Name of the grantee organisation."
    )
    basis: GrantBasis = Field(
        description="Why: a patent deposit needs the depositor's authorisation or a patent or "
        "industrial property office's certification (Budapest Treaty Rule 11)."
    )
    reference: Reference = Field(default="", description="E.g. the authorisation's number.")


class ReleasePublic(BaseModel):
    """One release of a restricted entry; withdrawn once ``revoked_at`` is set."""

    id: int
    entry: str = Field(description="Accession of the strain or name of the plasmid.")
    kind: str = Field(description="strain or plasmid")
    grantee: str
    grantee_kind: str = Field(description="user or organisation")
    basis: str
    reference: str
    granted_by: str
    granted_at: UtcDatetime
    revoked_at: UtcDatetime | None
    active: bool = Field(description="Not withdrawn.")

    @classmethod
    def from_view(cls, view: GrantView) -> ReleasePublic:
        """Build from a bank view."""
        return cls(
            id=view.id,
            entry=view.entry,
            kind=view.kind,
            grantee=view.grantee,
            grantee_kind=view.grantee_kind,
            basis=view.basis,
            reference=view.reference,
            granted_by=view.granted_by,
            granted_at=view.granted_at,
            revoked_at=view.revoked_at,
            active=view.revoked_at is None,
        )


class ReleasesPublic(BaseModel):
    """Releases, oldest first, withdrawn ones included."""

    data: list[ReleasePublic]


class VisibilityUpdate(BaseModel):
    """Who sees a strain: private (owner, curators), group (its organisation) or public."""

    model_config = ConfigDict(extra="forbid")

    visibility: Visibility


# -- inbox --------------------------------------------------------------------------------------


class NotificationPublic(BaseModel):
    """A message in the caller's inbox."""

    id: int
    kind: str = Field(description="request, release or access")
    subject: str
    details: dict[str, Any]
    created_at: UtcDatetime
    read: bool

    @classmethod
    def from_view(cls, view: NotificationView) -> NotificationPublic:
        """Build from a bank view."""
        return cls(
            id=view.id,
            kind=view.kind,
            subject=view.subject,
            details=dict(view.details),
            created_at=view.created_at,
            read=view.read,
        )


class InboxPublic(BaseModel):
    """The caller's notifications, newest first, and how many are unread."""

    data: list[NotificationPublic]
    unread: int


class InboxRead(BaseModel):
    """Which notifications to mark read; leave ``ids`` out to mark them all."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=1000)


class InboxReadPublic(BaseModel):
    """How many notifications were marked read and how many remain unread."""

    marked: int
    unread: int


# -- audit --------------------------------------------------------------------------------------


class AuditEventPublic(BaseModel):
    """One event of the audit trail."""

    seq: int = Field(description="Position in the hash chain.")
    at: UtcDatetime
    actor: str
    entity: str
    entity_id: int
    action: str
    version: int
    changes: dict[str, Any]
    hash: str = Field(description="SHA-256 of the event and its predecessor's hash.")

    @classmethod
    def from_view(cls, view: AuditEvent) -> AuditEventPublic:
        """Build from a bank view."""
        return cls(
            seq=view.seq,
            at=view.at,
            actor=view.actor,
            entity=view.entity,
            entity_id=view.entity_id,
            action=view.action,
            version=view.version,
            changes=dict(view.changes),
            hash=view.hash,
        )


class AuditEventsPublic(BaseModel):
    """One page of the filtered audit trail, newest first, with the total."""

    data: list[AuditEventPublic]
    count: int = Field(description="How many events match in all.")
    offset: int
    limit: int


class AuditProblemPublic(BaseModel):
    """A break in the hash chain."""

    seq: int
    kind: str = Field(description="edited, deleted or relinked")
    detail: str


class AuditReportPublic(BaseModel):
    """The result of walking the whole hash chain of the audit trail."""

    events: int
    head: str = Field(description="Hash of the newest event.")
    ok: bool = Field(description="No event was edited, deleted or reordered.")
    problems: list[AuditProblemPublic]

    @classmethod
    def from_view(cls, report: AuditReport) -> AuditReportPublic:
        """Build from a bank view."""
        return cls(
            events=report.events,
            head=report.head,
            ok=report.ok,
            problems=[
                AuditProblemPublic(seq=p.seq, kind=p.kind, detail=p.detail) for p in report.problems
            ],
        )


# -- viability statement ------------------------------------------------------------------------


class ViabilityStatementPublic(BaseModel):
    """The facts of a viability statement (Budapest Treaty Rule 10.2, form BP/9)."""

    accession: str
    taxon_name: str
    deposit_type: str
    depositor: str
    deposited_on: dt.date
    patent_reference: str
    sample: str | None = Field(description="The sample of the latest viability test.")
    tested_on: dt.date | None
    viable: bool | None
    cfu_per_ml: float | None
    test_note: str
    keep_until: dt.date | None = Field(description="For a patent deposit (Rule 9.1).")
    last_request_on: dt.date | None
    issued_on: dt.date
    issued_by: str

    @classmethod
    def from_view(cls, view: ViabilityStatement) -> ViabilityStatementPublic:
        """Build from a bank view."""
        return cls(
            accession=view.accession,
            taxon_name=view.taxon_name,
            deposit_type=view.deposit_type,
            depositor=view.depositor,
            deposited_on=view.deposited_on,
            patent_reference=view.patent_reference,
            sample=view.sample,
            tested_on=view.tested_on,
            viable=view.viable,
            cfu_per_ml=view.cfu_per_ml,
            test_note=view.test_note,
            keep_until=view.keep_until,
            last_request_on=view.last_request_on,
            issued_on=view.issued_on,
            issued_by=view.issued_by,
        )
