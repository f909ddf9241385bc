"""Fixtures shared by the whole suite: the shared data folder and a bank on each database.

``bank`` is parametrised over SQLite and PostgreSQL. PostgreSQL runs when
``CELLFOUNDRY_TEST_POSTGRES_URL`` names a server (``make test`` starts one); without it
those cases skip, unless ``CELLFOUNDRY_REQUIRE_POSTGRES=1`` (CI), where they fail.
Each test gets a database of its own, cloned from a migrated template.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cellfoundry.bank.services import Bank

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()

# one cache of compiled data (the BiGG universe, ~30 s to compile) for the whole session and
# for the job workers and servers the tests start, which inherit the environment
if "CELLFOUNDRY_CACHE" not in os.environ:
    os.environ["CELLFOUNDRY_CACHE"] = tempfile.mkdtemp(prefix="cellfoundry-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CELLFOUNDRY_CACHE"], True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    Bank.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("CELLFOUNDRY_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CELLFOUNDRY_REQUIRE_POSTGRES") == "1":
            pytest.fail("CELLFOUNDRY_REQUIRE_POSTGRES=1 but CELLFOUNDRY_TEST_POSTGRES_URL is unset")
        pytest.skip("no PostgreSQL server (set CELLFOUNDRY_TEST_POSTGRES_URL)")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS cf_template"))
        conn.execute(sa.text("CREATE DATABASE cf_template"))
    engine.dispose()
    template = Bank.open(_with_db(url, "cf_template"))
    template.close()
    return url


def _with_db(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def make_bank(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bank]:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "bank.db"
        shutil.copy(template, path)
        bank = Bank.open(f"sqlite:///{path}")
        yield bank
        bank.close()
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"cf_test_{os.getpid()}_{next(_counter)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE cf_template"))
    bank = Bank.open(_with_db(admin_url, name))
    try:
        yield bank
    finally:
        bank.close()
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bank]:
    """A fresh, migrated bank on SQLite and on PostgreSQL."""
    yield from make_bank(request.param, request, tmp_path)


@pytest.fixture
def sqlite_bank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bank]:
    """A fresh, migrated bank on SQLite only (for tests of interfaces)."""
    yield from make_bank("sqlite", request, tmp_path)
