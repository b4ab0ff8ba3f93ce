"""A person's notifications (what the site tells them) and their choice of mail per kind."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Notification(db.Model):
    """One thing a person was told: its kind (``services.kind``), the values its sentence
    names (``params``), where to act (a local path) and whether they have read it."""

    __tablename__ = "notifications"
    # A person's list, newest first, and their unread count: both walk this index.
    __table_args__ = (sa.Index("ix_notifications_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationSetting(db.Model):
    """A person's choice for one kind: mail or not (no row: mail, the default)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    mail: Mapped[bool] = mapped_column(default=True)
