"""The search backend the suite runs against (``PORTAL_TEST_SEARCH_BACKEND``: whoosh by
default, postgresql with ``PORTAL_TEST_DATABASE_URL``), and what differs between them."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.search import index
from tests.conftest import PG_URL, SEARCH_BACKEND

whoosh_only = pytest.mark.skipif(SEARCH_BACKEND != "whoosh",
                                 reason="Whoosh's own files and searchers")
postgresql_only = pytest.mark.skipif(SEARCH_BACKEND != "postgresql",
                                     reason="the PostgreSQL backend's table and locks")
needs_postgresql = pytest.mark.skipif(not PG_URL, reason="needs PORTAL_TEST_DATABASE_URL")


def _sql(app, *statements) -> None:
    with app.app_context():
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.commit()


def break_index(app, monkeypatch):
    """Make the live index fail to open and to be written; returns the repair."""
    if SEARCH_BACKEND == "whoosh":
        def broken():
            raise OSError("index unavailable")

        monkeypatch.setattr(index, "open_index", broken)
        return monkeypatch.undo
    # The table goes away under another name: reads and writes fail as they would.
    _sql(app, "ALTER TABLE portal_search.documents RENAME TO documents_away")
    return lambda: _sql(app, "ALTER TABLE portal_search.documents_away RENAME TO documents")


def drop_index(app) -> None:
    """Lose the index entirely (as on a new server, or after a wipe)."""
    if SEARCH_BACKEND == "whoosh":
        shutil.rmtree(app.instance_path + "/search")
    else:
        _sql(app, "DELETE FROM portal_search.documents", "DELETE FROM portal_search.meta")
