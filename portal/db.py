"""Declarative base, naming convention, the UTC datetime type and engine settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Store aware datetimes as UTC; always hand back aware UTC datetimes.

    SQLite keeps no zone and returns naive values; PostgreSQL's ``timestamptz`` returns aware
    ones.  Naive values given to us are refused: they are a bug, not an input.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys and a busy timeout on every SQLite connection.

    pysqlite's own transaction handling is switched off so that ``BEGIN`` is issued by us
    (SQLAlchemy's documented recipe); writers that must not race use ``BEGIN IMMEDIATE``.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


class UnitOfWork:
    """One change to the database: committed as a whole or not at all.

    ``after_commit(fn)`` registers work for after a successful commit (never run when the
    change is rolled back).  Side effects that must not be lost are not after-commit
    callbacks but jobs (``portal.jobs.enqueue``), written in the same transaction.
    """

    def __init__(self, session):
        self.session = session
        self._after: list[Callable[[], None]] = []

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after.append(fn)

    def _run_after_commit(self) -> None:
        for fn in self._after:
            try:
                fn()
            except Exception:  # the change is committed; a callback cannot undo it
                current_app.logger.exception("after-commit callback failed")


def _session(session=None):
    from portal.extensions import db  # noqa: PLC0415 (cycle: portal.extensions imports Base from here)

    session = session if session is not None else db.session
    return session() if callable(getattr(session, "registry", None)) else session


def current_unit(session=None) -> UnitOfWork | None:
    """The unit of work the session is in, if any."""
    return _session(session).info.get("unit_of_work")


@contextmanager
def writing(session=None, *, immediate: bool = True) -> Iterator[UnitOfWork]:
    """The one way to change the database::

        with writing() as uow:
            ...  # read, decide, write; raise a RuleError to change nothing

    Starts the write transaction (``BEGIN IMMEDIATE`` on SQLite: the write lock is taken,
    waiting up to the busy timeout, before anything is read, so a read-then-write can neither
    fail half-way with "database is locked" nor act on a stale read; a plain ``BEGIN`` on
    PostgreSQL, where services use row locks or atomic statements), commits when the block
    ends, rolls back on *any* exception, then runs the after-commit callbacks.  A ``writing()``
    inside another joins it: the outer one commits.  Slow pure work (hashing, rendering,
    re-encoding) belongs before the block, not inside it.  ``immediate=False`` (a deferred
    SQLite transaction) exists only for the control tests that show what the lock prevents.
    """
    session = _session(session)
    outer = session.info.get("unit_of_work")
    if outer is not None:
        yield outer
        return
    sqlite = session.get_bind().dialect.name == "sqlite"
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unsaved changes outside a unit of work")
        if sqlite:
            # End the read-only transaction (e.g. the one that loaded current_user): a
            # deferred SQLite transaction that has read cannot become a writer safely.
            session.rollback()
        # On PostgreSQL (READ COMMITTED: every statement reads what is committed now) the
        # read-only transaction simply goes on as the writer: no round trips, and what it
        # loaded stays loaded.
    uow = UnitOfWork(session)
    session.info["unit_of_work"] = uow
    # Bookkeeping rides along on PostgreSQL only: on SQLite it would lengthen the one lock.
    riding = [] if sqlite else _take_bookkeeping()
    try:
        if sqlite:
            session.connection(execution_options={"sqlite_begin":
                                                  "IMMEDIATE" if immediate else ""})
        for statement in riding:
            session.execute(statement)
        yield uow
        session.commit()
    except BaseException:
        session.rollback()
        _give_back_bookkeeping(riding)  # the request's end still writes them, if it can
        raise
    finally:
        session.info.pop("unit_of_work", None)
    uow._run_after_commit()


# -- what a transaction wrote ------------------------------------------------------------------
#
# Derived data (the page cache's counters, the summary figures) must follow every change, however
# it was made: ORM objects or bulk statements, in writing() or not.  The session collects the
# names of the tables each transaction writes; just before it commits, each registered hook is
# given them and may add its own statements to the same transaction.

_COMMIT_HOOKS: list[Callable] = []


def on_commit_tables(hook: Callable) -> Callable:
    """Register ``hook(session, tables)``, called in the committing transaction with the set of
    table names it wrote (never called for a transaction that wrote nothing)."""
    _COMMIT_HOOKS.append(hook)
    return hook


def _written(session, table) -> None:
    name = getattr(table, "name", None)
    if name:
        session.info.setdefault("written_tables", set()).add(name)


@sa.event.listens_for(Session, "after_flush")
def _collect_flushed(session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        if table is not None and (obj not in session.dirty or session.is_modified(obj)):
            _written(session, table)


@sa.event.listens_for(Session, "do_orm_execute")
def _collect_executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _written(state.session, getattr(state.statement, "table", None))


@sa.event.listens_for(Session, "before_commit")
def _run_commit_hooks(session) -> None:
    session.flush()
    tables = session.info.pop("written_tables", set())
    if tables:
        for hook in _COMMIT_HOOKS:
            hook(session, frozenset(tables))
        session.flush()
    session.info.pop("written_tables", None)  # what the hooks wrote themselves


@sa.event.listens_for(Session, "after_rollback")
def _forget_written(session) -> None:
    session.info.pop("written_tables", None)


# -- bookkeeping -------------------------------------------------------------------------------

def bookkeeping(statement) -> None:
    """Record something that must never slow a request down (an API token's "last used").

    During a request it is written when the request ends, if the database is free then
    (``if_free``) — on PostgreSQL it rides along with the request's unit of work instead, if
    one opens, which saves a transaction of its own.  (Not on SQLite: there a unit of work
    holds the one write lock of the whole database, and nothing optional belongs inside it.)
    Outside a request it is written at once, if the database is free."""
    if has_request_context():
        g.setdefault("bookkeeping", []).append(statement)
    else:
        if_free(statement)


def _take_bookkeeping() -> list:
    return g.pop("bookkeeping", []) if has_request_context() else []


def _give_back_bookkeeping(statements: list) -> None:
    if statements and has_request_context():
        g.setdefault("bookkeeping", []).extend(statements)


def _write_bookkeeping_at_the_end(_error=None) -> None:
    for statement in _take_bookkeeping():
        if_free(statement)


def init_app(app) -> None:
    app.teardown_request(_write_bookkeeping_at_the_end)


def if_free(statement) -> bool:
    """Bookkeeping that must never slow a request down (an API token's "last used"): one
    statement in a transaction of its own, on a connection of its own — so the request's
    session and the objects it loaded are untouched — and only if the database is free right
    now (no waiting for the SQLite write lock; on PostgreSQL the statement takes only the row
    it changes, which nothing else holds for long).
    Returns whether it was written; not being written is not an error.  Anything that matters
    belongs in ``writing()``."""
    from portal.extensions import db  # noqa: PLC0415 (cycle: portal.extensions imports Base from here)

    engine = db.engine
    try:
        if engine.dialect.name != "sqlite":  # one statement, autocommitted: one round trip
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(statement)
            return True
        restore = f"PRAGMA busy_timeout = {int(current_app.config['SQLITE_BUSY_TIMEOUT_MS'])}"
        with engine.connect() as conn:
            try:
                with conn.begin():
                    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                    conn.execute(statement)
            finally:  # a setting of the pooled connection, not of the transaction
                conn.exec_driver_sql(restore)
    except sa.exc.OperationalError:
        return False
    return True


def discard(session=None) -> None:
    """Throw away what the session holds after a failure outside a unit of work (a read that
    failed leaves a PostgreSQL transaction unusable until it is rolled back)."""
    _session(session).rollback()


def end_read(session=None) -> None:
    """End a read-only transaction (no snapshot or SQLite read lock held while waiting)."""
    session = _session(session)
    if session.info.get("unit_of_work") is None and session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unsaved changes outside a unit of work")
        session.rollback()
