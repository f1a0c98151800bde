"""plans, their items and buildings, objections, works progress, acceptance, mutes, floor coefficients and cost shares

Revision ID: 0013
Revises: 0005
Create Date: 2026-11-25 19:58:24.192591
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "floor_coefficients",
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("coefficient", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["places.id"], name=op.f("fk_floor_coefficients_building_id_places"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("building_id", "floor", name=op.f("pk_floor_coefficients")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Enum("draft", "notice", "notice_ended", "adopted", "closed", name="planstatus", native_enum=False, length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["compound_id"], ["places.id"], name=op.f("fk_plans_compound_id_places"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], name=op.f("fk_plans_created_by_people"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_compound_id"), ["compound_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_notice_ends_at"), ["notice_ends_at"], unique=False)

    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_class", sa.Enum("basic", "improvement", "upgrade", name="itemclass", native_enum=False, length=20), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("funding_government", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("funding_utility", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("funding_residents", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("funding_others", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column(
            "status", sa.Enum("planned", "in_works", "completed", "accepted", "not_accepted", name="itemstatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column("progress", sa.SmallInteger(), nullable=False),
        sa.Column("acceptance_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_plan_items_progress_percent")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_plan_items_plan_id_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
        sa.UniqueConstraint("plan_id", "position", name=op.f("uq_plan_items_plan_id_position")),
    )
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_items_acceptance_ends_at"), ["acceptance_ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_items_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_mutes",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_plan_mutes_person_id_people"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_plan_mutes_plan_id_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "person_id", name=op.f("pk_plan_mutes")),
    )
    op.create_table(
        "cost_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("area", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("coefficient", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("price_per_m2", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.Enum("open", "pledged", "disputed", name="sharestatus", native_enum=False, length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"], name=op.f("fk_cost_shares_answered_by_people"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_cost_shares_household_id_households"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["plan_items.id"], name=op.f("fk_cost_shares_item_id_plan_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_shares")),
        sa.UniqueConstraint("item_id", "household_id", name=op.f("uq_cost_shares_item_id_household_id")),
    )
    with op.batch_alter_table("cost_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_shares_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cost_shares_item_id"), ["item_id"], unique=False)

    op.create_table(
        "plan_acceptance_answers",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_plan_acceptance_answers_rating_1_to_5")),
        sa.ForeignKeyConstraint(["item_id"], ["plan_items.id"], name=op.f("fk_plan_acceptance_answers_item_id_plan_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_plan_acceptance_answers_person_id_people"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "person_id", name=op.f("pk_plan_acceptance_answers")),
    )
    op.create_table(
        "plan_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Enum("objection", "comment", name="feedbackkind", native_enum=False, length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["people.id"], name=op.f("fk_plan_feedback_answered_by_people"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["item_id"], ["plan_items.id"], name=op.f("fk_plan_feedback_item_id_plan_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_plan_feedback_person_id_people"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_plan_feedback_plan_id_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_feedback")),
    )
    with op.batch_alter_table("plan_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_feedback_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_feedback_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_item_buildings",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["places.id"], name=op.f("fk_plan_item_buildings_building_id_places"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["plan_items.id"], name=op.f("fk_plan_item_buildings_item_id_plan_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "building_id", name=op.f("pk_plan_item_buildings")),
    )
    with op.batch_alter_table("plan_item_buildings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_item_buildings_building_id"), ["building_id"], unique=False)

    op.create_table(
        "plan_progress_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("progress", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_plan_progress_posts_author_id_people"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["item_id"], ["plan_items.id"], name=op.f("fk_plan_progress_posts_item_id_plan_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_progress_posts")),
    )
    with op.batch_alter_table("plan_progress_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_progress_posts_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_progress_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_progress_posts_item_id"))

    op.drop_table("plan_progress_posts")
    with op.batch_alter_table("plan_item_buildings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_item_buildings_building_id"))

    op.drop_table("plan_item_buildings")
    with op.batch_alter_table("plan_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_feedback_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_feedback_person_id"))

    op.drop_table("plan_feedback")
    op.drop_table("plan_acceptance_answers")
    with op.batch_alter_table("cost_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_shares_item_id"))
        batch_op.drop_index(batch_op.f("ix_cost_shares_household_id"))

    op.drop_table("cost_shares")
    op.drop_table("plan_mutes")
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_items_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_items_acceptance_ends_at"))

    op.drop_table("plan_items")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_notice_ends_at"))
        batch_op.drop_index(batch_op.f("ix_plans_compound_id"))

    op.drop_table("plans")
    op.drop_table("floor_coefficients")
