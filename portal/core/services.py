from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from portal import search
from portal.db import discard
from portal.extensions import db
from portal.jobs.models import DEAD
from portal.jobs.services import count


def health() -> dict[str, str]:
    """Each part the site needs, "ok" or "error" (details go to the log, not the response)."""
    result = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        result["database"] = "ok"
    except Exception:
        discard()
        current_app.logger.exception("health check: database unusable")
        result["database"] = "error"
    try:
        search.check()
        result["search"] = "ok"
    except Exception:
        current_app.logger.exception("health check: search index unusable")
        result["search"] = "error"
    return result


def warnings() -> dict[str, int]:
    """Things staff should look at that do not make the site unhealthy."""
    try:
        return {"dead_jobs": count(DEAD)}
    except Exception:
        discard()
        current_app.logger.exception("health check: job queue unreadable")
        return {}
