"""jobs: one transactional queue for side effects (replaces the search outbox); event
sequence; the review date a green family was told about

Revision ID: 7a1c0b5e9d21
Revises: 1e0deb0bbc2b
Create Date: 2026-12-01 10:20:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


revision = '7a1c0b5e9d21'
down_revision = '1e0deb0bbc2b'
branch_labels = None
depends_on = None


def upgrade():
    jobs = op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('locked_until', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=80), nullable=True),
    sa.Column('unique_key', sa.String(length=160), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('unique_key', name=op.f('uq_jobs_unique_key'))
    )
    op.create_index('ix_jobs_state_due_at', 'jobs', ['state', 'due_at'], unique=False)

    # Changes still waiting in the search outbox become index jobs.
    conn = op.get_bind()
    waiting = conn.execute(sa.text(
        "SELECT kind, record_id, created_at FROM search_outbox ORDER BY id")).all()
    if waiting:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        op.bulk_insert(jobs, [
            {"kind": "search.index", "payload": {"kind": kind, "id": record_id},
             "state": "pending", "due_at": now, "attempts": 0, "last_error": "",
             "created_at": now} for kind, record_id, _created in waiting])
    op.drop_table('search_outbox')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_noticed_for', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_column('review_noticed_for')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('sequence')
    op.create_table('search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    op.drop_index('ix_jobs_state_due_at', table_name='jobs')
    op.drop_table('jobs')
