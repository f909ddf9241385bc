"""The Alembic migrations build exactly the schema the ORM describes, and can be undone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cellfoundry.bank._rows import _alembic_config
from cellfoundry.bank.db import Base
from cellfoundry.bank.services import Bank

_TEXT_SEARCH = {
    "search_vector",
    "ix_strains_search_vector",
    "ix_strains_taxon_key_pattern",
    "strains_fts",
    "strain_word_facets",  # PostgreSQL-only summaries (migrations 0003, 0004), read with table()
    "strain_species_facets",
}


def _relevant(diff: Any) -> bool:
    text = repr(diff)
    return not any(name in text for name in _TEXT_SEARCH)


def test_migrated_schema_matches_the_models(bank: Bank) -> None:
    with bank.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _relevant(d)] == []


def test_downgrade_then_upgrade(bank: Bank) -> None:
    cfg = _alembic_config()
    with bank.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(sa.inspect(bank.engine).get_table_names()) <= {"alembic_version"}
    bank.migrate()
    assert "strains" in sa.inspect(bank.engine).get_table_names()
