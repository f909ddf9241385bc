"""Strain designs: the metabolic design a planned strain was made from.

``strain_designs`` keeps, for a planned strain, the design it came from as JSON
(``cellfoundry.strain-design/1``: chassis, product, substrate, method, gene-level
modifications, knocked-out and added reactions, and the engine's evaluation), with
the product and method for listing, and the chassis model when the bank has it. The
strain itself (status ``planned``, parent = the chassis strain, its modifications) is
an ordinary strain row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the strain designs table."""
    op.create_table(
        "strain_designs",
        sa.Column("strain_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("metabolic_models.id", ondelete="SET NULL"), nullable=True),
        sa.Column("design", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_index("ix_strain_designs_product", "strain_designs", ["product"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_strain_designs_product", "strain_designs")
    op.drop_table("strain_designs")
