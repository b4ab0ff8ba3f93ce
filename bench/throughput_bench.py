"""Page throughput against a Flask hello-world: wrk, gunicorn with 4 workers, same run.

    .venv/bin/python bench/throughput_bench.py [--seconds 5] [--pg postgresql+psycopg://…]

A scratch instance is set up like a new site (``flask setup``: migrations, the library, the
search index) with one signed-in visitor who has a green household; nothing else is in the
database (the scale bench fills it).  Then, with the gunicorn command of
``bench/signup_bench.py`` (4 sync workers, the same options for both apps):

1. a hello-world app (``GET /`` → ``ok``) is measured with ``wrk -t2 -c16 -d<seconds>s``;
2. the portal is measured the same way on each page: anonymous pages without cookies (as a
   first-time visitor, or a crawler), ``/account`` and ``/household`` with the signed-in
   visitor's session cookie;
3. hello-world is measured again; the ratio of each page is its requests/s over the median of
   the hello-world runs.

Prints a progress bar and the table, and replaces the "throughput" section of
bench/RESULTS.md.  The targets (≥ 0.5 for anonymous pages, ≥ 0.2 signed in) are reported, not
enforced.  Needs ``wrk`` (Debian package ``wrk``; ``make bench-throughput`` installs it).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import click  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from results import write_section  # noqa: E402
from signup_bench import HELLO_APP, WORKERS, serving  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.households import services as households  # noqa: E402
from portal.learn.models import Article  # noqa: E402

EMAIL, PASSWORD = "visitor@example.org", "benchmark password 2026"
ANONYMOUS = ["/", "/learn", "{article}", "/events", "/events/calendar", "/dashboard",
             "/search?q=" + urllib.parse.quote("垃圾分类"), "/healthz"]
SIGNED_IN = ["/account", "/household"]
TARGETS = {"anonymous": 0.5, "signed in": 0.2}
FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


def wrk(port: int, path: str, seconds: int, cookie: str | None = None) -> dict:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    return {"rate": rate, "errors": int(errors.group(1)) if errors else 0,
            "p50": latency.get("50", "?"), "p99": latency.get("99", "?")}


def setup_instance(instance: str, url: str | None) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_INSTANCE_PATH=instance, PORTAL_RATELIMIT_ENABLED="0")
    if url:
        env["PORTAL_DATABASE_URL"] = url
    subprocess.run([FLASK, "--app", "portal", "setup"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url})
    with app.app_context():
        user = accounts.register(EMAIL, "基准访客", PASSWORD, consent=True, locale="zh")
        households.register(user, households.HouseholdInput(name="基准家庭", district="nanhu",
                                                            members=3))
        slug = db.session.scalar(sa.select(Article.slug).order_by(Article.slug).limit(1))
        db.session.remove()
        db.engine.dispose()
    return env, f"/learn/{slug}"


def session_cookie(port: int) -> str:
    """Sign in through the form; the cookies a browser would then send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD,
                                   "csrf_token": token}).encode()
    opener.open(f"{base}/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def measure_hello(seconds: int) -> float:
    folder = tempfile.mkdtemp(prefix="bench-hello-")
    with open(os.path.join(folder, "hello.py"), "w", encoding="utf-8") as fh:
        fh.write(HELLO_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    try:
        with serving(folder, "hello:app", env, "/") as port:
            return wrk(port, "/", seconds)["rate"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(seconds: int, url: str | None, label: str) -> tuple[list, list[float]]:
    instance = tempfile.mkdtemp(prefix="bench-throughput-")
    try:
        env, article = setup_instance(instance, url)
        paths = [p.replace("{article}", article) for p in ANONYMOUS]
        hello = [measure_hello(seconds)]
        rows = []
        with serving(ROOT, "wsgi:app", env, "/") as port:
            cookie = session_cookie(port)
            cases = [(p, None, "anonymous") for p in paths] + \
                [(p, cookie, "signed in") for p in SIGNED_IN]
            with click.progressbar(cases, label=f"{label}: pages", file=sys.stderr) as bar:
                for path, jar, kind in bar:
                    wrk(port, path, 1, jar)  # warm-up: every worker has loaded what it needs
                    rows.append((path, kind, wrk(port, path, seconds, jar)))
        hello.append(measure_hello(seconds))
        return rows, hello
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def table(label: str, rows: list, hello: list[float]) -> str:
    base = statistics.median(hello)
    lines = [f"**{label}** — hello-world: {' / '.join(f'{h:.0f}' for h in hello)} requests/s "
             f"(before / after; ratios against the median {base:.0f})", "",
             "| page | visitor | requests/s | ratio | target | p50 | p99 | non-2xx |",
             "|---|---|---|---|---|---|---|---|"]
    for path, kind, r in rows:
        ratio = r["rate"] / base
        target = TARGETS[kind] if path != "/search?q=" + urllib.parse.quote("垃圾分类") \
            and path != "/healthz" else None
        mark = "—" if target is None else (f"≥ {target} ✓" if ratio >= target
                                            else f"≥ {target} ✗")
        shown = urllib.parse.unquote(path)
        lines.append(f"| `{shown}` | {kind} | {r['rate']:.0f} | {ratio:.2f} | {mark} | "
                     f"{r['p50']} | {r['p99']} | {r['errors']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--pg", help="also on PostgreSQL (a scratch database is made)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (or make bench-throughput)")
    sections = []
    rows, hello = run(args.seconds, None, "SQLite")
    sections.append(table("SQLite", rows, hello))
    if args.pg:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            rows, hello = run(args.seconds, url, "PostgreSQL")
            sections.append(table("PostgreSQL", rows, hello))
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    command = "`.venv/bin/python bench/throughput_bench.py" + \
        (f" --seconds {args.seconds}" if args.seconds != 5 else "") + \
        (" --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres`" if args.pg else "`")
    text = "\n\n".join([
        "## Page throughput against hello-world",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average {load}. "
        f"Command: {command}.",
        f"`wrk -t2 -c16 -d{args.seconds}s --latency` against gunicorn with {WORKERS} sync "
        "workers (the same command for the portal and for hello-world), on a new site's "
        "database (`flask setup`: the library and its index, one visitor with a household). "
        "Anonymous pages are requested without cookies; `/account` and `/household` with the "
        "visitor's session cookie. The anonymous pages are served by the page cache after the "
        "first request of each worker (portal/pagecache.py).",
        *sections])
    print(text)
    write_section("throughput", text)


if __name__ == "__main__":
    main()
