from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.i18n import Localized, pick

ALT_MAX = 250
CREDIT_MAX = 250
LICENCE_MAX = 120
JPEG, WEBP = "jpg", "webp"


class Media(db.Model):
    """One picture of the library, stored as ``instance/media/<stem>-<width>.<webp|jpg>`` for
    each of ``widths`` (smallest first); ``width``/``height`` are the largest variant's."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    stem: Mapped[str] = mapped_column(sa.String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    widths: Mapped[list] = mapped_column(sa.JSON)
    alt_zh: Mapped[str] = mapped_column(sa.String(ALT_MAX))
    alt_en: Mapped[str] = mapped_column(sa.String(ALT_MAX))
    credit: Mapped[str] = mapped_column(sa.String(CREDIT_MAX))
    licence: Mapped[str] = mapped_column(sa.String(LICENCE_MAX), default="", server_default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def alt(self, locale: str | None = None) -> Localized:
        return pick(self, "alt", locale)

    def filename(self, width: int, ext: str) -> str:
        return f"{self.stem}-{width}.{ext}"

    def files(self) -> list[str]:
        return [self.filename(w, ext) for w in self.widths for ext in (WEBP, JPEG)]

    def largest(self) -> int:
        return max(self.widths)

    def smallest(self) -> int:
        return min(self.widths)
