"""Site search: the only package that imports Whoosh and jieba.

The index is derived from the database and can be rebuilt at any time.  Features register
the kinds of records they want found (``register_source``) and call ``enqueue(kind, id)`` in
the unit of work that changes such a record: that writes a job, and the job worker applies
the record's current state to the index (a failure is retried; the save stands).  This
package imports no feature.

Layout in the instance folder::

    search/CURRENT           name of the live index directory
    search/index-<v>-<ts>/   one complete Whoosh index (schema version v)

The search page, its blueprint and the registration (``init_app``) are in ``views``.
"""

from __future__ import annotations

from portal.search.index import (
    _is_current_schema,
    check,
    close_searcher,
    current_dir,
    enqueue,
    ensure_index,
    open_index,
    pending,
    rebuild,
)
from portal.search.query import QueryError, ResultPage, search
from portal.search.registry import Document, register_source, source, sources

__all__ = ["Document", "QueryError", "ResultPage", "check", "close_searcher",
           "ensure_index", "enqueue", "has_index", "open_index", "pending",
           "rebuild", "register_source", "search", "source", "sources"]


def has_index() -> bool:
    """Is there a live index of the current schema (one that changes can be applied to)?"""
    return _is_current_schema(current_dir())
