"""search index in PostgreSQL (SEARCH_BACKEND=postgresql)

Revision ID: 2d7b9e41c6a3
Revises: 2e6b9c4d7f18
Create Date: 2026-12-02 10:00:00

On PostgreSQL only: the schema ``portal_search`` with the table of search documents (one row
per record and language; tsvectors made with the ``simple`` configuration from our own
analysis — words, character pairs, three tiers of frequent words — each with a GIN index)
and ``meta`` (the analysis version the rows were made with).
The rows are derived data: ``flask search rebuild`` (or the hourly catch-up) fills them when
the PostgreSQL backend is chosen.  The tables are not in the models' metadata (they are
``portal.search.pg``'s), and they live in their own schema so that comparing the models with
the database (which looks at the default schema) leaves them out.  On SQLite this revision
does nothing: the Whoosh backend keeps its index in the instance folder.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '2d7b9e41c6a3'
down_revision = '2e6b9c4d7f18'
branch_labels = None
depends_on = None

SCHEMA = 'portal_search'


TIERS = ('tier1', 'tier2', 'tier3')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'CREATE SCHEMA IF NOT EXISTS {SCHEMA}')
    op.create_table('documents',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=False),
    sa.Column('lang', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.Column('pairs', postgresql.TSVECTOR(), nullable=False),
    *(sa.Column(name, postgresql.TSVECTOR(), nullable=False) for name in TIERS),
    sa.Column('spans', postgresql.JSONB(), nullable=False),
    sa.PrimaryKeyConstraint('key', name='pk_documents'),
    schema=SCHEMA,
    )
    # Everything but the short columns goes to TOAST: counting matches reads the table's own
    # pages, and those stay few; tier 1 (small, ranked for every search) stays in the row
    # (portal.search.pg explains the layout).
    op.execute(f'ALTER TABLE {SCHEMA}.documents SET (toast_tuple_target = 128)')
    op.execute(f'ALTER TABLE {SCHEMA}.documents ALTER COLUMN tier1 SET STORAGE MAIN')
    op.create_index('ix_documents_record', 'documents', ['record'], schema=SCHEMA)
    for column in ('words', 'pairs', *TIERS):
        op.create_index(f'ix_documents_{column}', 'documents', [column], schema=SCHEMA,
                        postgresql_using='gin')
    op.create_table('meta',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name='pk_meta'),
    schema=SCHEMA,
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_table('meta', schema=SCHEMA)
    op.drop_table('documents', schema=SCHEMA)
    op.execute(f'DROP SCHEMA IF EXISTS {SCHEMA}')
