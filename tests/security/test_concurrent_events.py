"""Concurrent event creation on one SQLite file never answers "database is locked" (issue 12,
item 8): several threads, each its own client of one app (a pool of SQLite connections to
one file, as in a threaded worker), create events through the API at the same moment; and
the same through gunicorn with 4 worker processes.  A control shows the failure mode when the
unit of work's ``BEGIN IMMEDIATE`` is replaced by a deferred ``BEGIN``."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.security.test_bad_json import token_for

THREADS = 8
EACH = 6


def _body(n: int) -> dict:
    return {"title": f"河道清洁 {n}", "place": "南湖北门", "district": "nanhu", "capacity": 5,
            "starts_at": "2027-06-05T09:00:00+08:00", "ends_at": "2027-06-05T11:00:00+08:00"}


def _storm(app, token: str) -> list[tuple[int, str]]:
    start = threading.Barrier(THREADS)

    def worker(t: int) -> list[tuple[int, str]]:
        client = app.test_client()
        start.wait()
        out = []
        for i in range(EACH):
            response = client.post("/api/v1/events", json=_body(t * 100 + i),
                                   headers={"Authorization": f"Bearer {token}"})
            out.append((response.status_code, response.get_data(as_text=True)[:200]))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        return [r for rs in pool.map(worker, range(THREADS)) for r in rs]


def test_simultaneous_event_creation_all_succeeds(make_app):
    app = make_app()
    app.testing = False  # a failure answers 500, like production, instead of raising
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's one write lock is what this is about")
    token = token_for(app, role="organizer")
    results = _storm(app, token)
    assert [r for r in results if r[0] != 201] == []
    from portal.events.models import Event
    from portal.extensions import db

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == THREADS * EACH


def test_control_deferred_transactions_do_fail(make_app, monkeypatch):
    """The same storm with the unit of work's ``BEGIN IMMEDIATE`` switched off (a deferred
    ``BEGIN``, ``immediate=False``): some requests now fail with "database is locked" — the
    storm above is strong enough to see what the write lock prevents."""
    from portal import db as portal_db
    from portal.events import services

    app = make_app()
    app.testing = False
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's one write lock is what this is about")
    token = token_for(app, role="organizer")

    def deferred(session=None, *, immediate=True):
        return portal_db.writing(session, immediate=False)

    monkeypatch.setattr(services, "writing", deferred)
    results = _storm(app, token)
    assert any(status == 500 for status, _ in results), "the control saw no failure"


@pytest.mark.slow
def test_simultaneous_event_creation_through_four_worker_processes(make_app):
    from portal.events.models import Event
    from portal.extensions import db
    from tests.events.test_concurrency import Server

    app = make_app()
    token = token_for(app, role="organizer")
    server = Server(app, locking=True)
    calls = 64
    start = threading.Barrier(calls)

    def one(n: int) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            start.wait(timeout=30)
            conn.request("POST", "/api/v1/events", body=json.dumps(_body(n)),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read().decode()[:200]
        finally:
            conn.close()

    try:
        with ThreadPoolExecutor(calls) as pool:
            results = list(pool.map(one, range(calls)))
    finally:
        server.stop()
    assert [r for r in results if r[0] != 201] == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == calls
