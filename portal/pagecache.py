"""The anonymous page cache: the one door to Flask-Caching.

Pages that every anonymous visitor sees alike in a language (``PAGES``) are stored once
rendered and served from the store until what they show changes.  What "changes" means is
counted, not guessed: every unit of work raises a generation counter for each table it wrote
(one row per table in ``cache_generations``, raised in the same transaction), and a page is
looked up under a key made of its locale, path, query string and the counters of the tables it
shows.  A write to one of those tables makes a new key, so the old copy is never served again
(it expires on its own after ``PAGE_CACHE_SECONDS``, which also bounds how long a page that
depends on the clock, such as "upcoming events", can lag).

Only requests without a signed-in session (no ``_user_id`` in the session, no remember cookie)
and without flashed messages are served or stored; a response is stored only when it is a 200
that set no cookie and rendered no form token (``g.csrf_token``).  Every response of these pages
gets an ``ETag`` and ``Last-Modified`` and answers ``If-None-Match``/``If-Modified-Since`` with
304.  The store is in-process (``SimpleCache``) unless ``PAGE_CACHE_REDIS_URL`` names a Redis
server that several app servers share; the counters are in the database either way, so a
write seen by one worker invalidates the pages of all of them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import sqlalchemy as sa
from flask import current_app, g, has_app_context, request, session
from flask_caching import Cache
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RoutingException
from werkzeug.wrappers import Request, Response

from portal.config import ConfigError
from portal.db import on_commit_tables
from portal.extensions import db
from portal.i18n import visitor_locale

log = logging.getLogger(__name__)

#: Tables whose changes no cached page shows (sessions, tokens, jobs, sign-in bookkeeping).
UNSHOWN = frozenset({
    "cache_generations", "jobs", "login_sessions", "login_throttle", "password_resets",
    "api_tokens", "email_verifications", "calendar_feeds", "alembic_version",
    "stat_dirty",
})
LIBRARY = ("articles", "topics", "article_topics", "observances")
ALL = None  # every table not in UNSHOWN

#: The cached pages (endpoints) and the tables each shows (ALL: any shown table).
PAGES: dict[str, tuple[str, ...] | None] = {
    "core.home": ALL,
    "core.privacy": ALL,
    "learn.index": LIBRARY,
    "learn.article": LIBRARY,
    "learn.topic": LIBRARY,
    "learn.observances": ALL,
    "learn.observance": ALL,
    "events.upcoming": ALL,
    "events.month": ALL,
    "events.detail": ALL,
    "events.public_feed": ("events", *LIBRARY),  # events and observance days only
    "dashboard.overview": ALL,
    "dashboard.open_data": ALL,
    "schools.directory": ALL,
    "schools.school": ALL,
    "schools.activity": ALL,
    "schools.feed": ALL,
    "households.wall": ALL,
    # issue 14 (editorial): published news, notices and pages
    "learn.news": LIBRARY,
    "learn.notices": LIBRARY,
    "core.page": ("articles", "media"),
}

#: Response headers kept with a stored page.
_KEPT = ("Content-Type", "Content-Language", "Content-Disposition")


class Generation(db.Model):
    """How many units of work have changed a table (only ever raised)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


# -- counting writes (portal.db collects the tables each transaction wrote) ---------------------

