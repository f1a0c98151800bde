"""the outbox: messages the bot sends on its own, one delivery row per recipient; unreachable identities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:00:00

Everything the bot sends on its own initiative (notices, report updates, vote reminders) is
written to `outbox_messages` (the reply, once) and `outbox_deliveries` (one row per chat) in
the transaction of the change that causes it; a sender loop delivers the rows. A channel
identity is marked unreachable when the person blocked the bot.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

status_enum = sa.Enum("pending", "sending", "sent", "failed", "cancelled", "waiting", name="deliverystatus", native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
    )
    op.create_index("ix_outbox_messages_source", "outbox_messages", ["source"], unique=False)
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", status_enum, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_messages.id"], name="fk_outbox_deliveries_message_id_outbox_messages", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_outbox_deliveries_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_deliveries"),
    )
    op.create_index("ix_outbox_deliveries_due", "outbox_deliveries", ["status", "channel", "priority", "not_before", "id"], unique=False)
    op.create_index("ix_outbox_deliveries_message_status", "outbox_deliveries", ["message_id", "status"], unique=False)
    op.create_index("ix_outbox_deliveries_person_id", "outbox_deliveries", ["person_id"], unique=False)
    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.drop_column("unreachable_at")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_messages")
