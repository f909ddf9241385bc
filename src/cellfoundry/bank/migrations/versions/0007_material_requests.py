"""Material requests: request, decision (licence, fee), shipment of strains and plasmids.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the requests table."""
    op.create_table('material_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('strain_id', sa.Integer(), nullable=True),
    sa.Column('plasmid_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('vials', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('licence', sa.String(length=32), nullable=True),
    sa.Column('fee_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint('fee_cents >= 0', name='ck_material_requests_fee'),
    sa.CheckConstraint('vials > 0', name='ck_material_requests_vials'),
    sa.ForeignKeyConstraint(['plasmid_id'], ['plasmids.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['strain_id'], ['strains.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('material_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_requests_plasmid_id'), ['plasmid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_material_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_material_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_material_requests_strain_id'), ['strain_id'], unique=False)



def downgrade() -> None:
    """Drop the requests table."""
    op.drop_table("material_requests")
