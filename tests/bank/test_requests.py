"""Material requests on both databases: request before stock, decide, ship, fees, patent dates."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, ForbiddenError, ValidationError

PW = "a long enough password"


def setup(bank: Bank) -> str:
    bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="c")
    bank.create_user("curator", PW, role="curator", organisation="BJCC", actor="admin")
    bank.create_user("li.lab", PW, role="member", organisation="Tsinghua Lab", actor="admin")
    bank.create_user("guest", PW, role="guest", actor="admin")
    bank.deposit(
        "CF-1",
        deposit_type="patent",
        depositor="ACME",
        deposited_on=dt.date(2000, 1, 1),
        depositor_statement="Rule 6.1",
        actor="c",
    )
    # a patent deposit is secret: the lab may request it once a patent office certifies it
    bank.grant_access(
        strain="CF-1",
        user="li.lab",
        basis="patent office certification",
        reference="CNIPA 2026-123",
        actor="c",
    )
    return bank.add_box("Beijing", "F-01", "R1", "B1")


def test_request_before_stock_then_ship(bank: Bank) -> None:
    box = setup(bank)
    req = bank.request_material("li.lab", strain="CF-1", vials=2, purpose="succinate study")
    assert req.status == "pending"
    assert req.sample_available is False  # the curator must propagate first
    approved = bank.decide_request(
        req.id, approver="curator", approve=True, licence="commercial licence", fee_cents=120000
    )
    assert (approved.status, approved.licence, approved.fee_cents) == (
        "approved",
        "commercial licence",
        120000,
    )
    bank.add_sample(
        "S1", box=box, position="A1", preservation="lyophilised", vials=3, strain="CF-1", actor="c"
    )
    assert bank.get_request(req.id).sample_available
    shipped = bank.ship_request(req.id, sample="S1", actor="curator")
    assert shipped.status == "shipped"
    assert bank.get_sample("S1").vials == 1
    # a patent deposit is kept five years after the last request (Rule 9.1)
    deposit = bank.get_strain("CF-1").deposit
    assert deposit is not None
    assert deposit.last_request_on == shipped.requested_at.date()
    assert deposit.keep_until == max(
        dt.date(2030, 1, 1), deposit.last_request_on.replace(year=deposit.last_request_on.year + 5)
    )
    with pytest.raises(ConflictError, match=r"only an approved request ships \(it is shipped\)"):
        bank.ship_request(req.id, sample="S1", actor="curator")
    assert bank.verify_audit().ok


def test_rules_of_decision_and_shipment(bank: Bank) -> None:
    box = setup(bank)
    bank.add_sample(
        "S1", box=box, position="A1", preservation="lyophilised", vials=1, strain="CF-1", actor="c"
    )
    with pytest.raises(ForbiddenError):
        bank.request_material("guest", strain="CF-1")
    req = bank.request_material("li.lab", strain="CF-1", vials=2)
    with pytest.raises(ForbiddenError):
        bank.decide_request(req.id, approver="li.lab", approve=True, licence="open licence")
    with pytest.raises(ValidationError, match="field 'fee_cents'"):
        bank.decide_request(req.id, approver="curator", approve=True, licence="commercial licence")
    with pytest.raises(ValidationError, match="field 'licence'"):
        bank.decide_request(req.id, approver="curator", approve=True)
    bank.decide_request(req.id, approver="curator", approve=True, licence="academic MTA")
    with pytest.raises(ConflictError, match="field 'vials': the sample has 1 vials"):
        bank.ship_request(req.id, sample="S1", actor="curator")
    assert bank.get_sample("S1").vials == 1
    declined = bank.decide_request(
        bank.request_material("li.lab", strain="CF-1").id, approver="curator", approve=False
    )
    assert declined.status == "declined"
    with pytest.raises(ConflictError, match="already declined"):
        bank.decide_request(declined.id, approver="curator", approve=True, licence="open licence")


def test_fee_account_csv(bank: Bank) -> None:
    setup(bank)
    for fee in (50000, 70050):
        r = bank.request_material("li.lab", strain="CF-1")
        bank.decide_request(
            r.id, approver="curator", approve=True, licence="commercial licence", fee_cents=fee
        )
    free = bank.request_material("li.lab", strain="CF-1")
    bank.decide_request(free.id, approver="curator", approve=True, licence="open licence")
    rows = list(csv.reader(io.StringIO(bank.fee_account_csv("Tsinghua Lab"))))
    assert rows[0][:3] == ["request", "requested_at", "requester"]
    assert [r[5] for r in rows[1:4]] == ["500.00", "700.50", "0.00"]
    assert rows[-1] == ["total", "", "", "", "", "1200.50", "CNY", ""]
    assert list(csv.reader(io.StringIO(bank.fee_account_csv("BJCC"))))[1:] == []
