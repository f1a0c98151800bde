"""link codes between channels; the WeChat access token shared by workers

Revision ID: 0004w
Revises: 0004a
Create Date: 2026-11-27 10:00:00

"0004w", not "0004": the outbox's migration is being written as 0004 at the same time; the two
are chained when the branches are merged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004w"
down_revision = "0004a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_codes",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_link_codes_person_id_people", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", name="pk_link_codes"),
        sa.UniqueConstraint("code", name="uq_link_codes_code"),
    )
    op.create_table(
        "wechat_access_tokens",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=512), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshing_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name="pk_wechat_access_tokens"),
    )


def downgrade() -> None:
    op.drop_table("wechat_access_tokens")
    op.drop_table("link_codes")
