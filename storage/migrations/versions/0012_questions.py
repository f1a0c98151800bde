"""questions to grid workers, their threads, and FAQ entries

Revision ID: 0012
Revises: 0005
Create Date: 2026-11-25 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('waiting', 'claimed')")


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["places.id"], name="fk_faq_entries_community_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], name="fk_faq_entries_created_by_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
    )
    with op.batch_alter_table("faq_entries") as batch_op:
        batch_op.create_index("ix_faq_entries_community_id", ["community_id"], unique=False)
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.Enum("self_served", "waiting", "claimed", "closed", "withdrawn", name="questionstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("faq_entry_id", sa.Integer(), nullable=True),
        sa.Column("answered_by_question_id", sa.Integer(), nullable=True),
        sa.Column("for_admin", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_questions_rating_range"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_questions_person_id_people", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["building_id"], ["places.id"], name="fk_questions_building_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["places.id"], name="fk_questions_community_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["grid_id"], ["places.id"], name="fk_questions_grid_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["faq_entry_id"], ["faq_entries.id"], name="fk_questions_faq_entry_id_faq_entries", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["answered_by_question_id"], ["questions.id"], name="fk_questions_answered_by_question_id_questions", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["claimed_by"], ["people.id"], name="fk_questions_claimed_by_people", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"], name="fk_questions_answered_by_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
    )
    with op.batch_alter_table("questions") as batch_op:
        batch_op.create_index("ix_questions_person_id", ["person_id"], unique=False)
        batch_op.create_index("ix_questions_community_id", ["community_id"], unique=False)
        batch_op.create_index("ix_questions_claimed_by", ["claimed_by"], unique=False)
        batch_op.create_index("ix_questions_queue", ["status", "grid_id", "created_at", "id"], unique=False)
        batch_op.create_index("uq_questions_open_per_person", ["person_id"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_table(
        "question_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("from_resident", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], name="fk_question_messages_question_id_questions", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name="fk_question_messages_author_id_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_question_messages"),
    )
    with op.batch_alter_table("question_messages") as batch_op:
        batch_op.create_index("ix_question_messages_question_id", ["question_id"], unique=False)


def downgrade() -> None:
    op.drop_table("question_messages")
    op.drop_table("questions")
    op.drop_table("faq_entries")
