"""Owners and visibility of entries, access grants (releases), notifications, web sessions.

Every strain and sequence gets an owner, an organisation and a visibility
(private, group, public). A partial index holds the ids of the entries that are
not public, so searches for a non-curator can subtract the hidden ones from the
facet summaries without reading the table (it covers the facet columns). Login failures remember the client address, so one
address guessing many user names is rate-limited too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ENTRIES = ("strains", "sequences")
#: The facet columns, so the partial index answers a search's hidden-strain counts alone.
_FACET_KEY = ("genus", "organism_type", "risk_group", "status", "deposit_type")


def upgrade() -> None:
    """Add owner/visibility columns and the grants, notifications and sessions tables."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _ENTRIES:
        # plain ADD COLUMN (no table rebuild: the strains' triggers and FTS stay in place)
        for column, target in (("owner_id", "users"), ("organisation_id", "organisations")):
            if postgres:
                op.add_column(
                    table,
                    sa.Column(column, sa.Integer,
                              sa.ForeignKey(f"{target}.id"), nullable=True),
                )  # fmt: skip
            else:  # Alembic cannot add the foreign key separately on SQLite; inline it
                op.execute(
                    f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                    f"REFERENCES {target} (id)"
                )
        op.add_column(
            table,
            sa.Column("visibility", sa.String(8), nullable=False, server_default="public"),
        )
        op.create_index(f"ix_{table}_owner_id", table, ["owner_id"])
        facets = list(_FACET_KEY) if table == "strains" else []
        op.create_index(
            f"ix_{table}_hidden",
            table,
            ["id", "visibility", "organisation_id", "owner_id", *facets],
            sqlite_where=sa.text("visibility <> 'public'"),
            postgresql_where=sa.text("visibility <> 'public'"),
        )
        if postgres:
            op.create_check_constraint(
                f"ck_{table}_visibility", table, "visibility IN ('private', 'group', 'public')"
            )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("strain_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="CASCADE"),
                  nullable=True, index=True),
        sa.Column("sequence_id", sa.Integer, sa.ForeignKey("sequences.id", ondelete="CASCADE"),
                  nullable=True, index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=True, index=True),
        sa.Column("organisation_id", sa.Integer,
                  sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True,
                  index=True),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(255), nullable=False, server_default=""),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(strain_id IS NULL) <> (sequence_id IS NULL)",
                           name="ck_access_grants_entry"),
        sa.CheckConstraint("(user_id IS NULL) <> (organisation_id IS NULL)",
                           name="ck_access_grants_grantee"),
    )  # fmt: skip
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    )  # fmt: skip
    op.create_index("ix_notifications_user", "notifications", ["user_id", "id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.add_column(
        "login_failures",
        sa.Column("client", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_login_failures_client_at", "login_failures")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("client")
    op.drop_table("web_sessions")
    op.drop_index("ix_notifications_user", "notifications")
    op.drop_table("notifications")
    op.drop_table("access_grants")
    for table in _ENTRIES:
        op.drop_index(f"ix_{table}_hidden", table)
        op.drop_index(f"ix_{table}_owner_id", table)
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"ck_{table}_visibility", table)
            op.drop_column(table, "visibility")
            op.drop_column(table, "organisation_id")
            op.drop_column(table, "owner_id")
        else:
            for column in ("visibility", "organisation_id", "owner_id"):
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
