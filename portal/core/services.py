from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from portal import search
from portal.extensions import db


def health() -> dict[str, str]:
    """Each part the site needs, "ok" or "error" (details go to the log, not the response)."""
    result = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        result["database"] = "ok"
    except Exception:
        db.session.rollback()
        current_app.logger.exception("health check: database unusable")
        result["database"] = "error"
    try:
        search.check()
        result["search"] = "ok"
    except Exception:
        current_app.logger.exception("health check: search index unusable")
        result["search"] = "error"
    return result
