"""The job queue: enqueue in the caller's unit of work, claim, run, retry, bury.

Features register what a kind of job does (``register``) and, for periodic work, how often
(``register_periodic``); they call ``enqueue(kind, payload)`` inside ``writing()``.  Payloads
name records (ids), not their contents: the handler reads the current state when it runs,
so a job neither carries personal data nor acts on a stale copy.

Claiming: on PostgreSQL one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``, so
any number of workers on any number of machines share the queue and never take the same
job; on SQLite the claim runs under ``BEGIN IMMEDIATE`` (one writer at a time).
``JOBS_CLAIM_LOCKING = False`` drops the row locks: for the control test only.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from portal import audit, mail
from portal.db import current_unit, discard, end_read, utcnow, writing
from portal.extensions import db
from portal.i18n import _l
from portal.jobs.models import DEAD, DONE, PENDING, RUNNING, STATES, Job
from portal.site import zone


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Callable[[dict], None]
    scrub: bool = False  # forget the payload once done (it holds a secret, e.g. a link token)
    lease: int | None = None  # seconds, when the job may run longer than JOBS_LEASE_SECONDS
    label: object = None  # what staff read for this kind (a lazy translated string)


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: str  # "hour" or "day"
    at_hour: Callable[[], int] | None = None  # for "day": the hour (site time) it falls due


_HANDLERS: dict[str, Handler] = {}
_PERIODIC: dict[str, Periodic] = {}


def register(kind: str, run: Callable[[dict], None], *, label=None, scrub: bool = False,
             lease: int | None = None) -> None:
    """``run(payload)`` carries out a job of ``kind``; raising makes it fail and retry.
    ``label`` (a lazy translated string) names the kind for staff."""
    _HANDLERS[kind] = Handler(kind, run, scrub, lease, label)


def label(kind: str) -> str:
    handler = _HANDLERS.get(kind)
    return str(handler.label) if handler is not None and handler.label else kind


def register_periodic(kind: str, run: Callable[[dict], None], every: str, *, label=None,
                      at_hour: Callable[[], int] | None = None, lease: int | None = None) -> None:
    """Work that the worker itself schedules once per hour or day (site time)."""
    if every not in ("hour", "day"):
        raise ValueError("every must be 'hour' or 'day'")
    register(kind, run, label=label, lease=lease)
    _PERIODIC[kind] = Periodic(kind, every, at_hour)


def kinds() -> list[str]:
    return sorted(_HANDLERS)


# -- writing jobs -------------------------------------------------------------------------------

def enqueue(kind: str, payload: dict | None = None, *, due_at: datetime | None = None) -> Job:
    """Add a job to the caller's unit of work: it exists if and only if the change commits."""
    if kind not in _HANDLERS:
        raise LookupError(f"no handler registered for job kind {kind!r}")
    if current_unit() is None:
        raise RuntimeError("jobs are enqueued inside writing(), with the change causing them")
    now = utcnow()
    job = Job(kind=kind, payload=dict(payload or {}), state=PENDING, due_at=due_at or now,
              attempts=0, last_error="", created_at=now)
    db.session.add(job)
    return job


COALESCED = "#waiting"  # the unique_key suffix of a coalesced job, cleared when it is claimed


def enqueue_coalesced(kind: str, session=None) -> None:
    """Add a job of ``kind`` to the caller's transaction unless one is already waiting: work
    that reads its input when it runs (a refresh of derived data) needs running once for any
    number of changes.  The key is cleared when a worker claims the job, so a change made while
    it runs queues the next one."""
    if kind not in _HANDLERS:
        raise LookupError(f"no handler registered for job kind {kind!r}")
    table = Job.__table__
    session = session if session is not None else db.session
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    session.execute(dialect.insert(table).values(
        kind=kind, payload={}, state=PENDING, due_at=now, attempts=0, last_error="",
        unique_key=kind + COALESCED, created_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.unique_key]))


def _insert_unique(kind: str, key: str, due_at: datetime) -> bool:
    """Insert a job unless one with ``key`` exists (atomic, for any number of workers)."""
    table = Job.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(kind=kind, payload={}, state=PENDING, due_at=due_at,
                                        attempts=0, last_error="", unique_key=key,
                                        created_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=[table.c.unique_key])
    with writing():
        result = db.session.execute(stmt)
    return bool(result.rowcount)


def period_key(spec: Periodic, now: datetime) -> tuple[str, datetime] | None:
    """The key and start of the period ``now`` falls in, or None before the day's hour."""
    local = now.astimezone(zone())
    if spec.every == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
        return f"{spec.kind}@{start:%Y-%m-%dT%H}", start
    hour = spec.at_hour() if spec.at_hour else 0
    start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if local < start:
        return None
    return f"{spec.kind}@{start:%Y-%m-%d}", start


