from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db

# Recognition status of a household
NONE, NAMED, RECTIFY, REVOKED = "none", "named", "rectification", "revoked"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class Household(db.Model):
    __tablename__ = "households"
    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the owner deleted their account: pledges and reports stay for the aggregates,
    # nothing personal does.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(40))
    district: Mapped[str] = mapped_column(sa.String(32), index=True)
    town: Mapped[str] = mapped_column(sa.String(80), default="")
    members_count: Mapped[int] = mapped_column(default=1)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    show_on_wall: Mapped[bool] = mapped_column(default=False)
    wall_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_contact: Mapped[bool] = mapped_column(default=False)
    contact_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invite_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=NONE)
    named_on: Mapped[date | None]
    review_due: Mapped[date | None]
    # The review_due date the family was last told about (so that it is told once per review).
    review_noticed_for: Mapped[date | None]
    rectify_by: Mapped[date | None]
    certificate_code: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[HouseholdMember]] = relationship(
        back_populates="household", cascade="all, delete-orphan", passive_deletes=True)
    pledges: Mapped[list[HouseholdPledge]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="HouseholdPledge.code")
    reports: Mapped[list[MonthlyReport]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MonthlyReport.month")
    history: Mapped[list[StatusEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="StatusEvent.id")

    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_((NONE, NAMED, RECTIFY, REVOKED)),
                           name="status_known"),
        sa.CheckConstraint("members_count >= 1", name="members_positive"),
        # The green-families dataset in naming order; the staff list by status, newest first.
        sa.Index("ix_households_named_on_id", "named_on", "id"),
        sa.Index("ix_households_status_id", "status", "id"),
    )


class HouseholdMember(db.Model):
    """A user belongs to at most one household (the owner is a member too)."""

    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="members")
    user = relationship("User")


class HouseholdPledge(db.Model):
    """One action (a ``code`` of content/pledges.yaml) a household pledged."""

    __tablename__ = "household_pledges"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("household_id", "code"),)


class MonthlyReport(db.Model):
    __tablename__ = "monthly_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(sa.String(7))  # "YYYY-MM"
    pledged: Mapped[list] = mapped_column(sa.JSON, default=list)  # codes pledged at the time
    kept: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("household_id", "month"),)

    @property
    def rate(self) -> float:
        return len(self.kept) / len(self.pledged) if self.pledged else 0.0


class Application(db.Model):
    """A household asks to be recognised as a green family."""

    __tablename__ = "green_family_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True)
    story: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    household: Mapped[Household] = relationship()


class StatusEvent(db.Model):
    """Every change of a household's recognition, kept: who, when, what, why."""

    __tablename__ = "household_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by = relationship("User")


class PhoneUnmask(db.Model):
    """A staff member looked at a household's full phone number."""

    __tablename__ = "household_phone_unmasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
