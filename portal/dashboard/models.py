from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class EnteredFigure(db.Model):
    """A figure staff entered for a target (e.g. the coverage rate reported by the education
    bureau).  Every update is a new row: the latest is current, the rest are its history."""

    __tablename__ = "entered_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    as_of: Mapped[date]
    source: Mapped[str] = mapped_column(sa.String(300))
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatSlice(db.Model):
    """One metric's value for one district and calendar month (site time): derived from the
    records by ``portal.dashboard.stats``, rebuilt by ``flask stats rebuild``."""

    __tablename__ = "stat_slices"

    metric: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # YYYY-MM
    value: Mapped[Decimal] = mapped_column(sa.Numeric(16, 1))


class StatDirty(db.Model):
    """A metric whose records changed since its rows were last computed."""

    __tablename__ = "stat_dirty"

    metric: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
