"""role applications: residents volunteer as building leaders or party-member volunteers

Revision ID: 0004a
Revises: 0004
Create Date: 2026-11-25 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004a"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "role_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("admin", "grid_worker", "volunteer", "building_leader", name="role", native_enum=False, length=20), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Enum("pending", "approved", "rejected", "withdrawn", name="applicationstatus", native_enum=False, length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_role_applications_person_id_people", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name="fk_role_applications_place_id_places", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by"], ["people.id"], name="fk_role_applications_decided_by_people", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_role_applications"),
    )
    with op.batch_alter_table("role_applications") as batch_op:
        batch_op.create_index("ix_role_applications_person_id", ["person_id"], unique=False)
        batch_op.create_index("ix_role_applications_place_id", ["place_id"], unique=False)
        batch_op.create_index(
            "uq_role_applications_pending", ["person_id", "role", "place_id"], unique=True,
            sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    op.drop_table("role_applications")
