"""notifications on the site and by mail, and each person's choice of mail per kind

Revision ID: c1a5e7d20f17
Revises: c1a5e7d20f16
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = 'c1a5e7d20f17'
down_revision = 'c1a5e7d20f16'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notifications_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index('ix_notifications_user_id_id', 'notifications', ['user_id', 'id'])
    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('mail', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notification_settings_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_settings')),
    )


def downgrade():
    op.drop_table('notification_settings')
    op.drop_index('ix_notifications_user_id_id', table_name='notifications')
    op.drop_table('notifications')
