"""e-mail verification: verified accounts, verification links

Revision ID: 8c4a6f0e2d51
Revises: 5b7e1d2c9a30
Create Date: 2026-12-01 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8c4a6f0e2d51'
down_revision = '5b7e1d2c9a30'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
