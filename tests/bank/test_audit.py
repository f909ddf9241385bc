"""The audit chain detects edited, deleted and reordered history events, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.cli.main import app


def busy_bank(bank: Bank) -> None:
    bank.import_strains(
        [
            StrainRecord("CF-1", "Escherichia coli K-12 MG1655"),
            StrainRecord(
                "CF-2",
                "Escherichia coli ΔldhA",
                parent_accession="CF-1",
                modifications=(Modification("deletion", "ldhA"),),
            ),
        ],
        actor="alice",
    )
    bank.update_strain("CF-1", {"risk_group": 2, "growth_temperature_c": 37.5}, actor="bob")
    box = bank.add_box("Beijing", "F-01", "R1", "B1")
    bank.add_sample(
        "S1", box=box, position="A1", preservation="lyophilised", strain="CF-1", actor="c"
    )
    bank.move_sample("S1", box=box, position="B2", actor="c")
    bank.deposit(
        "CF-2",
        deposit_type="patent",
        depositor="ACME",
        deposited_on=dt.date(2024, 5, 1),
        depositor_statement="Rule 6.1",
        actor="d",
    )


def test_intact_chain_verifies(bank: Bank) -> None:
    busy_bank(bank)
    report = bank.verify_audit()
    assert report.ok
    assert report.events == 6
    # the chain is linear: sequence 1..n, each event names its predecessor's hash
    with bank.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT seq, prev_hash, hash FROM history ORDER BY seq")).all()
    assert [r[0] for r in rows] == list(range(1, 7))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))


def test_edited_event_is_detected(bank: Bank) -> None:
    busy_bank(bank)
    with bank.engine.begin() as conn:
        conn.execute(sa.text("UPDATE history SET actor = 'mallory' WHERE seq = 3"))
    report = bank.verify_audit()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "edited")]


def test_edited_changes_are_detected(bank: Bank) -> None:
    busy_bank(bank)
    with bank.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE history SET changes = :c WHERE seq = 3"),
            {"c": json.dumps({"risk_group": [1, 1]})},
        )
    assert [(p.seq, p.kind) for p in bank.verify_audit().problems] == [(3, "edited")]


def test_deleted_event_is_detected(bank: Bank) -> None:
    busy_bank(bank)
    with bank.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM history WHERE seq = 4"))
    kinds = {(p.seq, p.kind) for p in bank.verify_audit().problems}
    assert kinds == {(5, "deleted"), (5, "relinked")}


def test_reordered_events_are_detected(bank: Bank) -> None:
    busy_bank(bank)
    with bank.engine.begin() as conn:
        conn.execute(sa.text("UPDATE history SET seq = -1 WHERE seq = 2"))
        conn.execute(sa.text("UPDATE history SET seq = 2 WHERE seq = 5"))
        conn.execute(sa.text("UPDATE history SET seq = 5 WHERE seq = -1"))
    problems = bank.verify_audit().problems
    assert {p.seq for p in problems} >= {2, 5}
    assert {p.kind for p in problems} == {"edited", "relinked"}


def test_a_forger_who_rehashes_one_event_still_breaks_the_chain(bank: Bank) -> None:
    from sqlalchemy.orm import Session

    from cellfoundry.bank._rows import event_hash
    from cellfoundry.bank.db import HistoryEvent

    busy_bank(bank)
    with Session(bank.engine) as session, session.begin():
        row = session.scalars(sa.select(HistoryEvent).where(HistoryEvent.seq == 3)).one()
        row.actor = "mallory"
        row.hash = event_hash(
            row.prev_hash,
            {
                "seq": row.seq,
                "entity": row.entity,
                "entity_id": row.entity_id,
                "version": row.version,
                "action": row.action,
                "actor": row.actor,
                "at": row.at,
                "changes": row.changes,
            },
        )
    assert [(p.seq, p.kind) for p in bank.verify_audit().problems] == [(4, "relinked")]


def test_cli_audit_verify(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    bank = Bank.open(db)
    busy_bank(bank)
    bank.close()
    runner = CliRunner()
    ok = runner.invoke(app, ["--db", db, "audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["events"] == 6
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE history SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    bad = runner.invoke(app, ["--db", db, "audit", "verify"])
    assert bad.exit_code == 1
    assert "event 2: edited" in bad.output
