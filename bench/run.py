"""Reproducible micro-benchmarks of the foundation, run in-process against a temporary instance.

    make bench            # or: .venv/bin/python bench/run.py [--rounds N]

Prints a Markdown table and writes it to bench/RESULTS.md (with the machine and the date).
Each case is measured as wall time per request through the real app (test client: routing,
templates, database, sessions), so the numbers exclude network and the WSGI server.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from flask_migrate import upgrade  # noqa: E402
from results import write_section  # noqa: E402

from portal import create_app, search  # noqa: E402
from portal.accounts import services  # noqa: E402

PASSWORD = "benchmark password 2026"


def measure(fn, rounds: int) -> dict:
    for _ in range(min(5, rounds)):
        fn()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
            "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="portal-bench-")
    # Production hashing costs; rate limits off (this measures throughput, not limits).
    app = create_app({"INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        search.ensure_index()
        services.register("bench@example.org", "基准", PASSWORD, consent=True)
        _row, token = services.create_api_token(services.get_by_email("bench@example.org"), "b")

    anon = app.test_client()
    signed = app.test_client()
    page = signed.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert signed.post("/login", data={"email": "bench@example.org", "password": PASSWORD,
                                       "csrf_token": csrf}).status_code == 302

    def sign_in_once():
        c = app.test_client()
        p = c.get("/login").get_data(as_text=True)
        t = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', p).group(1)
        assert c.post("/login", data={"email": "bench@example.org", "password": PASSWORD,
                                      "csrf_token": t}).status_code == 302

    cases = [
        ("GET / (anonymous)", lambda: anon.get("/"), args.rounds),
        ("GET /privacy (Markdown render)", lambda: anon.get("/privacy"), args.rounds),
        ("GET /account (signed in)", lambda: signed.get("/account"), args.rounds),
        ("GET /api/v1/me (bearer token)",
         lambda: anon.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}),
         args.rounds),
        ("GET /healthz", lambda: anon.get("/healthz"), args.rounds),
        ("sign in (GET form + POST, argon2id t=3 m=64MiB)", sign_in_once,
         max(20, args.rounds // 10)),
    ]
    rows = []
    for name, fn, rounds in cases:
        r = measure(fn, rounds)
        rows.append(f"| {name} | {r['median']:.2f} | {r['p95']:.2f} | {r['rounds']} |")
    header = ["| case | median ms | p95 ms | rounds |", "|---|---|---|---|"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = "\n".join([
        "## Pages and accounts",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}, SQLite, "
        "in-process (Flask test client). Command: `make bench`.",
        "",
        *header, *rows, ""])
    print(text)
    write_section("pages", text)


if __name__ == "__main__":
    main()
