from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import search
from portal.core.content import page_problems
from portal.db import discard, utcnow
from portal.extensions import db
from portal.jobs.models import DEAD, PENDING, Job
from portal.jobs.services import count
from portal.site import site_problems

OVERDUE = timedelta(minutes=10)  # a job due this long ago: is the worker running?


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
        search.search("绿色")  # a real query: an index that opens may still fail to search
        result["search"] = "ok"
    except Exception:
        current_app.logger.exception("health check: search index unusable")
        result["search"] = "error"
    problems = [*site_problems(current_app.config["CONTENT_DIR"]), *page_problems()]
    for problem in problems:
        current_app.logger.error("health check: content: %s", problem)
    result["content"] = "error" if problems else "ok"
    return result


def warnings() -> dict[str, int]:
    """Things staff should look at that do not make the site unhealthy: jobs that failed for
    good, and jobs long overdue (no worker running?)."""
    try:
        overdue = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.state == PENDING, Job.due_at < utcnow() - OVERDUE)) or 0
        return {"dead_jobs": count(DEAD), "overdue_jobs": overdue}
    except Exception:
        discard()
        current_app.logger.exception("health check: job queue unreadable")
        return {}
