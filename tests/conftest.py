"""Every test gets a fresh app, database and search index in a temporary folder.

SQLite by default; PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` is set (each test gets its own
database, cloned from a template that the real migrations built once per session).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal import create_app

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
# The search backend of every app made here: "whoosh" (default) or "postgresql" (needs PG_URL).
SEARCH_BACKEND = os.environ.get("PORTAL_TEST_SEARCH_BACKEND") or "whoosh"

# Argon2id with small costs keeps the suite fast; production defaults are tested separately.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192, "ARGON2_PARALLELISM": 1}

PASSWORD = "correct horse battery staple"


def _pg_admin_engine():
    return sa.create_engine(make_url(PG_URL).set(database="postgres"),
                            isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _prepare(instance: str, url: str | None, with_content: bool) -> None:
    """Run the real migrations (and optionally load content/ and build the index)."""
    from flask_migrate import upgrade

    from portal import search
    from portal.core import content
    from portal.extensions import db

    app = create_app({"TESTING": True, "INSTANCE_PATH": instance, "DATABASE_URL": url,
                      "SEARCH_BACKEND": SEARCH_BACKEND})
    with app.app_context():
        upgrade()
        if with_content:
            content.sync()
            search.ensure_index()
        search.close_searcher()
        db.session.remove()
        db.engine.dispose()


class Template:
    """A prepared instance folder (and, on PostgreSQL, a database) that tests copy."""

    def __init__(self, folder: str, pg_name: str | None):
        self.folder, self.pg_name = folder, pg_name


def _template(tmp_path_factory, with_content: bool):
    folder = str(tmp_path_factory.mktemp("template"))
    if not PG_URL:
        _prepare(folder, None, with_content)
        return Template(folder, None), lambda: None
    name = f"portal_tpl_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    _prepare(folder, make_url(PG_URL).set(database=name).render_as_string(hide_password=False),
             with_content)

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return Template(folder, name), drop


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrated, empty: most tests start here."""
    template, drop = _template(tmp_path_factory, with_content=False)
    yield template
    drop()


@pytest.fixture(scope="session")
def library_template(tmp_path_factory):
    """Migrated, with the real content/ loaded and the search index built."""
    template, drop = _template(tmp_path_factory, with_content=True)
    yield template
    drop()


def _app_factory(tmp_path, template: Template):
    """Apps sharing one fresh copy of ``template`` (like worker processes of one site)."""
    instance = str(tmp_path / "instance")
    shutil.copytree(template.folder, instance)
    created = []
    db_name = None
    url = None
    if template.pg_name:
        db_name = f"portal_test_{uuid.uuid4().hex[:12]}"
        with _pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{db_name}" TEMPLATE "{template.pg_name}"')
        url = make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False)

    def factory(**overrides):
        # Rate limits are off unless a test turns them on (tests/security/test_rate_limits.py);
        # the page cache reads its counters for every page (two apps here are two servers)
        # unless a test asks for the reuse (tests/test_pagecache.py).
        config = {"TESTING": True, "INSTANCE_PATH": instance, "DATABASE_URL": url,
                  "RATELIMIT_ENABLED": False, "SEARCH_BACKEND": SEARCH_BACKEND,
                  "PAGE_CACHE_CHECK_SECONDS": 0,
                  **FAST_HASHING, **overrides}
        app = create_app(config)
        created.append(app)
        return app

    def cleanup():
        from portal import search
        from portal.extensions import db

        for app in created:
            with app.app_context():
                search.close_searcher()
                db.session.remove()
                db.engine.dispose()
        if db_name:
            with _pg_admin_engine().connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    return factory, cleanup


@pytest.fixture
def make_app(tmp_path, database_template):
    factory, cleanup = _app_factory(tmp_path, database_template)
    yield factory
    cleanup()


@pytest.fixture
def app(make_app):
    from portal import search

    app = make_app()
    with app.app_context():
        search.ensure_index()
    return app


@pytest.fixture
def make_library_app(tmp_path, library_template):
    factory, cleanup = _app_factory(tmp_path, library_template)
    yield factory
    cleanup()


@pytest.fixture
def library(make_library_app):
    """An app whose database holds the real library and whose index is built."""
    return make_library_app()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


# -- helpers -----------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'type="hidden" name="csrf_token" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return next(g for g in match.groups() if g)


def make_user(app, email="user@example.org", password=PASSWORD, role="citizen",
              name="测试用户", locale=None, verified=True):
    """An account made directly (like ``flask users create``): its address is confirmed
    unless ``verified=False``."""
    from portal.accounts import services

    with app.app_context():
        user = services.register(email, name, password, consent=True, role=role, locale=locale,
                                 verified=verified)
        return user.id


def sign_in(client, email="user@example.org", password=PASSWORD, remember=False, lang=None):
    data = {"email": email, "password": password,
            "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/login" + (f"?lang={lang}" if lang else ""), data=data)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what a real SMTP server received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


def run_jobs(app, only=None) -> int:
    """What the job worker would do now: run every due job (no periodic scheduling)."""
    from portal.jobs.services import work

    with app.app_context():
        return work(burst=True, schedule=False, only=only)


def outbox(app, run: bool = True) -> list:
    """Messages in the file outbox, oldest first, parsed; by default after the job worker has
    sent what is due (``run=False``: only what has been sent so far)."""
    if run:
        run_jobs(app)
    from email import policy
    from email.parser import BytesParser

    folder = os.path.join(app.instance_path, "outbox")
    if not os.path.isdir(folder):
        return []
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".eml"):
            with open(os.path.join(folder, name), "rb") as fh:
                out.append(BytesParser(policy=policy.default).parse(fh))
    return out


def count_request(app, client, path: str, **kwargs):
    """``client.get(path)`` (a 200) and the number of SQL statements it ran on the app's
    engine: (count, response)."""
    from portal.extensions import db

    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(path, **kwargs)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, (path, response.status_code)
    return count, response


def statements(app, client, path: str, **kwargs) -> tuple[int, str]:
    """The number of SQL statements the request for ``path`` ran, and its page (a 200)."""
    count, response = count_request(app, client, path, **kwargs)
    return count, response.get_data(as_text=True)
