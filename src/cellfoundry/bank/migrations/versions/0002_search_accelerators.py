"""Search accelerators: a facet summary kept by triggers, and covering indexes.

Facet counts and totals of searches that filter only by facets (the catalogue's
browse page, the dashboard) are read from this small table instead of grouping
every strain, which keeps them fast at a million strains. Triggers on ``strains``
keep it exact on every insert, update and delete, in the same transaction.

The covering indexes hold the five facet columns and the accession beside the
key a search starts from (facet values, taxon name prefix, or the row id that
full-text search returns), so counting facets and ordering a page of results
never reads the wide strain rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KEY = ("genus", "organism_type", "risk_group", "status", "deposit_type")


def _values(prefix: str) -> str:
    return ", ".join(
        f"coalesce({prefix}.deposit_type, '')" if c == "deposit_type" else f"{prefix}.{c}"
        for c in _KEY
    )


def _match(prefix: str) -> str:
    return " AND ".join(
        f"deposit_type = coalesce({prefix}.deposit_type, '')"
        if c == "deposit_type"
        else f"{c} = {prefix}.{c}"
        for c in _KEY
    )


_COVERING = {
    "ix_strains_cover_facets": [*_KEY, "accession"],
    "ix_strains_cover_taxon": ["taxon_key", *_KEY, "accession"],
    "ix_strains_cover_id": ["id", *_KEY, "accession"],
}


def upgrade() -> None:
    """Create the summary table, fill it, install the triggers, add covering indexes."""
    for name, columns in _COVERING.items():
        # text_pattern_ops lets PostgreSQL answer a taxon-name prefix (LIKE 'x%') from this
        # index in any collation; SQLite ignores the option
        op.create_index(
            name, "strains", columns, postgresql_ops={"taxon_key": "text_pattern_ops"}
        )
    op.create_table(
        "strain_facets",
        sa.Column("genus", sa.String(128), nullable=False),
        sa.Column("organism_type", sa.String(32), nullable=False),
        sa.Column("risk_group", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("deposit_type", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY, name="pk_strain_facets"),
    )
    cols = ", ".join(_KEY)
    op.execute(
        f"INSERT INTO strain_facets ({cols}, n) SELECT genus, organism_type, risk_group, status, "
        f"coalesce(deposit_type, ''), count(*) FROM strains GROUP BY {cols}"
    )
    add = (
        f"INSERT INTO strain_facets ({cols}, n) VALUES ({_values('NEW')}, 1) "
        f"ON CONFLICT ({cols}) DO UPDATE SET n = strain_facets.n + 1"
    )
    sub = f"UPDATE strain_facets SET n = n - 1 WHERE {_match('OLD')}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER strain_facets_ai AFTER INSERT ON strains BEGIN {add}; END")
        op.execute(f"CREATE TRIGGER strain_facets_ad AFTER DELETE ON strains BEGIN {sub}; END")
        changed = " OR ".join(
            f"OLD.{c} IS NOT NEW.{c}" for c in _KEY
        )
        op.execute(
            f"CREATE TRIGGER strain_facets_au AFTER UPDATE ON strains WHEN {changed} "
            f"BEGIN {sub}; {add}; END"
        )
    else:
        # Statement-level triggers with transition tables: one aggregated upsert per
        # statement, so a bulk import does not update the same summary row once per strain
        # (which piles up row versions under MVCC).
        grouped = (
            f"SELECT genus, organism_type, risk_group, status, coalesce(deposit_type, ''), "
            f"count(*) FROM {{rows}} GROUP BY genus, organism_type, risk_group, status, "
            f"coalesce(deposit_type, '')"
        )
        plus = (
            f"INSERT INTO strain_facets ({cols}, n) {grouped.format(rows='new_rows')} "
            f"ON CONFLICT ({cols}) DO UPDATE SET n = strain_facets.n + excluded.n"
        )
        minus = (
            "UPDATE strain_facets f SET n = f.n - o.n FROM "
            f"({grouped.format(rows='old_rows')}) AS o({cols}, n) WHERE "
            + " AND ".join(f"f.{c} = o.{c}" for c in _KEY)
        )
        for op_name, body, refs in (
            ("insert", plus, "NEW TABLE AS new_rows"),
            ("delete", minus, "OLD TABLE AS old_rows"),
            ("update", f"{minus}; {plus}", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            op.execute(
                f"CREATE FUNCTION strain_facets_{op_name}() RETURNS trigger AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER strain_facets_{op_name} AFTER {op_name.upper()} ON strains "
                f"REFERENCING {refs} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION strain_facets_{op_name}()"
            )


def downgrade() -> None:
    """Drop the covering indexes, the triggers and the summary table."""
    for name in _COVERING:
        op.drop_index(name, table_name="strains")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("strain_facets_ai", "strain_facets_ad", "strain_facets_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        for op_name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS strain_facets_{op_name} ON strains")
            op.execute(f"DROP FUNCTION IF EXISTS strain_facets_{op_name}()")
    op.drop_table("strain_facets")
