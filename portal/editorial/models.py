"""Entries (one per slug) and their revisions: the editorial source of truth.

The public ``articles`` table (``portal.learn.models.Article``) holds the published revision of
each entry, one row per language; everything staff write lives here until it is published.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.learn.models import KINDS

DRAFT, SUBMITTED, PUBLISHED, UNPUBLISHED = "draft", "submitted", "published", "unpublished"
STATUSES = (DRAFT, SUBMITTED, PUBLISHED, UNPUBLISHED)
SOURCES = ("file", "browser", "api", "restore")
LANGS = ("zh", "en")


class Entry(db.Model):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="article")
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublish_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    cover_id: Mapped[int | None] = mapped_column(  # a picture of the media library
        sa.ForeignKey("media.id", ondelete="SET NULL"))
    observance: Mapped[str | None] = mapped_column(sa.String(64))  # kind campaign: its day
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    # the revision number that last changed each language (translation status)
    zh_revised: Mapped[int] = mapped_column(default=0, server_default="0")
    en_revised: Mapped[int] = mapped_column(default=0, server_default="0")
    latest_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    languages: Mapped[str] = mapped_column(  # those the latest revision has: "zh en", "zh"
        sa.String(16), default="", server_default="")
    published_revision: Mapped[int | None]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the content/ files at the last import: their hash, and the revision made from them
    file_hash: Mapped[str | None] = mapped_column(sa.String(64))
    file_revision: Mapped[int | None]

    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    # The newest revision (the list shows its titles): read-only, joined where it is needed.
    latest: Mapped[Revision | None] = relationship(
        primaryjoin="and_(Revision.entry_id == Entry.id, "
                    "Revision.number == Entry.latest_revision)",
        viewonly=True, uselist=False, lazy="raise")

    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_(KINDS), name="kind_known"),
        sa.CheckConstraint(sa.column("status").in_(STATUSES), name="status_known"),
        sa.Index("ix_entries_kind_updated", "kind", "updated_at", "id"),
    )

    @property
    def staff_edited(self) -> bool:
        """Has anyone saved a revision (browser, API, restore) since the last file import?"""
        return self.latest_revision > (self.file_revision or 0)


class Revision(db.Model):
    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    source: Mapped[str] = mapped_column(sa.String(16), default="browser")
    zh_title: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    zh_summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    zh_body: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    en_title: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    en_summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    en_body: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    topics: Mapped[list] = mapped_column(sa.JSON, default=list)
    # the rest: observances, related, cover, updated dates and page metadata, and the bodies'
    # HTML rendered when the revision was saved ({"html": {lang: [html, toc]}, "html_version"})
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("entry_id", "number"),
        sa.CheckConstraint(sa.column("source").in_(SOURCES), name="source_known"),
    )

    def text(self, lang: str, part: str) -> str:
        return getattr(self, f"{lang}_{part}") or ""

    def has(self, lang: str) -> bool:
        return bool(self.text(lang, "title").strip() and self.text(lang, "body").strip())
