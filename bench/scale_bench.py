"""Page times at scale: a scratch site filled with N households, every public page timed.

    .venv/bin/python bench/scale_bench.py --households 10000,100000,1000000 \\
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--requests 30] [--keep DIR]

For each N (a fresh site each time):

1. a scratch instance folder (and, with ``--pg``, a new database ``bench_scale_<random>`` on
   that server, dropped at the end) is set up like a new site: ``flask setup`` (migrations,
   the library, its search index);
2. it is filled with bulk statements (``executemany`` on SQLite, ``COPY`` on PostgreSQL), not
   the ORM: N users, N households (each with its owner as member; a third on the public wall
   with consent, one in twenty named a green family), 3 pledges and one monthly report per
   household (spread over the last 12 months), N/1000 events (three quarters past, a quarter
   to come; one in twenty cancelled) with N/10 sign-ups among them (hours for the past ones),
   N/5000 schools and N/500 published school activity posts;
3. derived data is rebuilt as an operator would: ``VACUUM ANALYZE`` on PostgreSQL (what
   autovacuum does after a bulk load; SQLite is left as the app leaves it), then
   ``flask stats rebuild`` (the summary figures).  The search index is the one ``flask setup``
   built (the library); the bulk rows are not indexed (search has its own bench);
4. the site runs under gunicorn (one sync worker, the page cache and rate limits off, so the
   work of each page is measured) and every public page, the stats and events API and each
   open dataset get 3 unmeasured then ``--requests`` sequential requests over HTTP
   (``http.client``): the time to the first byte of the body and to its end.

Prints a progress bar per step and one table per N (p50 / p95, and the growth of p95 against
the smallest N of the run), and replaces the section ``scale-sqlite`` or ``scale-pg`` of
bench/RESULTS.md.  The targets of issue #13 (at 1,000,000 households: p95 < 100 ms for every
page and the stats API, and for each dataset's first byte; no page's p95 more than 2x its value
at 10,000) are reported, not enforced.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, date, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import click  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from results import write_section  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

BIN = os.path.dirname(sys.executable)
FLASK, GUNICORN = os.path.join(BIN, "flask"), os.path.join(BIN, "gunicorn")
DISTRICTS = ("nanhu", "xiuzhou", "jiashan", "haiyan", "haining", "pinghu", "tongxiang")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁"
            "谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
SCHOOL_TYPES = ("kindergarten", "primary", "middle", "high", "vocational", "university")
LEVELS = ("", "city", "provincial", "national")
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2htYXJr$bm90IGEgcmVhbCBoYXNoIGF0IGFsbA"
SITE_OFFSET = timedelta(hours=8)  # Asia/Shanghai, for the report months
DATASET_TARGET = "first byte"
CHUNK = 20_000
SEARCH = "/search?q=" + urllib.parse.quote("垃圾分类")


# -- the fill ----------------------------------------------------------------------------------

class Sizes:
    def __init__(self, n: int):
        self.households = n
        self.events = max(10, n // 1000)
        self.signups = n // 10
        self.schools = max(5, n // 5000)
        self.activities = max(10, n // 500)
        self.per_event = max(1, self.signups // self.events)

    def rows(self) -> int:
        n = self.households
        return 3 * n + 3 * n + n + self.events + self.events * self.per_event + \
            self.schools + self.activities + 1


class Writer:
    """Bulk rows into one backend; ``ts``/``day``/``flag`` give each backend's value form."""

    def __init__(self, bar):
        self.bar = bar

    def chunks(self, rows):
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


