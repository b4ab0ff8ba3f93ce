"""e-mail verification: verified accounts, verification links

Revision ID: 8c4a6f0e2d51
Revises: 5b7e1d2c9a30
Create Date: 2026-12-01 15:40:00

``users.email_verified_at`` says when the person proved they read mail at their address;
``email_verifications`` holds the mailed links (SHA-256 of the token, like password resets).
Accounts that exist at the upgrade registered before verification existed: they are marked
verified at their ``created_at`` (there is no link to send them, and refusing them reports
and sign-ups overnight would punish people for the portal's own history).

``activity_reports.counted`` says whether a report counts towards hiding its post (the
reporter was verified and old enough when reporting).  Reports made before the upgrade
counted under the old rule and keep counting.
"""
from alembic import op
import sqlalchemy as sa

import portal.db


revision = '8c4a6f0e2d51'
down_revision = '5b7e1d2c9a30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', portal.db.UTCDateTime(timezone=True),
                                      nullable=True))
    users = sa.table('users', sa.column('created_at', portal.db.UTCDateTime(timezone=True)),
                     sa.column('email_verified_at', portal.db.UTCDateTime(timezone=True)))
    op.execute(users.update().values(email_verified_at=users.c.created_at))

    op.create_table('email_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_email_verifications_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_verifications')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_verifications_token_hash'))
    )
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_verifications_user_id'), ['user_id'],
                              unique=False)

    with op.batch_alter_table('activity_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counted', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    reports = sa.table('activity_reports', sa.column('counted', sa.Boolean()))
    op.execute(reports.update().values(counted=True))


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch would copy and drop the
    # table, and dropping users would cascade to every row that refers to an account.
    op.drop_column('activity_reports', 'counted')
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_verifications_user_id'))
    op.drop_table('email_verifications')
    op.drop_column('users', 'email_verified_at')
