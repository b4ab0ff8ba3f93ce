from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import markup
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.i18n import Localized, pick
from portal.media.models import Media

DRAFT, PUBLISHED, CANCELLED = "draft", "published", "cancelled"
CONFIRMED, WAITLISTED, WITHDRAWN = "confirmed", "waitlisted", "cancelled"


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_zh: Mapped[str] = mapped_column(sa.String(200), default="")
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    # The descriptions rendered when they were saved (portal.markup), and by which version of
    # the renderer (0: not yet; pages then show the text escaped).
    description_zh_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    description_en_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(200))
    district: Mapped[str] = mapped_column(sa.String(32))
    capacity: Mapped[int]
    observance_slug: Mapped[str | None] = mapped_column(sa.String(64))
    min_age: Mapped[int | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    organizer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # iCalendar SEQUENCE: raised by every change that calendars must pick up (RFC 5545).
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # The cover picture from the media library (issue 14), if any.
    cover_id: Mapped[int | None] = mapped_column(sa.ForeignKey("media.id", ondelete="SET NULL"))
    cover: Mapped[Media | None] = relationship(Media, lazy="select")

    signups: Mapped[list[Signup]] = relationship(back_populates="event",
                                                 cascade="all, delete-orphan",
                                                 passive_deletes=True, order_by="Signup.id")

    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_((DRAFT, PUBLISHED, CANCELLED)),
                           name="status_known"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    def title(self, locale: str | None = None) -> Localized:
        return pick(self, "title", locale)

    def description(self, locale: str | None = None) -> Localized:
        return pick(self, "description", locale)

    def description_html(self, locale: str | None = None) -> tuple[Markup, str]:
        """The description as stored HTML (never rendered here) and its language."""
        text = self.description(locale)
        if not text:
            return Markup(""), text.lang
        return markup.stored(getattr(self, f"description_{text.lang}_html", ""),
                             self.html_version, text), text.lang


class Signup(db.Model):
    """One person's place on one event: confirmed, on the waiting list, or cancelled.

    At most one row per person and event.  ``queued_at`` orders the waiting list (first come,
    first served); signing up again after cancelling queues anew.
    """

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    # NULL once the person deleted their account: the row stays for the event's totals.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 1))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="signups")
    user = relationship("User")
    corrections: Mapped[list[HoursCorrection]] = relationship(
        back_populates="signup", cascade="all, delete-orphan", passive_deletes=True,
        order_by="HoursCorrection.id")

    __table_args__ = (
        sa.UniqueConstraint("event_id", "user_id"),
        sa.CheckConstraint(sa.column("status").in_((CONFIRMED, WAITLISTED, WITHDRAWN)),
                           name="status_known"),
        sa.Index("ix_signups_event_status", "event_id", "status", "queued_at"),
    )


class HoursCorrection(db.Model):
    """An organizer changed the computed hours: who, when, from what, to what, and why."""

    __tablename__ = "hours_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(sa.ForeignKey("signups.id", ondelete="CASCADE"),
                                           index=True)
    previous: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 1))
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 1))
    reason: Mapped[str] = mapped_column(sa.String(500))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signup: Mapped[Signup] = relationship(back_populates="corrections")
    by = relationship("User")


class CalendarFeed(db.Model):
    """The secret address of a person's own calendar feed ("my events"); resettable.  Only
    the SHA-256 of the token is kept (``accounts.services.token_hash``), like reset links."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
