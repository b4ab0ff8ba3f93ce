"""one audit log for every staff action in every feature (moderation_log becomes audit_log)

Revision ID: c1a5e7d20f19
Revises: c1a5e7d20f18
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = 'c1a5e7d20f19'
down_revision = 'c1a5e7d20f18'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
