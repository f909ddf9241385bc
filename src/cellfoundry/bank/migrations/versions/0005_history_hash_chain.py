"""Audit chain: every history event carries its sequence number and a SHA-256 hash
chained to its predecessor's, so an edited, deleted or reordered event is detected
(``cellfoundry audit verify``). Existing events are chained in id order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cellfoundry.bank._rows import GENESIS_HASH, event_hash

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the chain columns, chain the existing events, then make the columns required."""
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    conn = op.get_bind()
    history = sa.table(
        "history",
        sa.column("id"), sa.column("entity"), sa.column("entity_id"), sa.column("version"),
        sa.column("action"), sa.column("actor"), sa.column("at"), sa.column("changes", sa.JSON),
        sa.column("seq"), sa.column("prev_hash"), sa.column("hash"),
    )  # fmt: skip
    prev = GENESIS_HASH
    rows = conn.execute(sa.select(history).order_by(history.c.id)).mappings().all()
    for seq, row in enumerate(rows, start=1):
        event = {**row, "seq": seq}
        digest = event_hash(prev, event)
        conn.execute(
            history.update()
            .where(history.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    with op.batch_alter_table("history") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_history_seq", ["seq"])


def downgrade() -> None:
    """Drop the chain columns."""
    with op.batch_alter_table("history") as batch:
        batch.drop_constraint("uq_history_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
