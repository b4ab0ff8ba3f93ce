"""Site search: the only package that imports Whoosh and jieba.

The index is derived from the database and can be rebuilt at any time.  Features register
the kinds of records they want found (``register_source``) and call ``enqueue(kind, id)`` in
the transaction that changes such a record; the change reaches the index after the commit
(or, if that fails, with the next ``flask search sync``).  This package imports no feature.

Layout in the instance folder::

    search/CURRENT           name of the live index directory
    search/index-<v>-<ts>/   one complete Whoosh index (schema version v)
"""

from __future__ import annotations

from flask import Blueprint, current_app, g

from portal.search.index import (
    check,
    close_searcher,
    enqueue,
    ensure_index,
    open_index,
    pending,
    process_outbox,
    rebuild,
)
from portal.search.query import QueryError, ResultPage, search
from portal.search.registry import Document, register_source, source, sources

__all__ = ["Document", "QueryError", "ResultPage", "bp", "check", "close_searcher",
           "ensure_index", "enqueue", "has_index", "init_app", "open_index", "pending",
           "process_outbox",
           "rebuild", "register_source", "search", "source", "sources", "sync_quietly"]

bp = Blueprint("search", __name__, template_folder="templates")


def has_index() -> bool:
    """Is there a live index of the current schema (one that changes can be applied to)?"""
    from portal.search.index import _is_current_schema, current_dir

    return _is_current_schema(current_dir())


def sync_quietly() -> int | None:
    """Apply the outbox now; on failure log and leave it for the next sync."""
    try:
        return process_outbox()
    except Exception:
        current_app.logger.exception("search index update failed; changes wait in the outbox")
        from portal.extensions import db

        db.session.rollback()
        return None


def _apply_after_request(response):
    # Services call enqueue() and commit; the index follows once the response is ready.
    if g.pop("search_pending", False):
        from portal.extensions import db

        db.session.rollback()  # end the request's transaction: its work is committed
        sync_quietly()
    return response


def init_app(app) -> None:
    from portal.search import views  # noqa: F401  (routes)
    from portal.search.cli import search_cli

    app.cli.add_command(search_cli)
    app.after_request(_apply_after_request)
    app.register_blueprint(bp)