class SqliteWriter(Writer):
    def __init__(self, path: str, bar):
        super().__init__(bar)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA foreign_keys = OFF")

    @staticmethod
    def ts(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    @staticmethod
    def day(value: date | None):
        return None if value is None else value.isoformat()

    @staticmethod
    def flag(value: bool) -> int:
        return 1 if value else 0

    def insert(self, table: str, columns: tuple[str, ...], rows) -> None:
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' * len(columns))})")
        self.conn.execute("BEGIN")
        for chunk in self.chunks(rows):
            self.conn.executemany(sql, chunk)
            self.bar.update(len(chunk))
        self.conn.execute("COMMIT")

    def finish(self) -> None:
        self.conn.close()


class PgWriter(Writer):
    def __init__(self, url: str, bar):
        import psycopg  # noqa: PLC0415 (only with --pg)

        super().__init__(bar)
        self.conn = psycopg.connect(_libpq(url), autocommit=False)
        self.tables: list[str] = []

    @staticmethod
    def ts(moment: datetime) -> datetime:
        return moment

    @staticmethod
    def day(value: date | None):
        return value

    @staticmethod
    def flag(value: bool) -> bool:
        return bool(value)

    def insert(self, table: str, columns: tuple[str, ...], rows) -> None:
        with self.conn.cursor() as cur, \
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for chunk in self.chunks(rows):
                for row in chunk:
                    copy.write_row(row)
                self.bar.update(len(chunk))
        self.conn.commit()
        self.tables.append(table)

    def finish(self) -> None:
        with self.conn.cursor() as cur:
            for table in self.tables:  # the ids were given: move the sequences past them
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fill(w: Writer, size: Sizes, pledge_codes: list[str], privacy_version: str,
         now: datetime) -> dict[str, float]:
    """Every table, each with one bulk statement; returns seconds per table."""
    rng = random.Random(13)
    n = size.households
    span = timedelta(days=365)
    start = now - span - timedelta(hours=1)
    step = span / n
    created = [start + step * i for i in range(n + 1)]  # household/user i at created[i]
    today = (now + SITE_OFFSET).date()
    times: dict[str, float] = {}

    def timed(name, columns, rows):
        began = time.perf_counter()
        w.insert(name, columns, rows)
        times[name] = time.perf_counter() - began

    organizer = n + 1

    def users():
        for i in range(1, n + 1):
            at = w.ts(created[i])
            yield (i, f"u{i}@bench.example.org", f"用户{i}", PASSWORD_HASH, "citizen", "zh",
                   at, privacy_version, at, at)
        at = w.ts(start)
        yield (organizer, "organizer@bench.example.org", "组织者", PASSWORD_HASH, "organizer",
               "zh", at, privacy_version, at, at)

    timed("users", ("id", "email", "display_name", "password_hash", "role", "locale",
                    "created_at", "privacy_version", "privacy_consented_at",
                    "email_verified_at"), users())

    def households():
        for i in range(1, n + 1):
            at = created[i]
            wall = i % 3 == 0
            named = i % 20 == 0
            named_on = min(today, (at + SITE_OFFSET).date() + timedelta(days=30)) \
                if named else None
            yield (i, i, SURNAMES[i % len(SURNAMES)] + "家", DISTRICTS[rng.randrange(7)], "",
                   1 + i % 5, None, w.flag(wall), w.ts(at) if wall else None, w.flag(False),
                   None, f"B{i:09d}", "named" if named else "none", w.day(named_on),
                   w.day(named_on + timedelta(days=365 * 3) if named else None),
                   None, None, f"GJ{i:010d}" if named else None, w.ts(at))

    timed("households", ("id", "owner_id", "name", "district", "town", "members_count",
                         "phone", "show_on_wall", "wall_consent_at", "staff_contact",
                         "contact_consent_at", "invite_code", "status", "named_on",
                         "review_due", "review_noticed_for", "rectify_by", "certificate_code",
                         "created_at"), households())
    timed("household_members", ("id", "household_id", "user_id", "joined_at"),
          ((i, i, i, w.ts(created[i])) for i in range(1, n + 1)))

    chosen = {}

    def codes(i):
        if i not in chosen:
            chosen[i] = rng.sample(pledge_codes, 3)
        return chosen[i]

    def pledges():
        for i in range(1, n + 1):
            at = w.ts(created[i])
            for k, code in enumerate(codes(i)):
                yield (3 * (i - 1) + k + 1, i, code, at)

    timed("household_pledges", ("id", "household_id", "code", "created_at"), pledges())

    def reports():
        for i in range(1, n + 1):
            at = created[i]
            pledged = chosen.pop(i)
            kept = pledged[:1 + i % 3]
            yield (i, i, f"{at + SITE_OFFSET:%Y-%m}", json.dumps(pledged), json.dumps(kept),
                   w.ts(at))

    timed("monthly_reports", ("id", "household_id", "month", "pledged", "kept", "updated_at"),
          reports())

    # Events: three quarters in the past nine months, a quarter in the next three.
    ev_span = timedelta(days=360) / size.events
    ev_start = now - timedelta(days=270)
    starts = [ev_start + ev_span * j + timedelta(hours=1) for j in range(size.events)]
    capacity = max(1, size.per_event * 4 // 5)

    def events():
        for j in range(size.events):
            begins = starts[j]
            status = "cancelled" if j % 20 == 7 else "published"
            text = f"基准测试活动 {j + 1}：河道清洁、垃圾分类宣传和植树。"
            made = w.ts(min(begins - timedelta(days=30), now))
            yield (j + 1, f"基准活动 {j + 1}", f"Benchmark event {j + 1}", text, "",
                   f"<p>{text}</p>", "", 1, w.ts(begins), w.ts(begins + timedelta(hours=3)),
                   w.ts(begins - timedelta(hours=12)), f"嘉兴市南湖公园 {j % 40 + 1} 号门",
                   DISTRICTS[j % 7], capacity, None, None, "", status, organizer, made, made, 0)

    timed("events", ("id", "title_zh", "title_en", "description_zh", "description_en",
                     "description_zh_html", "description_en_html", "html_version",
                     "starts_at", "ends_at", "signup_deadline", "place", "district",
                     "capacity", "observance_slug", "min_age", "notes", "status",
                     "organizer_id", "created_at", "updated_at", "sequence"), events())

    def signups():
        sid = 0
        for j in range(size.events):
            begins = starts[j]
            past = begins < now
            for m in range(size.per_event):
                sid += 1
                user = (j * size.per_event + m) % n + 1
                at = w.ts(min(begins - timedelta(days=10), now) - timedelta(minutes=m))
                confirmed = m < capacity
                attended = past and confirmed
                yield (sid, j + 1, user, "confirmed" if confirmed else "waitlisted", at, at,
                       at, w.ts(begins) if attended else None,
                       w.ts(begins + timedelta(hours=3)) if attended else None,
                       "3.0" if attended else None, None)

    timed("signups", ("id", "event_id", "user_id", "status", "queued_at", "created_at",
                      "updated_at", "checked_in_at", "checked_out_at", "hours",
                      "reminded_at"), signups())

    def schools():
        for s in range(1, size.schools + 1):
            at = created[max(1, n * s // (size.schools + 1))]
            level = LEVELS[s % 4]
            yield (s, f"bench-school-{s}", f"嘉兴市第{s}学校", f"Jiaxing School No. {s}",
                   DISTRICTS[s % 7], SCHOOL_TYPES[s % 6], f"嘉兴市{s}号路", "",
                   "pending" if s % 10 == 0 else "verified", "", None, level,
                   2025 if level else None, w.ts(at), w.ts(at))

    timed("schools", ("id", "slug", "name_zh", "name_en", "district", "type", "address",
                      "contact", "status", "reason", "applicant_id", "green_level",
                      "green_year", "created_at", "verified_at"), schools())

    verified = [s for s in range(1, size.schools + 1) if s % 10 != 0]

    def activities():
        for a in range(1, size.activities + 1):
            at = created[max(1, n * a // (size.activities + 1))]
            body = f"同学们参加了第 {a} 次校园环保活动：垃圾分类、节约用水。"
            yield (a, verified[a % len(verified)], "published", f"校园环保活动 {a}", body,
                   w.day((at + SITE_OFFSET).date()), "[]", None, w.ts(at), "", "", None, "[]",
                   None, f"<p>{body}</p>", "", 1, "", "", w.flag(True), None, w.flag(False),
                   "", w.ts(at), w.ts(at), None)

    timed("activities", ("id", "school_id", "status", "title", "body", "activity_date",
                         "topics", "cover", "published_at", "draft_title", "draft_body",
                         "draft_date", "draft_topics", "draft_cover", "body_html",
                         "draft_body_html", "html_version", "review", "reason",
                         "consent_confirmed", "event_id", "hidden", "hidden_reason",
                         "submitted_at", "created_at", "author_id"), activities())
    w.finish()
    return times


# -- the site ----------------------------------------------------------------------------------

def environment(instance: str, url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_INSTANCE_PATH=instance, PORTAL_RATELIMIT_ENABLED="0",
               PORTAL_PAGE_CACHE_ENABLED="0")
    if url:
        env["PORTAL_DATABASE_URL"] = url
    return env


def flask(env: dict, *args: str) -> float:
    began = time.perf_counter()
    subprocess.run([FLASK, "--app", "portal", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def app_facts(instance: str, url: str | None) -> tuple[list[str], str]:
    """The pledge codes and the privacy notice's version, as the app reads them."""
    from portal import create_app  # noqa: PLC0415
    from portal.extensions import db  # noqa: PLC0415
    from portal.households.catalogue import catalogue  # noqa: PLC0415
    from portal.site import site  # noqa: PLC0415

    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url})
    with app.app_context():
        codes = sorted(catalogue().actions)
        version = site().privacy_notice_version
        db.engine.dispose()
    return codes, version


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn, one sync worker (requests are sequential), the portal's own config file."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [GUNICORN, "--workers", "1", "--worker-class", "sync", "--timeout", "600",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        deadline = time.monotonic() + 120
        while True:
            try:
                if get(self.port, "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def get(port: int, path: str) -> tuple[int, float, float, int, bytes]:
    """One GET on a new connection: status, ms to the first byte of the body, ms to its end,
    body size, and the first 200 kB of the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        began = time.perf_counter()
        conn.request("GET", path, headers={"Accept-Language": "zh"})
        response = conn.getresponse()
        first = response.read1(65536)
        ttfb = time.perf_counter() - began
        rest = response.read()
        total = time.perf_counter() - began
        body = first + rest
        return response.status, ttfb * 1000, total * 1000, len(body), body[:200_000]
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def routes(engine, port: int) -> list[tuple[str, str]]:
    """(kind, path): every public page, the API, each open dataset."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        article = conn.scalar(sa.text("SELECT slug FROM articles ORDER BY slug LIMIT 1"))
        topic = conn.scalar(sa.text("SELECT slug FROM topics ORDER BY position, slug LIMIT 1"))
        if engine.dialect.name == "sqlite":
            moment = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            moment = now
        event = conn.scalar(sa.text("SELECT id FROM events WHERE status = 'published' AND "
                                    "starts_at > :now ORDER BY starts_at, id LIMIT 1"),
                            {"now": moment})
        school = conn.scalar(sa.text("SELECT slug FROM schools WHERE status = 'verified' "
                                     "ORDER BY id LIMIT 1"))
        post = conn.scalar(sa.text("SELECT max(id) FROM activities WHERE status = 'published'"))
        observance = conn.scalar(sa.text("SELECT slug FROM observances ORDER BY position "
                                         "LIMIT 1"))
    wall = get(port, "/households")[4].decode("utf-8", "replace")
    found = re.search(r"[?&]before=(\d+)", wall)
    second = f"/households?before={found.group(1)}" if found else "/households?before=1"
    pages = ["/", "/learn", f"/learn/{article}", f"/learn/topics/{topic}", "/observances",
             f"/observances/{observance}", "/events", "/events/calendar", f"/events/{event}",
             "/calendar.ics", "/households", second, "/dashboard", "/dashboard/targets.csv",
             "/dashboard/districts.csv", "/schools", f"/schools/{school}",
             f"/activities/{post}", "/open-data", SEARCH]
    api = ["/api/v1/stats", "/api/v1/events"]
    from portal.dashboard.opendata import DATASETS  # noqa: PLC0415

    data = [f"/open-data/{d.name}.{fmt}" for d in DATASETS for fmt in ("csv", "json")]
    return [("control", "/static/css/site.css")] + [("page", p) for p in pages] + \
        [("api", p) for p in api] + [("dataset", p) for p in data]


def measure(port: int, cases: list[tuple[str, str]], requests: int, label: str) -> list[dict]:
    """3 unmeasured requests per route, then ``requests`` rounds of one request per route (a
    burst of load on the shared machine then falls on every route alike, not on one)."""
    for _kind, path in cases:
        for _ in range(3):
            get(port, path)
    seen = {path: {"statuses": set(), "first": [], "total": [], "bytes": 0}
            for _kind, path in cases}
    with click.progressbar(range(requests), label=f"{label}: rounds of requests",
                           file=sys.stderr, show_pos=True) as bar:
        for _round in bar:
            for _kind, path in cases:
                status, ttfb, ms, size, _body = get(port, path)
                entry = seen[path]
                entry["statuses"].add(status)
                entry["first"].append(ttfb)
                entry["total"].append(ms)
                entry["bytes"] = size
    rows = []
    for kind, path in cases:
        e = seen[path]
        rows.append({"kind": kind, "path": path, "statuses": sorted(e["statuses"]),
                     "bytes": e["bytes"], "first50": pct(e["first"], .5),
                     "first95": pct(e["first"], .95), "p50": pct(e["total"], .5),
                     "p95": pct(e["total"], .95)})
    return rows


# -- one size ----------------------------------------------------------------------------------

def database_size(engine, instance: str) -> int:
    if engine.dialect.name == "sqlite":
        return sum(os.path.getsize(os.path.join(instance, f)) for f in os.listdir(instance)
                   if f.startswith("portal.sqlite3"))
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_database_size(current_database())"))


def run_size(n: int, pg: str | None, requests: int, keep: str | None) -> dict:
    label = f"{'PostgreSQL' if pg else 'SQLite'} {n:,}"
    if keep:
        instance = os.path.join(os.path.abspath(keep), f"scale-{'pg' if pg else 'sqlite'}-{n}")
        shutil.rmtree(instance, ignore_errors=True)
        os.makedirs(instance)
    else:
        instance = tempfile.mkdtemp(prefix=f"bench-scale-{n}-")
    url, admin, name = None, None, None
    if pg:
        name = f"bench_scale_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    env = environment(instance, url)
    try:
        click.echo(f"{label}: flask setup", err=True)
        setup_s = flask(env, "setup")
        codes, privacy = app_facts(instance, url)
        size = Sizes(n)
        now = datetime.now(UTC)
        began = time.perf_counter()
        with click.progressbar(length=size.rows(), label=f"{label}: fill", file=sys.stderr,
                               show_pos=True) as bar:
            if pg:
                writer = PgWriter(url, bar)
            else:
                writer = SqliteWriter(os.path.join(instance, "portal.sqlite3"), bar)
            tables = fill(writer, size, codes, privacy, now)
        fill_s = time.perf_counter() - began
        click.echo(f"{label}: filled {size.rows():,} rows in {fill_s:.0f} s; "
                   "flask stats rebuild", err=True)
        stats_s = flask(env, "stats", "rebuild")
        engine = sa.create_engine(url or "sqlite:///" + os.path.join(instance,
                                                                    "portal.sqlite3"))
        db_bytes = database_size(engine, instance)
        server = Server(env)
        try:
            cases = routes(engine, server.port)
            rows = measure(server.port, cases, requests, label)
        finally:
            server.stop()
            engine.dispose()
        return {"n": n, "sizes": size, "rows": rows, "setup_s": setup_s, "fill_s": fill_s,
                "tables": tables, "stats_s": stats_s, "db_bytes": db_bytes,
                "total_rows": size.rows(), "database": name if keep else None,
                "instance": instance if keep else None}
    finally:
        if not keep:
            shutil.rmtree(instance, ignore_errors=True)
        if admin is not None:
            if not keep:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


# -- the report --------------------------------------------------------------------------------

def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def table(result: dict, base: dict | None, requests: int) -> str:
    s = result["sizes"]
    lines = [f"**{result['n']:,} households** — {s.households:,} users, "
             f"{3 * s.households:,} pledges, {s.households:,} monthly reports, "
             f"{s.events:,} events, {s.events * s.per_event:,} sign-ups, {s.schools:,} "
             f"schools, {s.activities:,} posts ({result['total_rows']:,} rows). "
             f"Fill {result['fill_s']:.1f} s ({result['total_rows'] / result['fill_s']:,.0f} "
             f"rows/s; slowest: " + ", ".join(
                 f"{t} {sec:.1f} s" for t, sec in sorted(result["tables"].items(),
                                                         key=lambda kv: -kv[1])[:3]) +
             f"), `flask stats rebuild` {result['stats_s']:.1f} s, database "
             f"{result['db_bytes'] / 1e6:,.0f} MB. {requests} requests per route.", "",
             "| route | kind | status | body | first byte p50 / p95 ms | total p50 / p95 ms | "
             "p95 growth (p50) | target |",
             "|---|---|---|---|---|---|---|---|"]
    before = {r["path"]: r for r in base["rows"]} if base else {}
    for r in result["rows"]:
        measured = r["first95"] if r["kind"] == "dataset" else r["p95"]
        old = before.get(r["path"]) or _same_route(before, r["path"])
        if old is not None and base is not result:
            key50 = "first50" if r["kind"] == "dataset" else "p50"
            was = old["first95"] if r["kind"] == "dataset" else old["p95"]
            ratio = measured / was if was else float("inf")
            median = r[key50] / old[key50] if old[key50] else float("inf")
            growth = f"{ratio:.2f}× {_mark(ratio <= 2)} (p50 {median:.2f}×)"
        else:
            growth = "—"
        target = f"< 100 {_mark(measured < 100)}" if r["kind"] != "control" else "—"
        if r["kind"] == "dataset":
            target += " (first byte)"
        size = r["bytes"]
        shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
        lines.append(f"| `{urllib.parse.unquote(r['path'])}` | {r['kind']} | "
                     f"{','.join(map(str, r['statuses']))} | {shown} | "
                     f"{r['first50']:.1f} / {r['first95']:.1f} | {r['p50']:.1f} / "
                     f"{r['p95']:.1f} | {growth} | {target} |")
    return "\n".join(lines)


def _same_route(before: dict, path: str) -> dict | None:
    """The 2nd wall page and the event have other ids at another size: match by shape."""
    shape = re.sub(r"\d+", "N", path)
    return next((r for p, r in before.items() if re.sub(r"\d+", "N", p) == shape), None)


def summary(results: list[dict]) -> str:
    largest, base = results[-1], results[0]
    measured = [r for r in largest["rows"] if r["kind"] != "control"]
    slow = [r for r in measured
            if (r["first95"] if r["kind"] == "dataset" else r["p95"]) >= 100]
    grown = []
    failed = [f"`{urllib.parse.unquote(r['path'])}` at {res['n']:,} ({r['statuses']})"
              for res in results for r in res["rows"] if r["statuses"] != [200]]
    if len(results) > 1:
        before = {r["path"]: r for r in base["rows"]}
        for r in measured:
            old = before.get(r["path"]) or _same_route(before, r["path"])
            key = "first95" if r["kind"] == "dataset" else "p95"
            key50 = "first50" if r["kind"] == "dataset" else "p50"
            if old and old[key] and r[key] / old[key] > 2:
                grown.append(f"`{urllib.parse.unquote(r['path'])}` "
                             f"{old[key]:.1f} → {r[key]:.1f} ms "
                             f"({r[key] / old[key]:.1f}×; p50 {r[key50] / old[key50]:.1f}×)")
    text = ["Not all answers were 200: " + ", ".join(failed) + "." if failed else
            "Every answer was 200."]
    text += [f"At {largest['n']:,} households: "
             f"{len(measured) - len(slow)} of {len(measured)} routes under "
             "100 ms at p95 (datasets: first byte)" +
             (": over it " + ", ".join(f"`{urllib.parse.unquote(r['path'])}` "
                                       f"{r['first95' if r['kind'] == 'dataset' else 'p95']:.0f}"
                                       " ms" for r in slow) if slow else "") + "."]
    if len(results) > 1:
        text.append(f"Growth of p95 from {base['n']:,} to {largest['n']:,}: " +
                    (", ".join(grown) + " above 2×." if grown else "none above 2×."))
        control = [next(r for r in res["rows"] if r["kind"] == "control") for res in results]
        text.append("The control (a static file, the same work at every size) had p50 / p95 " +
                    ", ".join(f"{c['p50']:.1f} / {c['p95']:.1f} ms" for c in control) +
                    " at " + ", ".join(f"{res['n']:,}" for res in results) +
                    ": the machine's noise, against which the growth is to be read.")
    return " ".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", default="10000",
                        help="comma-separated sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", help="keep each instance (and database) under this folder")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    try:
        sizes = sorted({int(x.replace("_", "")) for x in args.households.split(",") if x})
    except ValueError:
        parser.error("--households: whole numbers separated by commas")
    if not sizes or sizes[0] < 100 or args.requests < 1:
        parser.error("--households at least 100, --requests at least 1")
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    results = []
    for n in sizes:
        results.append(run_size(n, args.pg, args.requests, args.keep))
        click.echo(table(results[-1], results[0], args.requests), err=True)
    load_after = os.getloadavg()
    backend = "pg" if args.pg else "sqlite"
    command = (f"`.venv/bin/python bench/scale_bench.py --households "
               f"{','.join(str(n) for n in sizes)}"
               + (f" --pg {args.pg}" if args.pg else "")
               + (f" --requests {args.requests}" if args.requests != 30 else "") + "`")
    load = " / ".join
    text = "\n\n".join([
        f"## Page times at scale, {'PostgreSQL' if args.pg else 'SQLite'} "
        f"({started:%Y-%m-%d %H:%M} UTC)",
        f"{command} on {platform.machine()}, {os.cpu_count()} cores (shared with other "
        f"work), Python {platform.python_version()}; load average (1 / 5 / 15 min) "
        f"{load(f'{x:.2f}' for x in load_before)} before, "
        f"{load(f'{x:.2f}' for x in load_after)} after.",
        "A fresh site per size: `flask setup`, then bulk rows (executemany / COPY): per "
        "household a user, a member row, 3 pledges and one monthly report, spread over the "
        "last 12 months (a third on the public wall, one in twenty a named green family); "
        "N/1000 events (a quarter to come), N/10 sign-ups, N/5000 schools, N/500 school posts. "
        + ("Then `VACUUM ANALYZE` and " if args.pg else "No `ANALYZE` (as the app leaves "
           "SQLite); then ") +
        "`flask stats rebuild`. The search index holds the library only. gunicorn with one "
        "sync worker, page cache and rate limits off; sequential requests over HTTP on new "
        "connections, 3 unmeasured per route first, then rounds of one request per route (so "
        "that a burst of load from other work falls on every route alike). First byte = "
        "the first chunk of the body; growth = p95 (datasets: first-byte p95) over the "
        "smallest size's. Target (issue #13, at 1,000,000 households): p95 < 100 ms "
        "(datasets: first byte), growth ≤ 2×.",
        summary(results),
        *[table(r, results[0], args.requests) for r in results]])
    print(text)
    if not args.no_write:
        write_section(f"scale-{backend}", text)


if __name__ == "__main__":
    main()
