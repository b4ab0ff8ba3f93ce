"""media library: pictures with alt text in both languages, credit, responsive sizes; event covers

Revision ID: c1a5e7d20f15
Revises: 9b3e7f2a1c64
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = 'c1a5e7d20f15'
down_revision = '9b3e7f2a1c64'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
