from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import markup
from portal.db import UTCDateTime
from portal.extensions import db
from portal.i18n import Localized, pick

article_topics = sa.Table(
    "article_topics", db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic_slug", sa.ForeignKey("topics.slug", ondelete="CASCADE"), primary_key=True),
)


class Topic(db.Model):
    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    zh: Mapped[str] = mapped_column(sa.String(80))
    en: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)

    def label(self, locale: str | None = None) -> Localized:
        return pick(self, locale=locale)


#: What an article is: library articles (the library lists show only these), news, notices,
#: fixed pages (privacy, about) and observance days' campaign pages.
KINDS = ("article", "news", "notice", "page", "campaign")


class Article(db.Model):
    """One language version of a published article: the projection of an editorial entry's
    published revision (``portal.editorial``), read by every public page, search and the API.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120))
    lang: Mapped[str] = mapped_column(sa.String(8))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text)
    updated: Mapped[date]
    related: Mapped[list] = mapped_column(sa.JSON, default=list)
    observances: Mapped[list] = mapped_column(sa.JSON, default=list)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # The body rendered when the file was loaded (portal.markup), its table of contents
    # ([{id, name, level}]) and the renderer's version (0: not yet; the page shows the text).
    html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    toc: Mapped[list] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")

    kind: Mapped[str] = mapped_column(sa.String(16), default="article",
                                      server_default="article")
    cover_id: Mapped[int | None] = mapped_column(  # a picture of the media library
        sa.ForeignKey("media.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topics: Mapped[list[Topic]] = relationship(secondary=article_topics,
                                               order_by=Topic.position)

    __table_args__ = (
        sa.UniqueConstraint("slug", "lang"),
        sa.CheckConstraint(sa.column("kind").in_(KINDS), name="kind_known"),
        sa.Index("ix_articles_kind_published", "kind", "published_at", "slug"),
    )

    def body_html(self) -> Markup:
        """The stored HTML of the body; never rendered here."""
        return markup.stored(self.html, self.html_version, self.body)


class Observance(db.Model):
    __tablename__ = "observances"

    slug: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    zh: Mapped[str] = mapped_column(sa.String(120))
    en: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16))
    month_day: Mapped[str | None] = mapped_column(sa.String(5))  # "MM-DD" for fixed days
    week_containing: Mapped[str | None] = mapped_column(sa.String(5))  # for rule days
    since: Mapped[int | None]
    group: Mapped[str | None] = mapped_column(sa.String(120))
    texts: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {about|rule|note: {zh, en}}
    announced: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"2025": [start, end]}
    content_hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.CheckConstraint(sa.column("kind").in_(("fixed", "rule", "announced")),
                                         name="kind_known"),)

    def name(self, locale: str | None = None) -> Localized:
        return pick(self, locale=locale)

    def text(self, key: str, locale: str | None = None) -> Localized:
        return pick((self.texts or {}).get(key) or {}, locale=locale)
