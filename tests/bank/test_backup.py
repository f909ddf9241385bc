"""Backup and restore: a restored bank equals the original, table by table, on both databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cellfoundry.bank.services import Bank
from cellfoundry.cli.main import app
from cellfoundry.core.errors import ConflictError, ValidationError

from .test_audit import busy_bank
from .test_services import snapshot


def empty_target(bank: Bank, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if bank.dialect == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    admin = request.getfixturevalue("postgres_admin_url")
    name = f"cf_restore_{os.getpid()}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    request.addfinalizer(lambda: _drop(admin, name))
    return sa.make_url(admin).set(database=name).render_as_string(hide_password=False)


def _drop(admin: str, name: str) -> None:
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def test_backup_restores_every_table(
    bank: Bank, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    busy_bank(bank)
    path = bank.backup(tmp_path / "bank.backup")
    with pytest.raises(ConflictError, match="exists already"):
        bank.backup(path)
    target = empty_target(bank, request, tmp_path)
    restored = Bank.restore(target, path)
    try:
        assert snapshot(restored) == snapshot(bank)
        assert restored.verify_audit().ok
        assert restored.verify_audit().events == bank.verify_audit().events
        # reading the (private) patent deposit is itself an audited event
        assert restored.get_strain("CF-2").deposit is not None
        # the restored bank works: writes continue the same audit chain
        restored.update_strain("CF-1", {"growth_medium": "LB"}, actor="after-restore")
        assert restored.verify_audit().events == bank.verify_audit().events + 2
        with pytest.raises(ConflictError, match="not empty"):
            Bank.restore(target, path)
    finally:
        restored.close()


def test_damaged_backup_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(ValidationError, match=r"bad\.backup"):
        Bank.restore(f"sqlite:///{tmp_path / 'r.db'}", bad)


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    bank = Bank.open(db)
    busy_bank(bank)
    bank.close()
    runner = CliRunner()
    out = runner.invoke(app, ["--db", db, "bank", "backup", str(tmp_path / "a.backup")])
    assert out.exit_code == 0, out.output
    restored = runner.invoke(
        app,
        ["--db", f"sqlite:///{tmp_path / 'b.db'}", "bank", "restore", str(tmp_path / "a.backup")],
    )
    assert restored.exit_code == 0, restored.output
    assert "restored 2 strains" in restored.output
    assert "audit chain intact (6 events)" in restored.output
