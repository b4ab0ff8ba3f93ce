"""people: suspension with a reason, last sign-in, mail notification choices

Revision ID: c1a5e7d20f16
Revises: c1a5e7d20f15
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


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
    # (the people helper adds the rest of this migration below)


def downgrade():
    # (the people helper's downgrade steps come first)
    op.execute("UPDATE users SET role = 'citizen' WHERE role = 'editor'")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role_known'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role_known'), sa.text(OLD_ROLES))
