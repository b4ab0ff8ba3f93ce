"""Markdown rendered once at save time: stored sanitised HTML with the renderer's version

Revision ID: 5b7e1d2c9a30
Revises: 3f9d2c6a8b14
Create Date: 2026-12-01 15:40:00

Event descriptions, school posts (published and draft bodies) and library articles keep
their rendered HTML beside the text, with ``html_version`` (``portal.markup.VERSION``).
Existing rows start at version 0 (not rendered): their pages show the text escaped until the
``markup.rerender`` job, which ``flask setup`` queues, has rendered them (and the content sync
renders the articles).  Nothing is rendered here: a migration must not hang on one text.
Downgrading drops the columns (the texts stay).
"""
from alembic import op
import sqlalchemy as sa


revision = '5b7e1d2c9a30'
down_revision = '3f9d2c6a8b14'
branch_labels = None
depends_on = None

COLUMNS = {
    'events': [('description_zh_html', sa.Text(), ''), ('description_en_html', sa.Text(), '')],
    'activities': [('body_html', sa.Text(), ''), ('draft_body_html', sa.Text(), '')],
    'articles': [('html', sa.Text(), ''), ('toc', sa.JSON(), sa.text("'[]'"))],
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_, default in columns:
                batch_op.add_column(sa.Column(name, type_, server_default=default,
                                              nullable=False))
            batch_op.add_column(sa.Column('html_version', sa.Integer(), server_default='0',
                                          nullable=False))


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch would copy and drop the
    # table, and dropping it would cascade to the rows that refer to it (sign-ups, reports).
    for table, columns in COLUMNS.items():
        op.drop_column(table, 'html_version')
        for name, _type, _default in reversed(columns):
            op.drop_column(table, name)
