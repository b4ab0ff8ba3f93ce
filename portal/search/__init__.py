"""Site search: the only package that imports Whoosh and jieba.

The index is derived from the database and can be rebuilt at any time.  Features register
the kinds of records they want found (``register_source``) and call ``enqueue(kind, id)`` in
the unit of work that changes such a record: that writes a job, and the job worker applies
the record's current state to the index (a failure is retried; the save stands).  This
package imports no feature.

Two backends sit behind these functions (``SEARCH_BACKEND``, see ``backends``): Whoosh files
in the instance folder (``index``, the default) or a table in the site's PostgreSQL database
(``pg``).  Both use the same analysis (``analysis``), the same query plan and snippets
(``query``, ``results``) and the same index jobs (``indexing``).

The search page, its blueprint and the registration (``init_app``) are in ``views``.
"""

from __future__ import annotations

from portal.search.index import current_dir, open_index
from portal.search.indexing import (
    check,
    close_searcher,
    enqueue,
    ensure_index,
    has_index,
    pending,
    rebuild,
)
from portal.search.query import QueryError, ResultPage, search
from portal.search.registry import Document, register_source, source, sources

__all__ = ["Document", "QueryError", "ResultPage", "check", "close_searcher", "current_dir",
           "ensure_index", "enqueue", "has_index", "open_index", "pending",
           "rebuild", "register_source", "search", "source", "sources"]
