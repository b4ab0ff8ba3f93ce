"""The job queue with real parts: an SMTP server that is down and then up (aiosmtpd), worker
processes that are killed or stopped, two workers sharing one PostgreSQL queue (and the
control without SKIP LOCKED), periodic jobs scheduled once per period."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal import jobs, search
from portal.config import ROOT
from portal.db import utcnow, writing
from portal.extensions import db
from portal.jobs import services
from portal.jobs.models import DEAD, DONE, PENDING, RUNNING, Job
from tests.conftest import PG_URL, Inbox, free_port, make_user, run_jobs, sign_in
from tests.jobs.worker_process import record

jobs.register("tests.record", record)


def _event(app, capacity=5):
    from portal.accounts.models import User
    from portal.events import services as events

    organizer = make_user(app, email="org@example.org", role="organizer")
    with app.app_context():
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        return events.create_event(db.session.get(User, organizer), events.EventInput(
            title_zh="湿地清洁", starts_at=start, ends_at=start + timedelta(hours=2),
            place="南湖", district="nanhu", capacity=capacity), publish=True).id


def _token(app, email):
    from portal.accounts import services as accounts
    from portal.accounts.models import User

    uid = make_user(app, email=email)
    with app.app_context():
        return accounts.create_api_token(db.session.get(User, uid), "t")[1]


def _jobs(app, kind=None):
    with app.app_context():
        stmt = sa.select(Job).order_by(Job.id)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


# -- mail: SMTP down, then up ---------------------------------------------------------------------

def test_smtp_down_then_up_the_sign_up_answers_and_the_mail_is_delivered_once(make_app):
    port = free_port()  # nothing listens here yet
    app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, MAIL_SMTP_STARTTLS=False,
                   MAIL_SMTP_TIMEOUT=2)
    event = _event(app)
    token = _token(app, "volunteer@example.org")
    response = app.test_client().post(f"/api/v1/events/{event}/signup",
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201 and response.json["status"] == "confirmed"
    [mail_job] = _jobs(app, "events.mail")
    assert mail_job.state == PENDING and mail_job.attempts == 0  # the request sent nothing

    output = _cli(app, "jobs", "work", "--burst", "--no-schedule")
    assert f"job={mail_job.id} kind=events.mail attempt=1 state=pending" in output
    [failed] = _jobs(app, "events.mail")
    assert failed.state == PENDING and failed.attempts == 1
    assert "Connection refused" in failed.last_error or "Errno" in failed.last_error
    assert failed.due_at > utcnow()  # it waits for its next attempt

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run_jobs(app) == 0  # not due yet: nothing is sent before its time
        assert "jobs due now: 1" in _cli(app, "jobs", "retry", "--all")
        output = _cli(app, "jobs", "work", "--burst", "--no-schedule")
        assert "attempt=2 state=done" in output
        _cli(app, "jobs", "work", "--burst", "--no-schedule")  # again: nothing more
    finally:
        controller.stop()
    assert [m.rcpt_tos for m in inbox.messages] == [["volunteer@example.org"]]
    [done] = _jobs(app, "events.mail")
    assert done.state == DONE
    status = _cli(app, "jobs", "status")
    assert "events.mail" in status
    total = status.strip().splitlines()[-1].split()
    assert total[:3] == ["total", "0", "0"]  # nothing pending, nothing running


def test_one_smtp_connection_carries_a_whole_batch(make_app):
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    sessions = []
    original = Inbox.handle_DATA

    async def counting(self, server, session, envelope):
        sessions.append(id(session))
        return await original(self, server, session, envelope)

    inbox.handle_DATA = counting.__get__(inbox)
    try:
        app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port,
                       MAIL_SMTP_STARTTLS=False)
        event = _event(app, capacity=2)
        client = app.test_client()
        for n in range(4):
            token = _token(app, f"v{n}@example.org")
            assert client.post(f"/api/v1/events/{event}/signup",
                               headers={"Authorization": f"Bearer {token}"}).status_code == 201
        run_jobs(app)
    finally:
        controller.stop()
    assert len(inbox.messages) == 4
    assert len(set(sessions)) == 1  # four mails, one SMTP session


def test_a_job_that_keeps_failing_ends_dead_is_listed_and_can_be_retried(make_app):
    app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=free_port(),
                   MAIL_SMTP_STARTTLS=False, MAIL_SMTP_TIMEOUT=2, JOBS_MAX_ATTEMPTS=3)
    event = _event(app)
    token = _token(app, "volunteer@example.org")
    app.test_client().post(f"/api/v1/events/{event}/signup",
                           headers={"Authorization": f"Bearer {token}"})
    for _ in range(3):
        _cli(app, "jobs", "retry")  # due now, as if its next attempt's time had come
        run_jobs(app)
    [job] = _jobs(app, "events.mail")
    assert job.state == DEAD and job.attempts == 3
    with app.app_context():
        search.ensure_index()
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["warnings"] == {"dead_jobs": 1, "overdue_jobs": 0}

    make_user(app, email="admin@example.org", role="admin")
    make_user(app, email="citizen@example.org")
    citizen = app.test_client()
    sign_in(citizen, email="citizen@example.org")
    assert citizen.get("/manage/jobs").status_code == 403
    admin = app.test_client()
    sign_in(admin, email="admin@example.org")
    page = admin.get("/manage/jobs").get_data(as_text=True)
    assert "报名通知邮件" in page and "ConnectionRefusedError" in page
    assert "volunteer@example.org" not in page  # payloads (and addresses) are not shown
    from tests.conftest import csrf_token

    response = admin.post("/manage/jobs/retry", data={
        "job": str(job.id), "csrf_token": csrf_token(admin, "/manage/jobs")})
    assert response.status_code == 302
    [again] = _jobs(app, "events.mail")
    assert again.state == PENDING and again.attempts == 0
    assert "jobs due now: 0" in _cli(app, "jobs", "retry", "--dead")


def test_one_failing_job_does_not_hold_up_the_others(make_app, tmp_path, monkeypatch):
    app = make_app()
    monkeypatch.setenv("RECORD_FILE", str(tmp_path / "record.txt"))
    with app.app_context(), writing():
        services.enqueue("tests.record", {"n": 1})
        services.enqueue("tests.record", {})  # no "n": its handler raises KeyError
        services.enqueue("tests.record", {"n": 3})
    assert run_jobs(app) == 3
    states = [(j.payload.get("n"), j.state) for j in _jobs(app, "tests.record")]
    assert states == [(1, DONE), (None, PENDING), (3, DONE)]
    assert (tmp_path / "record.txt").read_text().split()[1::2] == ["1", "3"]


def test_a_job_exists_only_if_its_change_commits(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            services.enqueue("tests.record", {"n": 1})  # outside a unit of work
        with pytest.raises(ZeroDivisionError), writing():
            services.enqueue("tests.record", {"n": 2})
            1 / 0  # noqa: B018  (the change fails after the job was added)
    assert _jobs(app) == []


def test_periodic_jobs_are_scheduled_once_per_period_by_any_number_of_workers(make_app):
    first, second = make_app(), make_app()  # two processes' worth of apps, one database
    # 12:30 in Shanghai: after the reminders' hour (10:00); 08:00 is before it.
    noon = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    early = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    with first.app_context():
        assert services.period_key(services._PERIODIC["events.remind"], early) is None
        services.schedule_periodic(noon)
    with second.app_context():
        services.schedule_periodic(noon)
        services.schedule_periodic(noon + timedelta(minutes=20))
    keys = Counter(j.unique_key for j in _jobs(first))
    assert keys["events.remind@2026-12-01"] == 1
    assert keys["search.catch_up@2026-12-01T12"] == 1
    assert all(count == 1 for count in keys.values())
    with first.app_context():
        services.schedule_periodic(noon + timedelta(hours=1))
    assert Counter(j.unique_key for j in _jobs(first))["search.catch_up@2026-12-01T13"] == 1


def test_reminders_run_as_a_periodic_job(make_app):
    app = make_app()
    from portal.accounts.models import User
    from portal.events import services as events
    from portal.site import zone

    organizer = make_user(app, email="org@example.org", role="organizer")
    volunteer = make_user(app, email="v@example.org")
    with app.app_context():
        tomorrow = (datetime.now(zone()) + timedelta(days=1)).replace(hour=9, minute=0,
                                                                       second=0, microsecond=0)
        event = events.create_event(db.session.get(User, organizer), events.EventInput(
            title_zh="明天的活动", starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=2),
            place="南湖", district="nanhu", capacity=5), publish=True)
        events.sign_up(db.session.get(User, volunteer), event.id)
        with writing():
            services.enqueue("events.remind")
    from tests.conftest import outbox

    subjects = [m["Subject"] for m in outbox(app)]
    assert subjects.count("明天：明天的活动") == 1


# -- worker processes -----------------------------------------------------------------------

def _env(app, tmp_path, **config):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_INSTANCE_PATH": app.instance_path,
                "RECORD_FILE": str(tmp_path / "record.txt"), "PYTHONPATH": str(ROOT)})
    if app.config.get("DATABASE_URL"):
        env["PORTAL_DATABASE_URL"] = app.config["DATABASE_URL"]
    for key, value in config.items():
        plain = key.startswith(("PORTAL_", "RECORD_", "START_"))
        env[key if plain else f"PORTAL_{key}"] = str(value)
    return env


def _worker(app, tmp_path, *args, **config):
    return subprocess.Popen([sys.executable, "-m", "tests.jobs.worker_process", *args],
                            cwd=str(ROOT), env=_env(app, tmp_path, **config),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _enqueue_records(app, count):
    with app.app_context(), writing():
        for n in range(count):
            services.enqueue("tests.record", {"n": n})


def _recorded(tmp_path) -> list[tuple[str, int]]:
    path = tmp_path / "record.txt"
    if not path.exists():
        return []
    return [(pid, int(n)) for pid, n in (line.split() for line in path.read_text().splitlines())]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_worker_leaves_its_job_claimable_after_the_lease(make_app, tmp_path,
                                                                 monkeypatch):
    app = make_app(JOBS_LEASE_SECONDS=2)
    _enqueue_records(app, 1)
    proc = _worker(app, tmp_path, JOBS_LEASE_SECONDS=2, RECORD_SLEEP=60)
    try:
        started = _wait_for(lambda: _recorded(tmp_path))
        os.kill(proc.pid, signal.SIGKILL)  # mid-job, no chance to clean up
    finally:
        _out, err = proc.communicate(timeout=10)
    assert started, err
    [held] = _jobs(app)
    assert held.state == RUNNING and held.attempts == 1
    monkeypatch.setenv("RECORD_FILE", str(tmp_path / "record.txt"))
    assert run_jobs(app) == 0  # the lease still runs: nobody else takes it
    time.sleep(2.1)
    assert run_jobs(app) == 1  # the lease ran out: claimable again
    [done] = _jobs(app)
    assert done.state == DONE and done.attempts == 2
    assert [n for _pid, n in _recorded(tmp_path)] == [0, 0]  # at least once: it ran again


def test_a_stopped_worker_finishes_its_job_and_gives_back_the_rest(make_app, tmp_path,
                                                                  monkeypatch):
    app = make_app()
    _enqueue_records(app, 10)
    proc = _worker(app, tmp_path, JOBS_BATCH_SIZE=10, RECORD_SLEEP=0.3)
    try:
        assert _wait_for(lambda: _recorded(tmp_path))
        proc.send_signal(signal.SIGTERM)
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    first_run = _recorded(tmp_path)
    assert 1 <= len(first_run) < 10
    assert len(out.strip().splitlines()) == len(first_run)  # one log line per job it ran
    states = Counter(j.state for j in _jobs(app))
    assert states == {DONE: len(first_run), PENDING: 10 - len(first_run)}  # none left running
    monkeypatch.setenv("RECORD_FILE", str(tmp_path / "record.txt"))
    run_jobs(app)
    assert sorted(n for _pid, n in _recorded(tmp_path)) == list(range(10))  # each once


def _two_workers(app, tmp_path, jobs_count, **config):
    """Two worker processes, released together, in burst mode over ``jobs_count`` jobs.
    (With a job that takes a few ms both get work even on SQLite's one-writer lock; with
    jobs that take no time the claims collide most often: that is the control's setting.)"""
    _enqueue_records(app, jobs_count)
    go = tmp_path / "go"
    procs = [_worker(app, tmp_path, "--burst", JOBS_BATCH_SIZE=2, START_FILE=go, **config)
             for _ in range(2)]
    assert _wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == 2, 60)
    go.write_text("go")
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return _recorded(tmp_path)


