"""Word facet summary (PostgreSQL): strains per full-text word and facet combination.

A catalogue search for one common word ("coli", "soil") matches tens of
thousands of strains at a million; counting their facets from the heap costs
hundreds of milliseconds. This table holds, for every word of the full-text
index, how many strains with each combination of facet values contain it, kept
exact by statement-level triggers (one aggregated upsert per statement, so a bulk
``COPY`` costs one pass). A one-word search then reads its total and facet counts
here. SQLite, whose searches meet their target without it, gets no table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEY = ("genus", "organism_type", "risk_group", "status", "deposit_type")
_COLS = ", ".join(_KEY)


def _grouped(rows: str) -> str:
    return (
        f"SELECT w.word, genus, organism_type, risk_group, status, "
        f"coalesce(deposit_type, ''), count(*) "
        f"FROM {rows}, unnest(tsvector_to_array(search_vector)) AS w(word) "
        f"GROUP BY w.word, genus, organism_type, risk_group, status, coalesce(deposit_type, '')"
    )


def upgrade() -> None:
    """Create, fill and keep the word facet summary on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE strain_word_facets ("
        " word text NOT NULL, genus varchar(128) NOT NULL, organism_type varchar(32) NOT NULL,"
        " risk_group integer NOT NULL, status varchar(32) NOT NULL,"
        " deposit_type varchar(16) NOT NULL, n integer NOT NULL,"
        f" CONSTRAINT pk_strain_word_facets PRIMARY KEY (word, {_COLS}))"
    )
    op.execute(
        "CREATE INDEX ix_strain_word_facets_pattern ON strain_word_facets "
        "(word text_pattern_ops)"
    )
    op.execute(f"INSERT INTO strain_word_facets (word, {_COLS}, n) {_grouped('strains')}")
    plus = (
        f"INSERT INTO strain_word_facets (word, {_COLS}, n) {_grouped('new_rows')} "
        f"ON CONFLICT (word, {_COLS}) DO UPDATE SET n = strain_word_facets.n + excluded.n"
    )
    minus = (
        "UPDATE strain_word_facets f SET n = f.n - o.n FROM "
        f"({_grouped('old_rows')}) AS o(word, {_COLS}, n) WHERE f.word = o.word AND "
        + " AND ".join(f"f.{c} = o.{c}" for c in _KEY)
    )
    for name, body, refs in (
        ("insert", plus, "NEW TABLE AS new_rows"),
        ("delete", minus, "OLD TABLE AS old_rows"),
        ("update", f"{minus}; {plus}", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ):
        op.execute(
            f"CREATE FUNCTION strain_word_facets_{name}() RETURNS trigger AS $$ "
            f"BEGIN {body}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER strain_word_facets_{name} AFTER {name.upper()} ON strains "
            f"REFERENCING {refs} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION strain_word_facets_{name}()"
        )


def downgrade() -> None:
    """Drop the triggers and the table."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS strain_word_facets_{name} ON strains")
        op.execute(f"DROP FUNCTION IF EXISTS strain_word_facets_{name}()")
    op.execute("DROP TABLE IF EXISTS strain_word_facets")
