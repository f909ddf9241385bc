"""Sharing restricted entries: releases (access grants), the inbox, the audit browser.

A release gives one user or organisation sight of one private entry. For a
patent deposit it needs a basis of the Budapest Treaty (Rule 11: the depositor's
authorisation, or a patent office's certification that the party is entitled),
it is recorded in the audit trail, and the depositor is notified in their inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import _append_history, notify
from cellfoundry.bank.db import (
    AccessGrant,
    Deposit,
    HistoryEvent,
    Notification,
    Organisation,
    Plasmid,
    Sample,
    SequenceRow,
    Strain,
    User,
    ViabilityTest,
    utcnow,
)
from cellfoundry.bank.models import PatentDates
from cellfoundry.bank.policy import require_edit, require_privileged, visible_or_true
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError

#: Why an entry was released. The last three are the Budapest Treaty's grounds (Rule 11).
GRANT_BASES = (
    "sharing",
    "depositor authorisation",
    "patent office certification",
    "industrial property office",
)


@dataclass(frozen=True, slots=True)
class GrantView(_View):
    """One release of a restricted entry."""

    id: int
    entry: str
    kind: str
    grantee: str
    grantee_kind: str
    basis: str
    reference: str
    granted_by: str
    granted_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NotificationView(_View):
    """A message in a user's inbox."""

    id: int
    kind: str
    subject: str
    details: dict[str, Any]
    created_at: dt.datetime
    read: bool


@dataclass(frozen=True, slots=True)
class AuditEvent(_View):
    """One event of the audit trail as the audit browser shows it."""

    seq: int
    at: dt.datetime
    actor: str
    entity: str
    entity_id: int
    action: str
    version: int
    changes: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class ViabilityStatement(_View):
    """The facts of a viability statement (Budapest Treaty Rule 10.2, form BP/9)."""

    accession: str
    taxon_name: str
    deposit_type: str
    depositor: str
    deposited_on: dt.date
    patent_reference: str
    sample: str | None
    tested_on: dt.date | None
    viable: bool | None
    cfu_per_ml: float | None
    test_note: str
    keep_until: dt.date | None
    last_request_on: dt.date | None
    issued_on: dt.date
    issued_by: str


