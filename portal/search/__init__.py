"""Site search: the only package that imports Whoosh and jieba.

The index is derived from the database and can be rebuilt at any time.  Features register
the kinds of records they want found (``register_source``) and call ``enqueue(kind, id)`` in
the unit of work that changes such a record: that writes a job, and the job worker applies
the record's current state to the index (a failure is retried; the save stands).  This
package imports no feature.

Layout in the instance folder::

    search/CURRENT           name of the live index directory
    search/index-<v>-<ts>/   one complete Whoosh index (schema version v)
"""

from __future__ import annotations

from flask import Blueprint

from portal.search.index import (
    check,
    close_searcher,
    enqueue,
    ensure_index,
    open_index,
    pending,
    rebuild,
)
from portal.search.query import QueryError, ResultPage, search
from portal.search.registry import Document, register_source, source, sources

__all__ = ["Document", "QueryError", "ResultPage", "bp", "check", "close_searcher",
           "ensure_index", "enqueue", "has_index", "init_app", "open_index", "pending",
           "rebuild", "register_source", "search", "source", "sources"]

bp = Blueprint("search", __name__, template_folder="templates")


def has_index() -> bool:
    """Is there a live index of the current schema (one that changes can be applied to)?"""
    from portal.search.index import _is_current_schema, current_dir

    return _is_current_schema(current_dir())


def init_app(app) -> None:
    from portal.search import views  # noqa: F401  (routes)
    from portal.search.cli import search_cli

    app.cli.add_command(search_cli)
    app.register_blueprint(bp)
