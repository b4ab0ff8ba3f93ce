"""Which backend keeps the index: ``SEARCH_BACKEND`` is ``whoosh`` (files in the instance
folder, the embedded default: ``portal.search.index``) or ``postgresql`` (tables in the site's
PostgreSQL database, shared by every app server: ``portal.search.pg``).

A backend is a module with the same functions:

* ``search(pieces, kind, lang, result, time_limit)`` fills a ``ResultPage`` (words first, then
  character pairs when the words do not fill the page; total, hits and snippets);
* ``apply(record, documents)`` replaces the documents of one record (``kind:id``) by these
  (an index job; raises when the index cannot be written, and the job is retried);
* ``build(documents)`` makes a complete index of these documents and puts it live (the
  previous one stays searchable until then), returning how many it indexed;
* ``has_index()`` (a live index of the current schema exists), ``check()`` (its document
  count; raises if it is unusable), ``close()`` (drop what the process holds open).
"""

from __future__ import annotations

from flask import current_app

from portal.config import ConfigError
from portal.search import index, pg

BACKENDS = {"whoosh": index, "postgresql": pg}


def current():
    """The backend module of the current app."""
    return BACKENDS[current_app.config["SEARCH_BACKEND"]]


def check_config(app) -> None:
    """At start-up: the backend is known and can run on this database."""
    name = app.config.get("SEARCH_BACKEND")
    if name not in BACKENDS:
        raise ConfigError(f"PORTAL_SEARCH_BACKEND={name!r} is not valid: expected whoosh or "
                          "postgresql.")
    if name == "postgresql" and not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith(
            "postgresql"):
        raise ConfigError("PORTAL_SEARCH_BACKEND=postgresql keeps the search index in the "
                          "site's PostgreSQL database, but the database is not PostgreSQL: set "
                          "PORTAL_DATABASE_URL=postgresql+psycopg://… or use the whoosh "
                          "backend.")
