"""Genome-scale metabolic models, the strain a model belongs to, and jobs.

``metabolic_models`` keeps each uploaded model file (SBML, COBRA JSON, MATLAB or
YAML) with its SHA-256, its counts and objective, and an owner, organisation and
visibility with the strains' meaning. ``strain_models`` links a strain (a chassis)
to its model, one model per strain. ``jobs`` records long computations: kind,
parameters and result as JSON text, status, progress, the process running it
(``runner``) and its last sign of life (``heartbeat_at``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the models, strain-model links and jobs tables."""
    op.create_table(
        "metabolic_models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("reactions", sa.Integer, nullable=False),
        sa.Column("metabolites", sa.Integer, nullable=False),
        sa.Column("genes", sa.Integer, nullable=False),
        sa.Column("objective", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id"),
                  nullable=True),
        sa.Column("visibility", sa.String(8), nullable=False, server_default="public"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("visibility IN ('private', 'group', 'public')",
                           name="ck_metabolic_models_visibility"),
        sa.CheckConstraint("format IN ('sbml', 'json', 'mat', 'yml')",
                           name="ck_metabolic_models_format"),
    )  # fmt: skip
    op.create_index("ix_metabolic_models_owner_id", "metabolic_models", ["owner_id"])
    op.create_index("ix_metabolic_models_sha256", "metabolic_models", ["sha256"])
    op.create_table(
        "strain_models",
        sa.Column("strain_id", sa.Integer, sa.ForeignKey("strains.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("metabolic_models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("linked_by", sa.String(128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_index("ix_strain_models_model_id", "strain_models", ["model_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress_done", sa.Integer, nullable=False),
        sa.Column("progress_total", sa.Integer, nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("model_id", sa.Integer,
                  sa.ForeignKey("metabolic_models.id", ondelete="SET NULL"), nullable=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("runner", sa.String(128), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
                           name="ck_jobs_status"),
    )  # fmt: skip
    op.create_index("ix_jobs_owner_created", "jobs", ["owner_id", "created_at"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_model_id", "jobs", ["model_id"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_jobs_model_id", "jobs")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_index("ix_jobs_owner_created", "jobs")
    op.drop_table("jobs")
    op.drop_index("ix_strain_models_model_id", "strain_models")
    op.drop_table("strain_models")
    op.drop_index("ix_metabolic_models_sha256", "metabolic_models")
    op.drop_index("ix_metabolic_models_owner_id", "metabolic_models")
    op.drop_table("metabolic_models")
