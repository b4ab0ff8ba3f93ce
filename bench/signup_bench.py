"""Sign-up storm: 200 concurrent clients for 20 places, gunicorn with 4 workers.

    .venv/bin/python bench/signup_bench.py [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]

Runs on SQLite, and on PostgreSQL when --pg is given (a scratch database is created and
dropped).  Prints throughput, latency and the outcome counts read back from the database, and
replaces the "signups" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from results import write_section  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.events import services as events  # noqa: E402
from portal.events.models import Signup  # noqa: E402
from portal.extensions import db  # noqa: E402

CLIENTS, PLACES, WORKERS = 200, 20, 4
FAST = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192, "ARGON2_PARALLELISM": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(instance: str, url: str | None):
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, **FAST})
    with app.app_context():
        upgrade()
        org = accounts.register("org@example.org", "组织者", "benchmark password", True,
                                role="organizer")
        tz = events.zone()
        start = datetime.now(tz).replace(microsecond=0) + timedelta(days=3)
        event = events.create_event(org, events.EventInput(
            title_zh="基准测试活动", starts_at=start, ends_at=start + timedelta(hours=2),
            place="南湖", district="nanhu", capacity=PLACES), publish=True).id
        tokens = []
        for i in range(CLIENTS):
            user = accounts.register(f"b{i}@example.org", f"志愿者{i}", "benchmark password",
                                     True)
            tokens.append(accounts.create_api_token(user, "bench")[1])
        db.engine.dispose()
    return app, event, tokens


def storm(port: int, event: int, tokens: list[str]):
    barrier = threading.Barrier(CLIENTS)

    def one(token):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        start = time.perf_counter()
        conn.request("POST", f"/api/v1/events/{event}/signup",
                     headers={"Authorization": f"Bearer {token}"})
        status = conn.getresponse().status
        conn.close()
        return status, (time.perf_counter() - start) * 1000

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(one, tokens))
    return results, time.perf_counter() - began


def run(label: str, url: str | None) -> str:
    instance = tempfile.mkdtemp(prefix="portal-signup-bench-")
    app, event, tokens = prepare(instance, url)
    port = free_port()
    env = {**os.environ, "PORTAL_INSTANCE_PATH": instance}
    if url:
        env["PORTAL_DATABASE_URL"] = url
    else:
        env.pop("PORTAL_DATABASE_URL", None)
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                             "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # let every worker finish booting
        results, wall = storm(port, event, tokens)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with app.app_context():
        rows = db.session.execute(sa.select(Signup.status, sa.func.count()).where(
            Signup.event_id == event).group_by(Signup.status)).all()
        db.session.remove()
        db.engine.dispose()
    outcome = dict(rows)
    latencies = sorted(ms for _status, ms in results)
    statuses = sorted({s for s, _ms in results})
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return (f"| {label} | {CLIENTS / wall:.0f} | {statistics.median(latencies):.0f} / {p95:.0f} / "
            f"{latencies[-1]:.0f} | {outcome.get('confirmed', 0)} confirmed, "
            f"{outcome.get('waitlisted', 0)} waiting | {statuses} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL URL (the server's own database to connect to)")
    args = parser.parse_args()
    rows = [run("SQLite (WAL)", None)]
    if args.pg:
        name = f"portal_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(make_url(args.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            rows.append(run("PostgreSQL", make_url(args.pg).set(database=name)
                            .render_as_string(hide_password=False)))
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    text = "\n".join([
        f"## Sign-up storm ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`.venv/bin/python bench/signup_bench.py --pg …`: {CLIENTS} clients released together "
        f"by a barrier, each POSTing `/api/v1/events/<id>/signup` once, for {PLACES} places; "
        f"gunicorn with {WORKERS} sync workers on {os.cpu_count()} cores (clients on the same "
        "machine). Outcomes are read back from the database.",
        "",
        "| database | sign-ups/s | latency p50 / p95 / max ms | outcome | HTTP statuses |",
        "|---|---|---|---|---|",
        *rows, ""])
    print(text)
    write_section("signups", text)


if __name__ == "__main__":
    main()
