"""notifications on the site and by mail, and each person's choice of mail per kind

Revision ID: c1a5e7d20f17
Revises: c1a5e7d20f16
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


revision = 'c1a5e7d20f17'
down_revision = 'c1a5e7d20f16'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