class SharingMixin(BankBase):
    """Releases of restricted entries, the inbox, the audit browser, viability statements."""

    def grant_access(
        self,
        *,
        strain: str | None = None,
        plasmid: str | None = None,
        user: str | None = None,
        organisation: str | None = None,
        basis: str,
        reference: str = "",
        actor: str,
    ) -> GrantView:
        """Release an entry the viewer owns or curates to a user or an organisation."""
        if (strain is None) == (plasmid is None):
            raise ValidationError("a release names one strain or one plasmid", field="strain")
        if (user is None) == (organisation is None):
            raise ValidationError("a release goes to one user or one organisation", field="user")
        if basis not in GRANT_BASES:
            raise ValidationError(f"{basis!r} is not one of {GRANT_BASES}", field="basis")
        viewer = self.viewer
        with self._tx() as s:
            entry, entry_id, owner_id, patent = self._entry(s, strain, plasmid)
            require_edit(viewer, owner_id, "release this entry")
            if patent and basis == "sharing":
                raise ValidationError(
                    "a patent deposit is released only on the depositor's authorisation or a "
                    "patent office's certification (Budapest Treaty Rule 11)",
                    record=entry,
                    field="basis",
                )
            grant = AccessGrant(
                basis=basis, reference=reference, granted_by=actor, granted_at=utcnow()
            )
            if strain is not None:
                grant.strain_id = entry_id
            else:
                grant.sequence_id = entry_id
            if user is not None:
                uid = s.scalars(select(User.id).where(User.username == user)).first()
                if uid is None:
                    raise NotFoundError("user", user)
                grant.user_id = uid
            else:
                oid = s.scalars(
                    select(Organisation.id).where(Organisation.name == organisation)
                ).first()
                if oid is None:
                    raise NotFoundError("organisation", str(organisation))
                grant.organisation_id = oid
            s.add(grant)
            s.flush()
            grantee = user or str(organisation)
            _append_history(
                s,
                {
                    "entity": "strain" if strain is not None else "plasmid",
                    "entity_id": entry_id,
                    "version": 0,
                    "action": "release",
                    "actor": actor,
                    "changes": {"to": grantee, "basis": basis, "reference": reference},
                },
            )
            if owner_id is not None:
                notify(
                    s,
                    owner_id,
                    "release",
                    f"{entry} released to {grantee}",
                    {"entry": entry, "to": grantee, "basis": basis, "by": actor},
                )
            if grant.user_id is not None and grant.user_id != owner_id:
                notify(
                    s,
                    grant.user_id,
                    "access",
                    f"you may now see {entry}",
                    {"entry": entry, "basis": basis},
                )
            return _grant_view(s, grant)

    def revoke_grant(self, grant_id: int, *, actor: str) -> GrantView:
        """Withdraw a release (the entry's owner or a curator)."""
        with self._tx() as s:
            grant = s.get(AccessGrant, grant_id)
            if grant is None:
                raise NotFoundError("release", str(grant_id))
            owner_id = _grant_owner(s, grant)
            if not (self.viewer.privileged or owner_id == self.viewer.user_id):
                raise NotFoundError("release", str(grant_id))
            if grant.revoked_at is not None:
                raise ConflictError("the release is already withdrawn", field="revoked_at")
            grant.revoked_at = utcnow()
            _append_history(
                s,
                {
                    "entity": "strain" if grant.strain_id is not None else "plasmid",
                    "entity_id": grant.strain_id or grant.sequence_id or 0,
                    "version": 0,
                    "action": "withdraw",
                    "actor": actor,
                    "changes": {"release": grant.id},
                },
            )
            return _grant_view(s, grant)

    def list_grants(
        self, *, strain: str | None = None, plasmid: str | None = None
    ) -> tuple[GrantView, ...]:
        """Return the releases of one entry (owner, curators) or of every entry (curators)."""
        with self._tx() as s:
            stmt = select(AccessGrant).order_by(AccessGrant.id)
            if strain is not None or plasmid is not None:
                _, entry_id, owner_id, _ = self._entry(s, strain, plasmid)
                require_edit(self.viewer, owner_id, "see who may see this entry")
                column = AccessGrant.strain_id if strain is not None else AccessGrant.sequence_id
                stmt = stmt.where(column == entry_id)
            else:
                require_privileged(self.viewer, "see every release")
            return tuple(_grant_view(s, g) for g in s.scalars(stmt))

    def _entry(
        self, s: Session, strain: str | None, plasmid: str | None
    ) -> tuple[str, int, int | None, bool]:
        """Return (name, id, owner id, is a patent deposit) of a visible strain or plasmid."""
        if strain is not None:
            row = s.execute(
                select(Strain.id, Strain.owner_id, Strain.deposit_type).where(
                    Strain.accession == strain, visible_or_true(self.viewer)
                )
            ).first()
            if row is None:
                raise NotFoundError("strain", strain)
            return strain, row[0], row[1], row[2] == "patent"
        name = str(plasmid)
        found = s.execute(
            select(SequenceRow.id, SequenceRow.owner_id)
            .join(Plasmid, Plasmid.sequence_id == SequenceRow.id)
            .where(Plasmid.name == name, visible_or_true(self.viewer, SequenceRow))
        ).first()
        if found is None:
            raise NotFoundError("plasmid", name)
        return name, found[0], found[1], False

    # -- inbox ---------------------------------------------------------------------------------

    def inbox(self, *, unread_only: bool = False, limit: int = 100) -> tuple[NotificationView, ...]:
        """Return the viewer's notifications, newest first."""
        if self.viewer.user_id is None:
            raise ForbiddenError("sign in to see your inbox")
        with self._tx() as s:
            stmt = (
                select(Notification)
                .where(Notification.user_id == self.viewer.user_id)
                .order_by(Notification.id.desc())
                .limit(limit)
            )
            if unread_only:
                stmt = stmt.where(Notification.read_at.is_(None))
            return tuple(
                NotificationView(
                    n.id, n.kind, n.subject, dict(n.details), n.created_at, n.read_at is not None
                )
                for n in s.scalars(stmt)
            )

    def unread_count(self) -> int:
        """Return how many unread notifications the viewer has (0 when not signed in)."""
        if self.viewer.user_id is None:
            return 0
        with self._tx() as s:
            return int(
                s.execute(
                    select(func.count())
                    .select_from(Notification)
                    .where(
                        Notification.user_id == self.viewer.user_id,
                        Notification.read_at.is_(None),
                    )
                ).scalar_one()
            )

    def mark_read(self, ids: list[int] | None = None) -> int:
        """Mark the viewer's notifications (all if ``ids`` is None) read; return how many."""
        if self.viewer.user_id is None:
            raise ForbiddenError("sign in to see your inbox")
        with self._tx() as s:
            stmt = select(Notification).where(
                Notification.user_id == self.viewer.user_id, Notification.read_at.is_(None)
            )
            if ids is not None:
                stmt = stmt.where(Notification.id.in_(ids))
            now, n = utcnow(), 0
            for note in s.scalars(stmt):
                note.read_at, n = now, n + 1
            return n

    # -- audit browser -------------------------------------------------------------------------

    def audit_events(
        self,
        *,
        entity: str = "",
        actor: str = "",
        action: str = "",
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[tuple[AuditEvent, ...], int]:
        """Filter the audit trail (curators and administrators), newest first; and the total."""
        require_privileged(self.viewer, "browse the audit trail")
        conds: list[Any] = []
        if entity:
            conds.append(HistoryEvent.entity == entity)
        if actor:
            conds.append(HistoryEvent.actor == actor)
        if action:
            conds.append(HistoryEvent.action == action)
        if since is not None:
            conds.append(HistoryEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
        if until is not None and until < dt.date.max:
            end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
            conds.append(HistoryEvent.at < end)
        with self._tx() as s:
            total = int(
                s.execute(select(func.count()).select_from(HistoryEvent).where(*conds)).scalar_one()
            )
            rows = s.scalars(
                select(HistoryEvent)
                .where(*conds)
                .order_by(HistoryEvent.seq.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            events = tuple(
                AuditEvent(
                    e.seq,
                    e.at,
                    e.actor,
                    e.entity,
                    e.entity_id,
                    e.action,
                    e.version,
                    dict(e.changes),
                    e.hash,
                )
                for e in rows
            )
        return events, total

    # -- viability statement -------------------------------------------------------------------

    def viability_statement(self, accession: str, *, actor: str) -> ViabilityStatement:
        """Issue a viability statement of a deposited strain from its latest viability test.

        The depositor (the strain's owner) and curators may have one; issuing it is
        recorded in the audit trail.
        """
        with self._tx() as s:
            strain = s.scalars(
                select(Strain).where(Strain.accession == accession, visible_or_true(self.viewer))
            ).first()
            if strain is None:
                raise NotFoundError("strain", accession)
            require_edit(self.viewer, strain.owner_id, "have a viability statement issued")
            dep = s.scalars(select(Deposit).where(Deposit.strain_id == strain.id)).first()
            if dep is None:
                raise ValidationError(
                    "the strain is not deposited", record=accession, field="deposit_type"
                )
            test = s.execute(
                select(ViabilityTest, Sample.label)
                .join(Sample, Sample.id == ViabilityTest.sample_id)
                .where(Sample.strain_id == strain.id)
                .order_by(ViabilityTest.tested_on.desc(), ViabilityTest.id.desc())
                .limit(1)
            ).first()
            keep = (
                PatentDates(dep.deposited_on, dep.last_request_on).keep_until
                if dep.deposit_type == "patent"
                else None
            )
            _append_history(
                s,
                {
                    "entity": "strain",
                    "entity_id": strain.id,
                    "version": strain.version,
                    "action": "statement",
                    "actor": actor,
                    "changes": {"viability_statement": True},
                },
            )
            vt = test[0] if test else None
            return ViabilityStatement(
                accession=accession,
                taxon_name=strain.taxon_name,
                deposit_type=dep.deposit_type,
                depositor=dep.depositor,
                deposited_on=dep.deposited_on,
                patent_reference=dep.patent_reference,
                sample=test[1] if test else None,
                tested_on=vt.tested_on if vt else None,
                viable=vt.viable if vt else None,
                cfu_per_ml=vt.cfu_per_ml if vt else None,
                test_note=vt.note if vt else "",
                keep_until=keep,
                last_request_on=dep.last_request_on,
                issued_on=dt.date.today(),
                issued_by=actor,
            )


def _grant_owner(s: Session, grant: AccessGrant) -> int | None:
    if grant.strain_id is not None:
        return s.scalars(select(Strain.owner_id).where(Strain.id == grant.strain_id)).first()
    return s.scalars(
        select(SequenceRow.owner_id).where(SequenceRow.id == grant.sequence_id)
    ).first()


def _grant_view(s: Session, g: AccessGrant) -> GrantView:
    if g.strain_id is not None:
        entry = s.scalars(select(Strain.accession).where(Strain.id == g.strain_id)).one()
        kind = "strain"
    else:
        entry = s.scalars(select(SequenceRow.name).where(SequenceRow.id == g.sequence_id)).one()
        kind = "plasmid"
    if g.user_id is not None:
        grantee = s.scalars(select(User.username).where(User.id == g.user_id)).one()
        grantee_kind = "user"
    else:
        grantee = s.scalars(
            select(Organisation.name).where(Organisation.id == g.organisation_id)
        ).one()
        grantee_kind = "organisation"
    return GrantView(
        g.id, entry, kind, grantee, grantee_kind, g.basis, g.reference, g.granted_by,
        g.granted_at, g.revoked_at,
    )  # fmt: skip
