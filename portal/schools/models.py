from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import markup
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.i18n import Localized, pick

SCHOOL_TYPES = ("kindergarten", "primary", "middle", "high", "vocational", "university")
PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"
# Activity post states
DRAFT, SUBMITTED, PUBLISHED, DECLINED = "draft", "submitted", "published", "rejected"


class School(db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(160), default="")
    district: Mapped[str] = mapped_column(sa.String(32), index=True)
    type: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    contact: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    applicant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    green_level: Mapped[str] = mapped_column(sa.String(16), default="")  # city/provincial/…
    green_year: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    editors: Mapped[list[SchoolEditor]] = relationship(
        back_populates="school", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (sa.CheckConstraint(sa.column("type").in_(SCHOOL_TYPES), name="type_known"),)

    def name(self, locale: str | None = None) -> Localized:
        return pick(self, "name", locale)


class SchoolEditor(db.Model):
    __tablename__ = "school_editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(back_populates="editors")
    user = relationship("User")

    __table_args__ = (sa.UniqueConstraint("school_id", "user_id"),)


class EditorInvite(db.Model):
    __tablename__ = "school_editor_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # SHA-256 of the link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()


class Activity(db.Model):
    """A school's activity post.  The public sees the published fields; an edit of a published
    post waits in the ``draft_*`` fields for review while the published version stays up."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    # the version the public sees (empty until first published)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    activity_date: Mapped[date | None]
    topics: Mapped[list] = mapped_column(sa.JSON, default=list)
    cover: Mapped[str | None] = mapped_column(sa.String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the version being written or reviewed
    draft_title: Mapped[str] = mapped_column(sa.String(200), default="")
    draft_body: Mapped[str] = mapped_column(sa.Text, default="")
    draft_date: Mapped[date | None]
    draft_topics: Mapped[list] = mapped_column(sa.JSON, default=list)
    draft_cover: Mapped[str | None] = mapped_column(sa.String(64))
    # Both bodies rendered when they were saved (portal.markup), by renderer version
    # html_version (0: not yet; pages then show the text escaped).  Approval copies the draft's.
    body_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    draft_body_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")
    review: Mapped[str] = mapped_column(sa.String(16), default="")  # "", submitted, rejected
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    consent_confirmed: Mapped[bool] = mapped_column(default=False)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    school: Mapped[School] = relationship()

    @property
    def public(self) -> bool:
        return self.status == PUBLISHED and not self.hidden and bool(self.title)

    def html(self, draft: bool = False) -> Markup:
        """The published body (or the draft's) as stored HTML; never rendered here."""
        if draft:
            return markup.stored(self.draft_body_html, self.html_version, self.draft_body)
        return markup.stored(self.body_html, self.html_version, self.body)

    def shown_html(self) -> Markup:
        """What the post's page shows: the published version once public, else the draft."""
        return self.html(draft=not self.public)


class ActivityReport(db.Model):
    __tablename__ = "activity_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False)
    # Counts towards hiding the post: the reporter's address was confirmed and their account
    # at least REPORTS_MIN_ACCOUNT_AGE old when they reported (decided then, kept after).
    counted: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("activity_id", "user_id"),)
