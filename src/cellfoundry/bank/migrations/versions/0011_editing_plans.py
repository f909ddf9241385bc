"""Editing plans: how a planned strain is to be built from its chassis.

``editing_plans`` keeps, for a planned strain, the DNA designer's plan as JSON
(``cellfoundry.editing-plan/1``: guides, donors, constructs, primers, the ordered
steps and warnings) and its records (donors, guide and construct plasmids) both as
GenBank and as an SBOL3 document, so a foundry can order and build from either.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the editing plans table."""
    op.create_table(
        "editing_plans",
        sa.Column("strain_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("chassis", sa.String(64), nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("genbank", sa.Text, nullable=False),
        sa.Column("sbol3", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_table("editing_plans")
