"""page cache: one generation counter per table, raised by every unit of work that changes it

Revision ID: 2e6b9c4d7f18
Revises: 8c4a6f0e2d51
Create Date: 2026-12-01 16:05:00

Cached anonymous pages name the tables they show; a page is served from the cache only while
the counters of those tables are what they were when it was stored (portal/pagecache.py).
Rows are made on first use, so the table starts empty.
"""
from alembic import op
import sqlalchemy as sa


revision = '2e6b9c4d7f18'
down_revision = '8c4a6f0e2d51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cache_generations',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_generations')),
    )


def downgrade():
    op.drop_table('cache_generations')