def schedule_periodic(now: datetime | None = None) -> int:
    """Enqueue this period's periodic jobs that are not there yet; returns how many."""
    now = now or utcnow()
    added = 0
    for spec in _PERIODIC.values():
        found = period_key(spec, now)
        if found is not None and _insert_unique(spec.kind, found[0], now):
            added += 1
    return added


# -- claiming and running ----------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict
    attempts: int


def _cfg(name: str):
    return current_app.config[name]


def claim(worker: str, limit: int, now: datetime | None = None,
          only: Iterable[str] | None = None) -> list[Claimed]:
    """Take up to ``limit`` due jobs (and jobs whose worker's lease ran out) for ``worker``."""
    now = now or utcnow()
    lease = timedelta(seconds=_cfg("JOBS_LEASE_SECONDS"))
    locking = _cfg("JOBS_CLAIM_LOCKING")
    lapsed = sa.and_(Job.state == RUNNING, Job.locked_until < now)
    due = sa.or_(sa.and_(Job.state == PENDING, Job.due_at <= now), lapsed)
    kinds_filter = [Job.kind.in_(list(only))] if only is not None else []
    with writing():
        # A job whose worker died on its last allowed attempt is not tried again.
        db.session.execute(
            sa.update(Job).where(lapsed, Job.attempts >= _cfg("JOBS_MAX_ATTEMPTS"),
                                 *kinds_filter)
            .values(state=DEAD, locked_until=None, finished_at=now,
                    last_error="the worker stopped while running it (its lease ran out)"))
        chosen = (sa.select(Job.id).where(due, *kinds_filter)
                  .order_by(Job.due_at, Job.id).limit(limit))
        if locking and db.session.get_bind().dialect.name == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
        rows = db.session.execute(
            sa.update(Job).where(Job.id.in_(chosen.scalar_subquery()))
            .values(state=RUNNING, attempts=Job.attempts + 1, locked_by=worker,
                    locked_until=now + lease,
                    unique_key=sa.case((Job.unique_key.like("%" + COALESCED), None),
                                       else_=Job.unique_key))
            .returning(Job.id, Job.kind, Job.payload, Job.attempts)).all()
    return sorted((Claimed(r.id, r.kind, dict(r.payload or {}), r.attempts) for r in rows),
                  key=lambda c: c.id)


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, with jitter (so failed jobs do not all come back together)."""
    base, cap = _cfg("JOBS_BACKOFF_SECONDS"), _cfg("JOBS_BACKOFF_MAX_SECONDS")
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def _finish(job: Claimed, worker: str) -> None:
    handler = _HANDLERS.get(job.kind)
    values = {"state": DONE, "finished_at": utcnow(), "locked_until": None, "last_error": ""}
    if handler is not None and handler.scrub:
        values["payload"] = {}
    with writing():
        db.session.execute(sa.update(Job).where(Job.id == job.id, Job.locked_by == worker)
                           .values(**values))


def _fail(job: Claimed, worker: str, error: BaseException) -> tuple[str, str]:
    """Record the failure: the job waits for its next attempt, or is dead.  Returns (new
    state, the error as recorded)."""
    text = f"{type(error).__name__}: {error}"[:2000]
    now = utcnow()
    if job.attempts >= _cfg("JOBS_MAX_ATTEMPTS"):
        state, values = DEAD, {"finished_at": now}
    else:
        state, values = PENDING, {"due_at": now + backoff(job.attempts)}
    with writing():
        db.session.execute(sa.update(Job).where(Job.id == job.id, Job.locked_by == worker)
                           .values(state=state, locked_until=None, last_error=text, **values))
    return state, text


def _release(jobs: list[Claimed], worker: str) -> None:
    """Give back claimed jobs that were not started (the worker is stopping)."""
    if not jobs:
        return
    with writing():
        db.session.execute(
            sa.update(Job).where(Job.id.in_([j.id for j in jobs]), Job.locked_by == worker,
                                 Job.state == RUNNING)
            .values(state=PENDING, locked_until=None, locked_by=None,
                    attempts=Job.attempts - 1))


def _extend_lease(job: Claimed, worker: str, seconds: int) -> None:
    with writing():
        db.session.execute(sa.update(Job).where(Job.id == job.id, Job.locked_by == worker)
                           .values(locked_until=utcnow() + timedelta(seconds=seconds)))


def run(job: Claimed, worker: str) -> tuple[str, str]:
    """Carry out one claimed job; returns (new state, error text or "")."""
    handler = _HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        if handler.lease:
            _extend_lease(job, worker, handler.lease)
        end_read()
        handler.run(job.payload)
        end_read()
    except Exception as error:  # one bad job never stops the others
        discard()
        return _fail(job, worker, error)
    _finish(job, worker)
    return DONE, ""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def log_line(job: Claimed, state: str, ms: float, error: str = "") -> str:
    """One line per job, in a stable format (``key=value``, error last, quoted)."""
    line = (f"{utcnow():%Y-%m-%dT%H:%M:%SZ} job={job.id} kind={job.kind} "
            f"attempt={job.attempts} state={state} ms={ms:.0f}")
    if error:
        line += " error=" + repr(error[:300])
    return line


def work(*, burst: bool = False, schedule: bool = True, only: Iterable[str] | None = None,
         log: Callable[[str], None] | None = None, stop: threading.Event | None = None,
         handle_signals: bool = False) -> int:
    """Run jobs until stopped (or, with ``burst``, until nothing is due).  Returns how many
    jobs were run.  Mail of one batch goes through one SMTP connection."""
    stop = stop or threading.Event()
    worker = worker_name()
    only = set(only) if only is not None else None
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
    done = 0
    next_schedule = 0.0
    while not stop.is_set():
        try:
            if schedule and time.monotonic() >= next_schedule:
                schedule_periodic()
                next_schedule = time.monotonic() + 30
            batch = claim(worker, _cfg("JOBS_BATCH_SIZE"), only=only)
        except sa.exc.OperationalError:  # the database is away: wait for it, do not die
            if burst:
                raise
            discard()
            current_app.logger.exception("job worker: the database is unavailable; waiting")
            if log:
                log(f"{utcnow():%Y-%m-%dT%H:%M:%SZ} worker={worker} database unavailable")
            stop.wait(10 * _cfg("JOBS_POLL_SECONDS"))
            continue
        if not batch:
            if burst:
                break
            stop.wait(_cfg("JOBS_POLL_SECONDS"))
            continue
        with mail.connection():
            for index, job in enumerate(batch):
                if stop.is_set():  # finish the job in hand, give back the rest
                    _release(batch[index:], worker)
                    break
                began = time.perf_counter()
                state, error = run(job, worker)
                done += 1
                if log:
                    log(log_line(job, state, (time.perf_counter() - began) * 1000, error))
    return done


# -- looking and retrying ----------------------------------------------------------------------

def status() -> dict[str, dict[str, int]]:
    """{kind: {state: count}} for every kind present."""
    rows = db.session.execute(sa.select(Job.kind, Job.state, sa.func.count())
                              .group_by(Job.kind, Job.state)).all()
    out: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        out.setdefault(kind, dict.fromkeys(STATES, 0))[state] = count
    return dict(sorted(out.items()))


def count(state: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Job)
                             .where(Job.state == state)) or 0


def dead(page: int = 1, per_page: int = 50):
    return db.paginate(sa.select(Job).where(Job.state == DEAD)
                       .order_by(Job.finished_at.desc(), Job.id.desc()),
                       page=page, per_page=per_page, error_out=False)


audit.describe("jobs.retry", _l("{actor} tried again {jobs} that had failed ({kind})"),
               _l("Dead jobs tried again"))
audit.value_words("kind", lambda kind: label(kind) if kind else "")


def retry(*, failed: bool = True, dead_too: bool = False, job_id: int | None = None,
          by=None) -> int:
    """Make waiting failed jobs (``failed``) and/or dead ones (``dead_too``) due now.  Dead
    jobs start their attempts afresh.  Returns how many."""
    now = utcnow()
    changed = 0
    with writing():
        extra = [Job.id == job_id] if job_id is not None else []
        if failed:
            changed += db.session.execute(
                sa.update(Job).where(Job.state == PENDING, Job.attempts > 0, *extra)
                .values(due_at=now)).rowcount
        if dead_too:
            changed += db.session.execute(
                sa.update(Job).where(Job.state == DEAD, *extra)
                .values(state=PENDING, due_at=now, attempts=0, finished_at=None)).rowcount
        if by is not None and changed:  # from the staff page (the audit log)
            audit.record(by, "jobs.retry", f"job:{job_id}" if job_id else "job:", "",
                         jobs=changed, kind=db.session.get(Job, job_id).kind if job_id else "")
    return changed


def prune(_payload: dict | None = None) -> int:
    """Forget finished jobs after ``JOBS_KEEP_DONE_DAYS`` (their payloads name people's
    records); dead ones stay until an admin retries them."""
    before = utcnow() - timedelta(days=_cfg("JOBS_KEEP_DONE_DAYS"))
    with writing():
        return db.session.execute(sa.delete(Job).where(Job.state == DONE,
                                                       Job.finished_at < before)).rowcount


register_periodic("jobs.prune", prune, "day", at_hour=lambda: 3,
                  label=_l("Forgetting finished jobs"))
