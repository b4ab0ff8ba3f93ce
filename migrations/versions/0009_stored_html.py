"""Markdown rendered once at save time: stored sanitised HTML with the renderer's version

Revision ID: 5b7e1d2c9a30
Revises: 3f9d2c6a8b14
Create Date: 2026-12-01 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5b7e1d2c9a30'
down_revision = '3f9d2c6a8b14'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
