"""summary figures: stat_slices (metric, district, month, value) and stat_dirty

Revision ID: 6f1a3c8e5b27
Revises: 2d7b9e41c6a3
Create Date: 2026-12-01 16:40:00

The rows are derived (portal/dashboard/stats.py).  Every metric is marked changed here, so the
first refresh after the upgrade (queued by ``flask setup``) computes them from the records;
``flask stats rebuild`` does the same at once.
"""
from alembic import op
import sqlalchemy as sa


revision = '6f1a3c8e5b27'
down_revision = '2d7b9e41c6a3'
branch_labels = None
depends_on = None

METRICS = ("households", "green_families", "pledges", "pledging_households", "pledges_kept",
           "signups", "volunteers", "service_hours", "events", "events_ending",
           "published_activities", "green_schools", "green_schools_provincial")


def upgrade():
    op.create_table(
        'stat_slices',
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.Column('district', sa.String(length=32), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('value', sa.Numeric(16, 1), nullable=False),
        sa.PrimaryKeyConstraint('metric', 'district', 'month', name=op.f('pk_stat_slices')),
    )
    dirty = op.create_table(
        'stat_dirty',
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('metric', name=op.f('pk_stat_dirty')),
    )
    op.bulk_insert(dirty, [{"metric": m} for m in METRICS])


def downgrade():
    op.drop_table('stat_dirty')
    op.drop_table('stat_slices')