@on_commit_tables
def _raise_generations(session, tables: frozenset[str]) -> None:
    """In the committing transaction: raise the counter of every shown table it wrote."""
    shown = sorted(tables - UNSHOWN)  # sorted: two writers never wait on each other in turn
    if not shown:
        return
    _forget_generations()  # this process reads them again (its own change shows at once)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for name in shown:
        statement = insert(Generation.__table__).values(name=name, value=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": Generation.__table__.c.value + 1}))


def _generations_sql(tables: tuple[str, ...] | None) -> str:
    # Our own table names (constants in this module), never input.
    names = "" if tables is ALL else ", ".join(f"'{name}'" for name in tables)
    where = f" WHERE name IN ({names})" if names else ""
    return f"SELECT name, value FROM cache_generations{where} ORDER BY name"  # noqa: S608


def generations(tables: tuple[str, ...] | None) -> list[tuple[str, int]]:
    """The counters of ``tables`` (ALL: every table written so far), as read at most
    ``PAGE_CACHE_CHECK_SECONDS`` ago by this process: reading them is most of what a stored
    page costs (a round trip to the database), so a busy worker reads each set about once a
    second instead of for every page."""
    check = current_app.config["PAGE_CACHE_CHECK_SECONDS"]
    if check <= 0:
        return _read_generations(tables)
    seen = current_app.extensions["portal_pagecache_generations"]
    now = time.monotonic()
    found = seen.get(tables)
    if found is not None and now - found[0] < check:
        return found[1]
    rows = _read_generations(tables)
    seen[tables] = (now, rows)
    return rows


def _forget_generations() -> None:
    if has_app_context():
        current_app.extensions.get("portal_pagecache_generations", {}).clear()


def _read_generations(tables: tuple[str, ...] | None) -> list[tuple[str, int]]:
    """The counters, on a pooled DBAPI connection, without the ORM or SQLAlchemy's statement
    layer."""
    conn = db.engine.raw_connection()
    try:
        cursor = conn.cursor()
        cursor.execute(_generations_sql(tables))
        rows = [(name, int(value)) for name, value in cursor.fetchall()]
        cursor.close()
        conn.commit()  # end the read (PostgreSQL: no transaction left open in the pool)
        return rows
    finally:
        conn.close()


# -- serving and storing -----------------------------------------------------------------------

#: Response headers not kept with a stored page (made again, or not the visitor's).
_NOT_KEPT = frozenset({"set-cookie", "content-length", "date", "etag", "last-modified",
                       "x-page-cache"})


def _store() -> Cache:
    return current_app.extensions["portal_pagecache"]


def _without_session(cookies) -> bool:
    """No session and no remember cookie: a visitor who cannot be signed in (and has no
    flashed message or form token waiting)."""
    cfg = current_app.config
    return cfg["SESSION_COOKIE_NAME"] not in cookies and cfg["REMEMBER_COOKIE_NAME"] not in cookies


def _key(environ, cookies, accept_languages, tables) -> str:
    raw = "\x1f".join([visitor_locale(cookies, accept_languages), environ.get("HTTP_HOST", ""),
                       environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                       repr(generations(tables))])
    return "page:" + hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


def _validators(response: Response, etag: str, modified: str) -> None:
    response.set_etag(etag)
    response.headers["Last-Modified"] = modified
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a 304 costs nothing
    response.vary.update(("Cookie", "Accept-Language"))


class Middleware:
    """WSGI, inside ProxyFix and in front of Flask: a stored page is answered without a request
    context, session, sign-in lookup or template (the point of the cache)."""

    def __init__(self, app, inner):
        self.app, self.inner = app, inner

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            response = self.lookup(environ)
            if response is not None:
                return response(environ, start_response)
        return self.inner(environ, start_response)

    def lookup(self, environ) -> Response | None:
        request = Request(environ)
        with self.app.app_context():
            if not _without_session(request.cookies) or "lang" in request.args:
                return None
            try:
                endpoint, _values = self.app.url_map.bind_to_environ(environ).match()
            except (HTTPException, RoutingException):
                return None
            tables = PAGES.get(endpoint, False)
            if tables is False:
                return None
            try:
                entry = _store().get(_key(environ, request.cookies, request.accept_languages,
                                          tables))
            except Exception:  # a store that is away is a miss, never an error
                log.warning("page cache unavailable", exc_info=True)
                return None
        if entry is None:
            return None
        response = Response(entry["body"], status=200, headers=entry["headers"])
        _validators(response, entry["etag"], entry["modified"])
        response.headers["X-Page-Cache"] = "hit"
        return response.make_conditional(request)


def store(response: Response) -> Response:
    """``after_request``: keep a cacheable answer, and make it conditional."""
    tables = PAGES.get(request.endpoint or "", False)
    if tables is False or request.method not in ("GET", "HEAD"):
        return response
    cacheable = (response.status_code == 200 and not response.is_streamed
                 and _without_session(request.cookies) and "lang" not in request.args
                 and "Set-Cookie" not in response.headers and "csrf_token" not in g
                 and not session.modified)
    if not cacheable:
        return response
    body = response.get_data()
    etag = hashlib.sha256(body).hexdigest()[:32]
    modified = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
    _validators(response, etag, modified)
    entry = {"body": body, "etag": etag, "modified": modified,
             "headers": [(k, v) for k, v in response.headers.items()
                         if k.lower() not in _NOT_KEPT]}
    try:
        _store().set(_key(request.environ, request.cookies, request.accept_languages, tables),
                     entry)
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return response
    response.headers["X-Page-Cache"] = "miss"
    return response.make_conditional(request)


def clear() -> None:
    """Drop every stored page (``flask setup`` after content changes; tests)."""
    _store().clear()


def init_app(app) -> None:
    """Make this application's store, keep pages after each request and answer stored ones
    in front of Flask (inside ProxyFix: call after ``links.init_app``)."""
    cfg = app.config
    url = cfg.get("PAGE_CACHE_REDIS_URL")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"PORTAL_PAGE_CACHE_REDIS_URL={url!r} is not valid: expected a Redis "
                          "address such as redis://127.0.0.1:6379/1.")
    settings = {"CACHE_DEFAULT_TIMEOUT": cfg["PAGE_CACHE_SECONDS"],
                "CACHE_KEY_PREFIX": "portal-page:"}
    if url:
        settings.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url)
    else:
        settings.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=2000)
    app.extensions["portal_pagecache"] = Cache(app, config=settings)
    app.extensions["portal_pagecache_generations"] = {}  # tables → (when read, counters)
    if cfg["PAGE_CACHE_ENABLED"]:
        app.after_request(store)
        if isinstance(app.wsgi_app, ProxyFix):  # behind it: hosts and schemes are the real ones
            app.wsgi_app.app = Middleware(app, app.wsgi_app.app)
        else:
            app.wsgi_app = Middleware(app, app.wsgi_app)
