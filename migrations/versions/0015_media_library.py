"""media library: pictures with alt text in both languages, credit, responsive sizes; event covers

Revision ID: c1a5e7d20f15
Revises: 9b3e7f2a1c64
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = 'c1a5e7d20f15'
down_revision = '9b3e7f2a1c64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stem', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('widths', sa.JSON(), nullable=False),
        sa.Column('alt_zh', sa.String(length=250), nullable=False),
        sa.Column('alt_en', sa.String(length=250), nullable=False),
        sa.Column('credit', sa.String(length=250), nullable=False),
        sa.Column('licence', sa.String(length=120), server_default='', nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_media_uploaded_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media')),
        sa.UniqueConstraint('stem', name=op.f('uq_media_stem')),
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_events_cover_id_media'), 'media',
                                    ['cover_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_cover_id_media'), type_='foreignkey')
        batch_op.drop_column('cover_id')
    op.drop_table('media')
