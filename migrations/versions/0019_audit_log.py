"""one audit log for every staff action in every feature (moderation_log becomes audit_log)

The schools' moderation log is renamed, every row kept, and gains what the log needs to tell
an action in words: ``label`` (what people called the thing acted on) and ``data`` (the
details the sentence names), with the indexes the staff page filters on (by person, by action,
by date).  Downgrade gives the old table back, rows kept (labels and details dropped).

Revision ID: c1a5e7d20f19
Revises: c1a5e7d20f18
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c1a5e7d20f19'
down_revision = 'c1a5e7d20f18'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _rename(old: str, new: str) -> None:
    op.rename_table(old, new)
    if _postgresql():  # the primary key and the id sequence keep their names otherwise
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        op.execute(f"ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq")


def upgrade():
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_log_action')
    _rename('moderation_log', 'audit_log')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.drop_constraint('fk_moderation_log_actor_id_users', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_audit_log_actor_id_users'), 'users',
                                    ['actor_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_audit_log_actor_id_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_target_id', ['target', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target_id')
        batch_op.drop_index('ix_audit_log_created_at')
        batch_op.drop_index('ix_audit_log_action_id')
        batch_op.drop_index('ix_audit_log_actor_id_id')
        batch_op.drop_constraint('fk_audit_log_actor_id_users', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_moderation_log_actor_id_users'), 'users',
                                    ['actor_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('data')
        batch_op.drop_column('label')
    _rename('audit_log', 'moderation_log')
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_log_action', ['action'], unique=False)
