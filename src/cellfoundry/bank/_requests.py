"""Requests for material: ask, decide (licence and fee), ship; fees per organisation.

A member asks for a strain or plasmid, a curator decides and ships vials from a sample.

A request may be made before any sample exists; the curator then propagates the
strain and ships later. Shipping a strain under a patent deposit records the
request date, which moves the deposit's keep-until date (Budapest Treaty Rule 9.1:
five years after the most recent request).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import _append_history, notify
from cellfoundry.bank.db import (
    Deposit,
    MaterialRequest,
    Organisation,
    Plasmid,
    Sample,
    SequenceRow,
    Strain,
    User,
    utcnow,
)
from cellfoundry.bank.policy import Viewer, require_privileged, visible_or_true
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError

Licence = Literal["open licence", "academic MTA", "commercial licence"]
LICENCES: tuple[str, ...] = get_args(Licence)
DECIDERS = ("curator", "administrator")
MAX_VIALS = 1000
#: The largest fee, in minor units (it must fit a 32-bit column): 20 million.
MAX_FEE_CENTS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class RequestView(_View):
    """A material request and where it stands."""

    id: int
    requester: str
    organisation: str | None
    item: str
    kind: str
    vials: int
    purpose: str
    status: str
    requested_at: dt.datetime
    sample_available: bool
    licence: str | None
    fee_cents: int
    currency: str
    decided_by: str | None
    shipped_at: dt.datetime | None
    item_owner: str | None = None


class RequestsMixin(BankBase):
    """Request, decide, ship; the fee account of an organisation."""

    def request_material(
        self,
        username: str,
        *,
        strain: str | None = None,
        plasmid: str | None = None,
        vials: int = 1,
        purpose: str = "",
    ) -> RequestView:
        """File a request for vials of a strain or a plasmid (a sample need not exist yet).

        The requester must be able to see the material; a curator may file for anyone.
        """
        if not self.viewer.privileged and not self.viewer.signed_in:
            raise ForbiddenError("sign in to request material")
        if (strain is None) == (plasmid is None):
            raise ValidationError("a request names one strain or one plasmid", field="strain")
        if not 1 <= vials <= MAX_VIALS:
            raise ValidationError(f"between 1 and {MAX_VIALS} vials", field="vials")
        with self._tx() as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFoundError("user", username)
            if not self.viewer.privileged and user.id != self.viewer.user_id:
                raise ForbiddenError("you can only file requests in your own name")
            if user.role == "guest":
                raise ForbiddenError("guests cannot request material; ask for a member account")
            req = MaterialRequest(requester_id=user.id, vials=vials, purpose=purpose)
            who = viewer_of(user)
            if strain is not None:
                req.strain_id = _id_of(
                    s,
                    select(Strain.id).where(Strain.accession == strain, visible_or_true(who)),
                    "strain",
                    strain,
                )
            else:
                name = str(plasmid)
                req.plasmid_id = _id_of(
                    s,
                    select(Plasmid.id)
                    .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                    .where(Plasmid.name == name, visible_or_true(who, SequenceRow)),
                    "plasmid",
                    name,
                )
            s.add(req)
            s.flush()
            _append_history(s, _event(req, 1, "request", username, {"vials": vials}))
            rid = req.id
        return self.get_request(rid)

    def decide_request(
        self,
        request_id: int,
        *,
        approver: str,
        approve: bool,
        licence: str | None = None,
        fee_cents: int = 0,
        currency: str = "CNY",
        note: str = "",
    ) -> RequestView:
        """Approve (with the material transfer terms) or decline a pending request.

        The owner of the material, a curator or an administrator decides; the
        requester is notified.
        """
        if not (self.viewer.privileged or self.viewer.username == approver):
            raise ForbiddenError("you can only decide in your own name")
        if approve and licence not in LICENCES:
            raise ValidationError(f"choose a licence: {LICENCES}", field="licence")
        if approve and licence == "commercial licence" and fee_cents <= 0:
            raise ValidationError("a commercial licence needs a fee", field="fee_cents")
        if not 0 <= fee_cents <= MAX_FEE_CENTS:
            raise ValidationError(
                f"a fee is between 0 and {MAX_FEE_CENTS // 100:,}", field="fee_cents"
            )
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValidationError(
                "a currency is an ISO 4217 code such as CNY", record=currency, field="currency"
            )
        with self._tx() as s:
            req = self._visible_request(s, request_id)
            decider = s.scalars(select(User).where(User.username == approver)).first()
            if decider is None or not (
                decider.role in DECIDERS or _item_owner(s, req) == decider.id
            ):
                raise ForbiddenError(
                    "only the owner of the material, a curator or an administrator decides"
                )
            if req.status != "pending":
                raise ConflictError(f"the request is already {req.status}", field="status")
            req.status = "approved" if approve else "declined"
            req.decided_by, req.decided_at, req.note = approver, utcnow(), note
            if approve:
                req.licence, req.fee_cents, req.currency = licence, fee_cents, currency
            _append_history(
                s,
                _event(req, 2, req.status, approver, {"licence": licence, "fee_cents": fee_cents}),
            )
            item = _item_name(s, req)
            notify(
                s,
                req.requester_id,
                "request",
                f"request {req.id} for {item} {req.status}",
                {"request": req.id, "status": req.status, "licence": licence, "item": item},
            )
        return self.get_request(request_id)

    def ship_request(self, request_id: int, *, sample: str, actor: str) -> RequestView:
        """Ship an approved request from a sample, taking its vials from the stock.

        Shipping a patent deposit is a release: its depositor is notified.
        """
        require_privileged(self.viewer, "ship material")
        with self._tx() as s:
            req = _request(s, request_id)
            if req.status != "approved":
                raise ConflictError(
                    f"only an approved request ships (it is {req.status})", field="status"
                )
            row = s.scalars(select(Sample).where(Sample.label == sample)).first()
            if row is None:
                raise NotFoundError("sample", sample)
            if (row.strain_id, row.plasmid_id) != (req.strain_id, req.plasmid_id):
                raise ValidationError(
                    "the sample holds other material", record=sample, field="sample"
                )
            if row.vials < req.vials:
                raise ConflictError(
                    f"the sample has {row.vials} vials, the request needs {req.vials}",
                    record=sample,
                    field="vials",
                )
            row.vials -= req.vials
            row.version += 1
            req.status, req.sample_id, req.shipped_at = "shipped", row.id, utcnow()
            if req.strain_id is not None:
                deposit = s.scalars(
                    select(Deposit).where(Deposit.strain_id == req.strain_id)
                ).first()
                if deposit is not None and deposit.deposit_type == "patent":
                    deposit.last_request_on = req.requested_at.date()
                    owner = _item_owner(s, req)
                    if owner is not None:
                        item = _item_name(s, req)
                        notify(
                            s,
                            owner,
                            "release",
                            f"a sample of your patent deposit {item} was released",
                            {"request": req.id, "item": item, "vials": req.vials},
                        )
            notify(
                s,
                req.requester_id,
                "request",
                f"request {req.id} shipped",
                {"request": req.id, "status": "shipped", "item": _item_name(s, req)},
            )
            _append_history(
                s, _event(req, 3, "ship", actor, {"sample": sample, "vials": req.vials})
            )
        return self.get_request(request_id)

    def get_request(self, request_id: int) -> RequestView:
        """Return one request (the requester's, on the viewer's material, or any for curators)."""
        with self._tx() as s:
            return _view(s, self._visible_request(s, request_id))

    def _visible_request(self, s: Session, request_id: int) -> MaterialRequest:
        req = _request(s, request_id)
        viewer = self.viewer
        if viewer.privileged or (
            viewer.user_id is not None and viewer.user_id in (req.requester_id, _item_owner(s, req))
        ):
            return req
        raise NotFoundError("request", str(request_id))

    def list_requests(self, *, status: str | None = None) -> tuple[RequestView, ...]:
        """Return the requests the viewer may see, oldest first, optionally of one status.

        A curator sees every request; anyone else their own and those for material they own.
        """
        viewer = self.viewer
        with self._tx() as s:
            stmt = select(MaterialRequest).order_by(MaterialRequest.id)
            if status is not None:
                stmt = stmt.where(MaterialRequest.status == status)
            if not viewer.privileged:
                uid = viewer.user_id if viewer.user_id is not None else -1
                owned_strains = select(Strain.id).where(Strain.owner_id == uid)
                owned_plasmids = (
                    select(Plasmid.id)
                    .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                    .where(SequenceRow.owner_id == uid)
                )
                stmt = stmt.where(
                    or_(
                        MaterialRequest.requester_id == uid,
                        MaterialRequest.strain_id.in_(owned_strains),
                        MaterialRequest.plasmid_id.in_(owned_plasmids),
                    )
                )
            return tuple(_view(s, r) for r in s.scalars(stmt))

    def fee_accounts(self) -> tuple[FeeAccount, ...]:
        """Return the fees owed per organisation and currency (approved and shipped requests).

        Curators see every organisation; anyone else only their own.
        """
        totals: dict[tuple[str, str], list[int]] = {}
        for r in self.list_requests():
            if r.status not in ("approved", "shipped") or r.organisation is None:
                continue
            if not self.viewer.privileged and r.organisation != self._organisation_name():
                continue
            entry = totals.setdefault((r.organisation, r.currency), [0, 0])
            entry[0] += 1
            entry[1] += r.fee_cents
        return tuple(
            FeeAccount(org, currency, n, cents)
            for (org, currency), (n, cents) in sorted(totals.items())
        )

    def _organisation_name(self) -> str | None:
        if self.viewer.organisation_id is None:
            return None
        with self._tx() as s:
            return s.scalars(
                select(Organisation.name).where(Organisation.id == self.viewer.organisation_id)
            ).first()

    def fee_account_csv(self, organisation: str) -> str:
        """Return an organisation's fees (approved and shipped requests) as CSV.

        Curators may export any organisation's account, members only their own.
        """
        if not self.viewer.privileged and organisation != self._organisation_name():
            raise ForbiddenError("you can only export your own organisation's fee account")
        with self._tx() as s:
            if (
                s.scalars(select(Organisation.id).where(Organisation.name == organisation)).first()
                is None
            ):
                raise NotFoundError("organisation", organisation)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["request", "requested_at", "requester", "item", "licence", "fee", "currency", "status"]
        )
        total: dict[str, int] = {}
        for r in self.list_requests():
            if r.organisation != organisation or r.status not in ("approved", "shipped"):
                continue
            writer.writerow(
                [r.id, r.requested_at.date().isoformat(), r.requester, r.item, r.licence,
                 f"{r.fee_cents / 100:.2f}", r.currency, r.status]
            )  # fmt: skip
            total[r.currency] = total.get(r.currency, 0) + r.fee_cents
        for currency, cents in sorted(total.items()):
            writer.writerow(["total", "", "", "", "", f"{cents / 100:.2f}", currency, ""])
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class FeeAccount(_View):
    """What one organisation owes in one currency."""

    organisation: str
    currency: str
    requests: int
    fee_cents: int


def _id_of(s: Session, stmt: Select[Any], kind: str, name: str) -> int:
    found = s.scalars(stmt).first()
    if found is None:
        raise NotFoundError(kind, name)
    return int(found)


def _item_owner(s: Session, req: MaterialRequest) -> int | None:
    if req.strain_id is not None:
        return s.scalars(select(Strain.owner_id).where(Strain.id == req.strain_id)).first()
    return s.scalars(
        select(SequenceRow.owner_id)
        .join(Plasmid, Plasmid.sequence_id == SequenceRow.id)
        .where(Plasmid.id == req.plasmid_id)
    ).first()


def _item_name(s: Session, req: MaterialRequest) -> str:
    if req.strain_id is not None:
        return str(s.scalars(select(Strain.accession).where(Strain.id == req.strain_id)).one())
    return str(s.scalars(select(Plasmid.name).where(Plasmid.id == req.plasmid_id)).one())


def _request(s: Session, request_id: int) -> MaterialRequest:
    req = s.get(MaterialRequest, request_id)
    if req is None:
        raise NotFoundError("request", str(request_id))
    return req


def _event(
    req: MaterialRequest, version: int, action: str, actor: str, changes: dict[str, object]
) -> dict[str, object]:
    return {
        "entity": "request",
        "entity_id": req.id,
        "version": version,
        "action": action,
        "actor": actor,
        "changes": changes,
    }


def _view(s: Session, req: MaterialRequest) -> RequestView:
    user, org = s.execute(
        select(User, Organisation.name)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == req.requester_id)
    ).one()
    if req.strain_id is not None:
        item, kind = s.get(Strain, req.strain_id).accession, "strain"  # type: ignore[union-attr]
        available = s.scalars(
            select(Sample.id).where(Sample.strain_id == req.strain_id, Sample.vials > 0)
        ).first()
    else:
        item, kind = s.get(Plasmid, req.plasmid_id).name, "plasmid"  # type: ignore[union-attr]
        available = s.scalars(
            select(Sample.id).where(Sample.plasmid_id == req.plasmid_id, Sample.vials > 0)
        ).first()
    return RequestView(
        id=req.id, requester=user.username, organisation=org, item=item, kind=kind,
        vials=req.vials, purpose=req.purpose, status=req.status, requested_at=req.requested_at,
        sample_available=available is not None, licence=req.licence, fee_cents=req.fee_cents,
        currency=req.currency, decided_by=req.decided_by, shipped_at=req.shipped_at,
        item_owner=_username_of(s, _item_owner(s, req)),
    )  # fmt: skip


def _username_of(s: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return s.scalars(select(User.username).where(User.id == user_id)).first()


def viewer_of(user: User) -> Viewer:
    """Return the :class:`~cellfoundry.bank.policy.Viewer` an account acts as."""
    return Viewer(user.username, user.role, user.id, user.organisation_id)
