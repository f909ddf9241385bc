"""A bulk import killed with SIGKILL halfway leaves the bank consistent, and can be re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cellfoundry.bank import formats
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank

from .test_backup import empty_target

N = 20_000


def write_catalogue(path: Path) -> Path:
    formats.write_catalogue(
        [StrainRecord(f"K{i:06d}", f"Escherichia coli K-12 isolate {i}") for i in range(N)], path
    )
    return path


@pytest.mark.slow
def test_sigkill_during_import_leaves_bank_consistent(
    bank: Bank, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = empty_target(bank, request, tmp_path)
    target = Bank.open(url)
    target.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="t")
    before = target.counts()
    target.close()
    catalogue = write_catalogue(tmp_path / "big.csv")
    cmd = [
        sys.executable,
        "-m",
        "cellfoundry.cli.main",
        "--db",
        url,
        "bank",
        "import",
        str(catalogue),
        "--kind",
        "strain",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill it while the import transaction is open: wait until the database sees writes
    engine = sa.create_engine(url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            if bank.dialect == "postgresql":
                with engine.connect() as conn:
                    busy = conn.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND state <> 'idle' AND query ILIKE '%strains%' AND pid <> pg_backend_pid()"
                        )
                    ).scalar_one()
                if busy:
                    break
            elif (
                Path(url.removeprefix("sqlite:///") + "-wal").exists()
                and Path(url.removeprefix("sqlite:///") + "-wal").stat().st_size > 200_000
            ):
                break
        assert proc.poll() is None, "the import finished before it could be killed; raise N"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        engine.dispose()
        if proc.poll() is None:
            proc.kill()
    reopened = Bank.open(url)
    try:
        assert reopened.counts() == before
        assert reopened.verify_audit().ok
        # the same import runs to the end afterwards
        report = reopened.import_strains(
            formats.read_catalogue(catalogue), actor="t", source=str(catalogue)
        )
        assert report.strains == N
        assert reopened.counts().strains == before.strains + N
        assert reopened.verify_audit().ok
    finally:
        reopened.close()
