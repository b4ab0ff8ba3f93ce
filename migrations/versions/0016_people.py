"""people: suspension with a reason, last sign-in, mail notification choices

Revision ID: c1a5e7d20f16
Revises: c1a5e7d20f15
Create Date: 2026-12-01 22:40:00

``users.last_sign_in_at`` is written by each sign-in; ``suspended_at``, ``suspended_reason``
and ``suspended_by_id`` say whether an administrator suspended the account, why and who (a
suspended account cannot sign in and its API tokens are refused; restoring clears the three).
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import portal.db


revision = 'c1a5e7d20f16'
down_revision = 'c1a5e7d20f15'
branch_labels = None
depends_on = None


OLD_ROLES = "role IN ('citizen', 'school', 'organizer', 'admin')"
NEW_ROLES = "role IN ('citizen', 'school', 'editor', 'organizer', 'admin')"


def upgrade():
    # the content editor's role (issue 14)
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role_known'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role_known'), sa.text(NEW_ROLES))
    # people: last sign-in and suspension
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('last_sign_in_at', portal.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('suspended_at', portal.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('suspended_reason', sa.String(length=500), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('suspended_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_users_suspended_by_id_users'), 'users',
                                 ['suspended_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('fk_users_suspended_by_id_users'), type_='foreignkey')
        batch.drop_column('suspended_by_id')
        batch.drop_column('suspended_reason')
        batch.drop_column('suspended_at')
        batch.drop_column('last_sign_in_at')
    op.execute("UPDATE users SET role = 'citizen' WHERE role = 'editor'")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role_known'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role_known'), sa.text(OLD_ROLES))
