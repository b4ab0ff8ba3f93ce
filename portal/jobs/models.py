from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"
STATES = (PENDING, RUNNING, DONE, DEAD)


class Job(db.Model):
    """A side effect to carry out (a mail, an index update, periodic work), written in the
    same transaction as the change that causes it, so that a crash cannot lose it.

    A worker claims a job by setting it ``running`` with a lease (``locked_until``); a worker
    that dies leaves it to be claimed again once the lease has run out.  Failures wait with a
    growing delay (``due_at``); after ``JOBS_MAX_ATTEMPTS`` the job is ``dead`` and shown to
    admins.  ``unique_key`` makes periodic jobs once per period, whatever the number of
    workers.
    """

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(80))
    unique_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
