"""problem reports, their supporters and history

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-25 19:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('routed_category', sa.String(length=40), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'assigned', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', name='reportstatus', native_enum=False, length=20), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('location_label', sa.String(length=200), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('grid_place_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_reports_rating_range')),
    sa.ForeignKeyConstraint(['building_id'], ['places.id'], name=op.f('fk_reports_building_id_places'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['places.id'], name=op.f('fk_reports_community_id_places'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['compound_id'], ['places.id'], name=op.f('fk_reports_compound_id_places'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_place_id'], ['places.id'], name=op.f('fk_reports_grid_place_id_places'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handler_id'], ['people.id'], name=op.f('fk_reports_handler_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['people.id'], name=op.f('fk_reports_reporter_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_reports_compound_category_status', ['compound_id', 'category', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_grid_place_id'), ['grid_place_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_reports_status_deadline', ['status', 'deadline'], unique=False)

    op.create_table('report_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('submitted', 'assigned', 'accepted', 'progress', 'resolved', 'confirmed', 'rejected', 'reopened', 'recategorised', 'transferred', 'supported', 'rated', 'reminded', 'escalated', 'expired', name='reportaction', native_enum=False, length=20), nullable=False),
    sa.Column('from_status', sa.Enum('submitted', 'assigned', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', name='reportstatus', native_enum=False, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'assigned', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', name='reportstatus', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('photo_channel', sa.String(length=20), nullable=True),
    sa.Column('photo_file_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['people.id'], name=op.f('fk_report_events_actor_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_events_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_events'))
    )
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_events_report_id'), ['report_id'], unique=False)

    op.create_table('report_supporters',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_report_supporters_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_supporters_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'person_id', name=op.f('pk_report_supporters'))
    )
    with op.batch_alter_table('report_supporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_supporters_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_supporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_supporters_person_id'))

    op.drop_table('report_supporters')
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_events_report_id'))

    op.drop_table('report_events')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_deadline')
        batch_op.drop_index(batch_op.f('ix_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_reports_handler_id'))
        batch_op.drop_index(batch_op.f('ix_reports_grid_place_id'))
        batch_op.drop_index('ix_reports_compound_category_status')
        batch_op.drop_index(batch_op.f('ix_reports_community_id'))
        batch_op.drop_index(batch_op.f('ix_reports_building_id'))

    op.drop_table('reports')
