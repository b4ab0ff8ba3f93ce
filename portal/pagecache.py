"""The anonymous page cache (issue 13): its per-table generation counters.

The cache itself comes with the next commits; the table exists from migration 0011 on.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class Generation(db.Model):
    """How many units of work have changed a table (only ever raised)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)
