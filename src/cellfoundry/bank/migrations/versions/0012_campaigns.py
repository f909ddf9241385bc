"""DBTL campaigns: a goal, a design space, and cycles of designs, built strains, measurements.

``campaigns`` keeps a campaign's goal (product; titre, rate and yield targets) and design
space (factors and their levels) as JSON, with its chassis strain. ``campaign_cycles``
keeps each cycle's worklists, the model trained on the measurements and its
recommendations. ``campaign_strains`` links each strain built in a cycle (an ordinary strain
row, derived from the chassis) to its cycle, with the design it realises and what was
measured on it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the campaign tables."""
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("chassis_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("goal", sa.Text, nullable=False),
        sa.Column("design_space", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_table(
        "campaign_cycles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer,
                  sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("worklists", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("recommendations", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "number", name="uq_campaign_cycles_number"),
    )  # fmt: skip
    op.create_table(
        "campaign_strains",
        sa.Column("strain_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("cycle_id", sa.Integer,
                  sa.ForeignKey("campaign_cycles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("design", sa.Text, nullable=False),
        sa.Column("measurements", sa.Text, nullable=False),
    )  # fmt: skip
    op.create_index("ix_campaign_strains_cycle", "campaign_strains", ["cycle_id"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_campaign_strains_cycle", "campaign_strains")
    op.drop_table("campaign_strains")
    op.drop_table("campaign_cycles")
    op.drop_table("campaigns")
