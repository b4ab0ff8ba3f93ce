"""One row per staff action (the table was the schools' ``moderation_log`` until 0019)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class AuditEntry(db.Model):
    """Who (``actor``: none for what the portal did by itself), when, what (``action``, a
    code described in words by ``portal.audit.describe``), on what (``target`` "kind:id" and
    ``label``, what people called it then), why (``reason``), and the details the sentence
    names (``data``)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(32))
    target: Mapped[str] = mapped_column(sa.String(64))  # "activity:12", "school:3"
    label: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default=sa.text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")

    __table_args__ = (
        sa.Index("ix_audit_log_actor_id_id", "actor_id", "id"),
        sa.Index("ix_audit_log_action_id", "action", "id"),
        sa.Index("ix_audit_log_created_at", "created_at"),
        sa.Index("ix_audit_log_target_id", "target", "id"),  # one thing's history; erasure
    )
