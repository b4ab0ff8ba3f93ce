"""editorial: entries and their revisions; articles are the published versions

Revision ID: c1a5e7d20f18
Revises: c1a5e7d20f17
Create Date: 2026-12-01 22:40:00
"""
import sqlalchemy as sa
from alembic import op

import portal.db

revision = 'c1a5e7d20f18'
down_revision = 'c1a5e7d20f17'
branch_labels = None
depends_on = None


KINDS = "kind IN ('article', 'news', 'notice', 'page', 'campaign')"


def upgrade():
    with op.batch_alter_table('articles') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='article',
                                   nullable=False))
        batch.add_column(sa.Column('cover_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('published_at', portal.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.create_check_constraint(op.f('ck_articles_kind_known'), sa.text(KINDS))
        batch.create_foreign_key(op.f('fk_articles_cover_id_media'), 'media', ['cover_id'],
                                 ['id'], ondelete='SET NULL')
        batch.create_index('ix_articles_kind_published', ['kind', 'published_at', 'slug'])
    op.create_table(
        'entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('publish_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('unpublish_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('unpublish_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('cover_id', sa.Integer(), nullable=True),
        sa.Column('observance', sa.String(length=64), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('zh_revised', sa.Integer(), server_default='0', nullable=False),
        sa.Column('en_revised', sa.Integer(), server_default='0', nullable=False),
        sa.Column('latest_revision', sa.Integer(), server_default='0', nullable=False),
        sa.Column('languages', sa.String(length=16), server_default='', nullable=False),
        sa.Column('published_revision', sa.Integer(), nullable=True),
        sa.Column('published_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('file_hash', sa.String(length=64), nullable=True),
        sa.Column('file_revision', sa.Integer(), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f('ck_entries_kind_known')),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'published', 'unpublished')",
                           name=op.f('ck_entries_status_known')),
        sa.ForeignKeyConstraint(['cover_id'], ['media.id'],
                                name=op.f('fk_entries_cover_id_media'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_entries_updated_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                                name=op.f('fk_entries_submitted_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
        sa.UniqueConstraint('slug', name=op.f('uq_entries_slug')),
    )
    op.create_index('ix_entries_kind_updated', 'entries', ['kind', 'updated_at', 'id'])
    op.create_table(
        'revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=500), server_default='', nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('zh_title', sa.String(length=200), server_default='', nullable=False),
        sa.Column('zh_summary', sa.Text(), server_default='', nullable=False),
        sa.Column('zh_body', sa.Text(), server_default='', nullable=False),
        sa.Column('en_title', sa.String(length=200), server_default='', nullable=False),
        sa.Column('en_summary', sa.Text(), server_default='', nullable=False),
        sa.Column('en_body', sa.Text(), server_default='', nullable=False),
        sa.Column('topics', sa.JSON(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.CheckConstraint("source IN ('file', 'browser', 'api', 'restore')",
                           name=op.f('ck_revisions_source_known')),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'],
                                name=op.f('fk_revisions_entry_id_entries'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_revisions_author_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions')),
        sa.UniqueConstraint('entry_id', 'number', name=op.f('uq_revisions_entry_id')),
    )


def downgrade():
    op.drop_table('revisions')
    op.drop_index('ix_entries_kind_updated', table_name='entries')
    op.drop_table('entries')
    # the published news, notices, pages and campaign pages go with the editorial system
    op.execute("DELETE FROM articles WHERE kind <> 'article'")
    with op.batch_alter_table('articles') as batch:
        batch.drop_index('ix_articles_kind_published')
        batch.drop_constraint(op.f('fk_articles_cover_id_media'), type_='foreignkey')
        batch.drop_constraint(op.f('ck_articles_kind_known'), type_='check')
        batch.drop_column('published_at')
        batch.drop_column('cover_id')
        batch.drop_column('kind')
