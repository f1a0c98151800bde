"""notices and their acknowledgements

Revision ID: 0005
Revises: 0004w
Create Date: 2026-11-25 18:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.Enum("residents", "building_leaders", "group_chat", name="audience", native_enum=False, length=20), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("group_chat_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("party_badge", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name="fk_notices_author_id_people", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name="fk_notices_place_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_chat_id"], ["group_chats.id"], name="fk_notices_group_chat_id_group_chats", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    with op.batch_alter_table("notices") as batch_op:
        batch_op.create_index("ix_notices_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_notices_place_id", ["place_id"], unique=False)
    op.create_table(
        "notice_acknowledgements",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name="fk_notice_acknowledgements_notice_id_notices", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_notice_acknowledgements_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", "person_id", name="pk_notice_acknowledgements"),
    )


def downgrade() -> None:
    op.drop_table("notice_acknowledgements")
    op.drop_table("notices")
