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
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import _append_history
from cellfoundry.bank.db import (
    Deposit,
    MaterialRequest,
    Organisation,
    Plasmid,
    Sample,
    Strain,
    User,
    utcnow,
)
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError

Licence = Literal["open licence", "academic MTA", "commercial licence"]
LICENCES: tuple[str, ...] = get_args(Licence)
DECIDERS = ("curator", "administrator")


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
        """File a request for vials of a strain or a plasmid (a sample need not exist yet)."""
        if (strain is None) == (plasmid is None):
            raise ValidationError("a request names one strain or one plasmid", field="strain")
        if vials < 1:
            raise ValidationError("at least one vial", field="vials")
        with self._tx() as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFoundError("user", username)
            if user.role == "guest":
                raise ForbiddenError("guests cannot request material; ask for a member account")
            req = MaterialRequest(requester_id=user.id, vials=vials, purpose=purpose)
            if strain is not None:
                req.strain_id = _id_of(s, Strain, Strain.accession == strain, "strain", strain)
            else:
                name = str(plasmid)
                req.plasmid_id = _id_of(s, Plasmid, Plasmid.name == name, "plasmid", name)
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
        """Approve (with the material transfer terms) or decline a pending request."""
        if approve and licence not in LICENCES:
            raise ValidationError(f"choose a licence: {LICENCES}", field="licence")
        if approve and licence == "commercial licence" and fee_cents <= 0:
            raise ValidationError("a commercial licence needs a fee", field="fee_cents")
        if fee_cents < 0:
            raise ValidationError("a fee cannot be negative", field="fee_cents")
        with self._tx() as s:
            req = _request(s, request_id)
            role = s.scalars(select(User.role).where(User.username == approver)).first()
            if role not in DECIDERS:
                raise ForbiddenError("only a curator or administrator decides on requests")
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
        return self.get_request(request_id)

    def ship_request(self, request_id: int, *, sample: str, actor: str) -> RequestView:
        """Ship an approved request from a sample, taking its vials from the stock."""
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
            _append_history(
                s, _event(req, 3, "ship", actor, {"sample": sample, "vials": req.vials})
            )
        return self.get_request(request_id)

    def get_request(self, request_id: int) -> RequestView:
        """Return one request."""
        with self._tx() as s:
            return _view(s, _request(s, request_id))

    def list_requests(self, *, status: str | None = None) -> tuple[RequestView, ...]:
        """Return requests, oldest first, optionally of one status."""
        with self._tx() as s:
            stmt = select(MaterialRequest).order_by(MaterialRequest.id)
            if status is not None:
                stmt = stmt.where(MaterialRequest.status == status)
            return tuple(_view(s, r) for r in s.scalars(stmt))

    def fee_account_csv(self, organisation: str) -> str:
        """Return an organisation's fees (approved and shipped requests) as CSV."""
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


def _id_of(
    s: Session, model: type[Strain] | type[Plasmid], key: ColumnElement[bool], kind: str, name: str
) -> int:
    found = s.scalars(select(model.id).where(key)).first()
    if found is None:
        raise NotFoundError(kind, name)
    return int(found)


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
    )  # fmt: skip