def test_two_workers_share_the_queue_and_never_run_the_same_job(make_app, tmp_path):
    app = make_app()
    runs = _two_workers(app, tmp_path, 200, RECORD_SLEEP=0.005)
    counts = Counter(n for _pid, n in runs)
    assert sorted(counts) == list(range(200)) and set(counts.values()) == {1}
    assert len({pid for pid, _n in runs}) == 2  # both took part
    assert Counter(j.state for j in _jobs(app)) == {DONE: 200}


@pytest.mark.skipif(not PG_URL, reason="SKIP LOCKED is PostgreSQL's; SQLite has one writer")
def test_control_without_skip_locked_two_workers_run_the_same_jobs(make_app, tmp_path):
    app = make_app()
    runs = _two_workers(app, tmp_path, 200, JOBS_CLAIM_LOCKING=0)
    counts = Counter(n for _pid, n in runs)
    print("jobs run twice without row locks:", sum(1 for c in counts.values() if c > 1))
    assert any(c > 1 for c in counts.values()), "no collision: the test above could not fail"


def test_the_worker_waits_out_a_database_that_is_away(make_app, tmp_path):
    import threading

    url = ("postgresql+psycopg://postgres@127.0.0.1:1/none" if PG_URL
           else "sqlite:///" + str(tmp_path / "missing-dir" / "x.sqlite3"))
    app = make_app(DATABASE_URL=url, JOBS_POLL_SECONDS=0.02)
    lines, stop = [], threading.Event()

    def worker():
        with app.app_context():
            services.work(schedule=False, log=lines.append, stop=stop)

    thread = threading.Thread(target=worker)
    thread.start()
    assert _wait_for(lambda: len(lines) >= 2, 20)  # it tried, waited and tried again
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert all(line.endswith("database unavailable") for line in lines)
    with app.app_context(), pytest.raises(sa.exc.OperationalError):
        services.work(burst=True, schedule=False)  # a one-off run says so instead
