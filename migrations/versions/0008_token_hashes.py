"""secret tokens stored as hashes: calendar feeds and school editor invitations

Revision ID: 3f9d2c6a8b14
Revises: 7a1c0b5e9d21
Create Date: 2026-12-01 14:00:00

The stored plaintext tokens are replaced by their SHA-256 in place (the same hash as
``portal.accounts.services.token_hash``), so feed addresses already handed out and pending
invitations keep working. An invitation mail still waiting to be sent gets its raw token in
the job's payload first (the job kind is scrubbed once done, like reset mails), because the
mail can no longer be written from the database. Downgrading cannot recover the tokens: it
deletes the feeds and invitations.
"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '3f9d2c6a8b14'
down_revision = '7a1c0b5e9d21'
branch_labels = None
depends_on = None

feeds = sa.table('calendar_feeds', sa.column('user_id', sa.Integer), sa.column('token', sa.String))
invites = sa.table('school_editor_invites', sa.column('id', sa.Integer),
                   sa.column('token', sa.String))
jobs = sa.table('jobs', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                sa.column('state', sa.String), sa.column('payload', sa.JSON))


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def upgrade():
    conn = op.get_bind()
    raw_invites = dict(conn.execute(sa.select(invites.c.id, invites.c.token)).all())
    waiting = conn.execute(sa.select(jobs.c.id, jobs.c.payload).where(
        jobs.c.kind == 'schools.invite_mail', jobs.c.state != 'done')).all()
    for job_id, payload in waiting:
        raw = raw_invites.get((payload or {}).get('invite'))
        if raw is not None and 'token' not in payload:
            conn.execute(sa.update(jobs).where(jobs.c.id == job_id)
                         .values(payload={**payload, 'token': raw}))
    for invite_id, raw in raw_invites.items():
        conn.execute(sa.update(invites).where(invites.c.id == invite_id)
                     .values(token=_hash(raw)))
    for user_id, raw in conn.execute(sa.select(feeds.c.user_id, feeds.c.token)).all():
        conn.execute(sa.update(feeds).where(feeds.c.user_id == user_id).values(token=_hash(raw)))

    _rename('token', 'token_hash')


def _rename(old, new):
    # Two batches: SQLite's table copy loses a constraint made on a column renamed in the same
    # batch.
    for table in ('calendar_feeds', 'school_editor_invites'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_{old}', type_='unique')
            batch_op.alter_column(old, new_column_name=new,
                                  existing_type=sa.String(length=64), existing_nullable=False)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_unique_constraint(f'uq_{table}_{new}', [new])


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.delete(sa.table('calendar_feeds')))
    conn.execute(sa.delete(sa.table('school_editor_invites')))
    _rename('token_hash', 'token')
