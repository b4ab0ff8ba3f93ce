"""Search benchmark: 20,000 synthetic mixed Chinese/English documents.

    .venv/bin/python bench/search_bench.py [--docs 20000] [--queries 300] [--no-http]
        [--backend whoosh|postgresql|both] [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]

Builds the corpus from sentences of the library's own articles (fixed seed), indexes it with
the portal's schema and analyzers, and measures:

* index time and size on disk;
* query latency p50/p95 through ``portal.search.search`` (the code the site runs: query
  building, time-limited collection, a page of 10 results with highlighted snippets);
* incremental update of one document (writer open + update + commit);
* the same queries through SQLite FTS5 over jieba-segmented text, as a reference;
* the same queries over HTTP (``/api/v1/search``) under gunicorn with 2 workers.

With ``--backend postgresql`` (or ``both``: Whoosh first, then PostgreSQL, on the same corpus
and queries in the same run) the PostgreSQL backend is measured the same way in a fresh
database made on the server of ``--pg`` (and dropped afterwards): ``flask search rebuild``'s
build, table size, the same in-process queries, updates through the index job's write, and
HTTP under gunicorn.

Results replace this corpus's sections of bench/RESULTS.md (``search-<corpus>`` for Whoosh,
``search-pg-<corpus>`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import collections
import glob
import http.client
import itertools
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import sqlalchemy as sa  # noqa: E402
from results import write_section  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402

from portal import create_app  # noqa: E402
from portal.core.content import split_front_matter  # noqa: E402
from portal.search import Document, pg, search  # noqa: E402
from portal.search.analysis import mixed_analyzer, segmenter, terms  # noqa: E402
from portal.search.index import SCHEMA_VERSION, fields, schema  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def sentences():
    zh, en = [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "content", "learn", "*.md"))):
        with open(path, encoding="utf-8") as fh:
            _meta, body = split_front_matter(fh.read())
        body = re.sub(r"[#*>`-]", " ", body)
        if path.endswith(".zh.md"):
            zh += [s.strip() + "。" for s in re.split(r"[。！？\n]", body) if len(s.strip()) > 8]
        else:
            en += [s.strip() + "." for s in re.split(r"(?<=[.!?])\s+|\n", body)
                   if len(s.split()) > 4]
    return zh, en


class Vocabulary:
    """Words drawn by frequency: Chinese from jieba's dictionary (frequencies from real text),
    English from the library's words plus a long tail of made-up words, Zipf-weighted."""

    def __init__(self, rng, en_sentences):
        freq = segmenter().FREQ
        zh = [(w, f) for w, f in freq.items()
              if f > 0 and 1 < len(w) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", w)]
        self.zh_words = [w for w, _f in zh]
        self.zh_cum = list(itertools.accumulate(f for _w, f in zh))
        counts = collections.Counter(w.lower() for s in en_sentences
                                     for w in re.findall(r"[A-Za-z]{3,}", s))
        known = [w for w, _c in counts.most_common()]
        syllables = ["ba", "ker", "lo", "min", "tra", "vel", "sor", "pen", "dri", "qua", "lex",
                     "mo", "ran", "tis", "ful", "gen", "hor", "ish", "nor", "pla"]
        tail = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
                       for _ in range(40_000)})
        self.en_words = known + tail
        self.en_cum = list(itertools.accumulate(1 / (rank + 1) for rank in
                                                range(len(self.en_words))))
        self.rng = rng

    def sentence(self, lang):
        words, cum = (self.zh_words, self.zh_cum) if lang == "zh" else (self.en_words,
                                                                       self.en_cum)
        picked = self.rng.choices(words, cum_weights=cum, k=self.rng.randint(6, 14))
        return ("".join(picked) + "。") if lang == "zh" else (" ".join(picked) + ".")


def corpus(n, rng, kind="mixed"):
    """``dense``: only sentences of the library (every word is common: a worst case);
    ``mixed``: half library sentences, half words drawn by frequency (a realistic spread)."""
    zh, en = sentences()
    vocab = Vocabulary(rng, en) if kind == "mixed" else None
    docs = []
    for i in range(n):
        lang = "zh" if rng.random() < 0.6 else "en"
        pool = zh if lang == "zh" else en
        target = rng.randint(500, 1500) if lang == "zh" else rng.randint(1500, 4500)
        body, size = [], 0
        while size < target:
            s = vocab.sentence(lang) if vocab and rng.random() < 0.5 else rng.choice(pool)
            body.append(s)
            size += len(s)
        title = (rng.choice(pool)[:14] if lang == "zh"
                 else " ".join(rng.choice(pool).split()[:7]))
        docs.append(Document(kind="article", id=str(i), lang=lang, title=title,
                             body=" ".join(body), url=f"/doc/{i}", summary=""))
    return docs


COMMON = 100  # each language's most frequent words are skipped: they act as stop words


def query_set(docs, n, rng):
    analyzer = mixed_analyzer()
    zh_counts, en_counts = collections.Counter(), collections.Counter()
    for d in rng.sample(docs, 300):
        if d.lang == "zh":
            zh_counts.update(w for w in terms(d.body, analyzer)
                             if len(w) > 1 and re.fullmatch(r"[\u4e00-\u9fff]+", w))
        else:
            en_counts.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", d.body))
    zh_words = [w for w, _c in zh_counts.most_common()[COMMON:]]
    en_words = [w for w, _c in en_counts.most_common()[COMMON:]]
    zh_weights = [zh_counts[w] for w in zh_words]
    en_weights = [en_counts[w] for w in en_words]

    def zh():
        return rng.choices(zh_words, weights=zh_weights)[0]

    def en():
        return rng.choices(en_words, weights=en_weights)[0]

    shapes = [lambda: zh(), lambda: en(), lambda: f"{zh()} {en()}", lambda: f"{zh()}{zh()}"]
    return [shapes[i % 4]() for i in range(n)]


def build_index(path, docs, procs):
    os.makedirs(path)
    ix = whoosh_index.create_in(path, schema())
    start = time.perf_counter()
    writer = ix.writer(procs=procs, limitmb=256, compound=False) if procs > 1 \
        else ix.writer(compound=False)
    for d in docs:
        writer.add_document(**fields(d))
    writer.commit(optimize=True)
    elapsed = time.perf_counter() - start
    size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    with open(path + ".build-seconds", "w") as fh:  # for a later run with --keep
        fh.write(f"{elapsed}\n")
    return ix, elapsed, size


def measure_inprocess(app, queries):
    times, totals = [], []
    with app.test_request_context("/"):
        search("warm up 绿色")
        for q in queries:
            start = time.perf_counter()
            page = search(q)
            for hit in page.hits:
                str(hit.snippet)
            times.append((time.perf_counter() - start) * 1000)
            totals.append(page.total)
    return times, totals


def measure_update(ix, docs, rounds=20):
    times = []
    for i in range(rounds):
        d = docs[i]
        changed = Document(kind=d.kind, id=d.id, lang=d.lang, title=d.title + " 更新",
                           body=d.body, url=d.url)
        start = time.perf_counter()
        writer = ix.writer(timeout=10, compound=False)
        writer.delete_by_term("record", changed.record)
        writer.add_document(**fields(changed))
        writer.commit()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_fts5(folder, docs, queries):
    jieba = segmenter()

    def seg(text):
        return " ".join(w for w in jieba.cut_for_search(text) if w.strip())

    conn = sqlite3.connect(os.path.join(folder, "fts.sqlite3"))
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='unicode61')")
    start = time.perf_counter()
    conn.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                     [(int(d.id), seg(d.title), seg(d.body)) for d in docs])
    conn.commit()
    index_time = time.perf_counter() - start
    times = []
    for q in queries:
        words = [w for w in jieba.cut(q) if w.strip()]
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        start = time.perf_counter()
        rows = conn.execute(
            "SELECT rowid, snippet(docs, 1, '<mark>', '</mark>', '…', 16) FROM docs "
            "WHERE docs MATCH ? ORDER BY bm25(docs, 4.0, 1.0) LIMIT 10", (match,)).fetchall()
        len(rows)
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return index_time, times


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_http(instance, queries, database_url=None, backend="whoosh"):
    port = free_port()
    env = {**os.environ, "PORTAL_INSTANCE_PATH": instance, "PORTAL_SEARCH_BACKEND": backend,
           "PORTAL_RATELIMIT_ENABLED": "0"}
    env.pop("PORTAL_DATABASE_URL", None)
    if database_url:
        env["PORTAL_DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--workers", "2",
         "--preload", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for q in queries[:20]:  # warm both workers (jieba, searcher)
            conn.request("GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            conn.getresponse().read()
        times, statuses = [], set()
        for q in queries:
            start = time.perf_counter()
            conn.request("GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            response = conn.getresponse()
            response.read()
            times.append((time.perf_counter() - start) * 1000)
            statuses.add(response.status)
        conn.close()
        return times, statuses
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def describe(args, docs, queries, totals):
    return (
        f"Corpus `{args.corpus}`: {len(docs)} documents (60% Chinese, 40% English); "
        + ("half of each body is sentences from the library, half words drawn by frequency "
           "(jieba's dictionary for Chinese, a Zipf-weighted vocabulary for English)"
           if args.corpus == "mixed" else
           "every sentence comes from the library's 34 articles, so every word is common "
           "(a worst case)")
        + f". {len(queries)} queries (a Chinese word, an English word, one of each, two "
        f"Chinese words run together), words drawn by their frequency in 300 random "
        f"documents, skipping each language's {COMMON} most frequent words; median "
        f"{statistics.median(totals):.0f} hits per query (p95 "
        f"{percentile(totals, 95):.0f}).")


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def command(args):
    extra = ""
    if args.backend != "whoosh":
        extra = f" --backend {args.backend} --pg {make_url(args.pg).render_as_string()}"
    return (f"`.venv/bin/python bench/search_bench.py --docs {args.docs} --queries "
            f"{args.queries} --corpus {args.corpus}{extra}` on {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}.")


def run_whoosh(args, docs, queries, folder):
    """The Whoosh backend: its section's lines and the in-process query times."""
    instance = os.path.join(folder, "instance")
    search_dir = os.path.join(instance, "search")
    name = f"index-{SCHEMA_VERSION}-bench"
    if args.keep and os.path.isdir(os.path.join(search_dir, name)):
        ix = whoosh_index.open_dir(os.path.join(search_dir, name))
        try:  # the build time of the run that made the kept index
            with open(os.path.join(search_dir, name) + ".build-seconds") as fh:
                index_time = float(fh.read())
        except (OSError, ValueError):
            index_time = float("nan")
        size = sum(os.path.getsize(os.path.join(search_dir, name, f))
                   for f in os.listdir(os.path.join(search_dir, name)))
    else:
        ix, index_time, size = build_index(os.path.join(search_dir, name), docs, args.procs)
    with open(os.path.join(search_dir, "CURRENT"), "w") as fh:
        fh.write(name)
    app = create_app({"INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": None, "SEARCH_BACKEND": "whoosh"})
    load_before = load()
    q_times, totals = measure_inprocess(app, queries)
    load_after = load()
    u_times = measure_update(ix, docs) if not args.keep else [float("nan")]
    q_times_after, _ = measure_inprocess(app, queries[:50])  # fresh searcher after writes
    if os.path.exists(os.path.join(folder, "fts.sqlite3")):
        os.unlink(os.path.join(folder, "fts.sqlite3"))
    fts_index, fts_times = measure_fts5(folder, docs, queries)
    http_times, statuses = ([], set()) if args.no_http else measure_http(instance, queries)

    p = percentile
    lines = [
        f"## Search, corpus `{args.corpus}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        command(args),
        describe(args, docs, queries, totals),
        f"Load average (1 / 5 / 15 min) before the in-process queries {load_before}, after "
        f"them {load_after}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| index build ({args.procs} processes) | {index_time:.1f} s "
        f"({len(docs) / index_time:.0f} docs/s) |",
        f"| index size | {size / 1e6:.0f} MB |",
        f"| query, in-process, page of 10 with snippets: p50 / p95 | "
        f"{p(q_times, 50):.1f} / {p(q_times, 95):.1f} ms (max {max(q_times):.0f} ms) |",
        f"| same, first 50 queries after 20 updates | {p(q_times_after, 50):.1f} / "
        f"{p(q_times_after, 95):.1f} ms |",
        f"| update one document (open writer, replace, commit): p50 / p95 | "
        f"{p(u_times, 50):.0f} / {p(u_times, 95):.0f} ms |",
        f"| SQLite FTS5 on jieba tokens, LIMIT 10 with snippet: p50 / p95 | "
        f"{p(fts_times, 50):.1f} / {p(fts_times, 95):.1f} ms (index {fts_index:.0f} s) |",
        f"| ratio Whoosh / FTS5 at p50 / p95 | {p(q_times, 50) / p(fts_times, 50):.1f}x / "
        f"{p(q_times, 95) / p(fts_times, 95):.1f}x |",
    ]
    if http_times:
        lines.append(f"| `/api/v1/search` over HTTP, gunicorn 2 workers, sequential: "
                     f"p50 / p95 | {p(http_times, 50):.1f} / {p(http_times, 95):.1f} ms "
                     f"(statuses {sorted(statuses)}) |")
    return lines, q_times, totals


def measure_pg_update(app, docs, rounds=20):
    """An index job's write: the record's row replaced in one unit of work."""
    times = []
    with app.app_context():
        for i in range(rounds):
            d = docs[i]
            changed = Document(kind=d.kind, id=d.id, lang=d.lang, title=d.title + " 更新",
                               body=d.body, url=d.url)
            start = time.perf_counter()
            pg.apply(changed.record, [changed])
            times.append((time.perf_counter() - start) * 1000)
    return times


def run_postgresql(args, docs, queries, folder, whoosh_times=None):
    """The PostgreSQL backend in a fresh database on the server of ``--pg``."""
    from flask_migrate import upgrade

    from portal.extensions import db

    server = make_url(args.pg)
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    instance = os.path.join(folder, "instance-pg")
    try:
        app = create_app({"INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False,
                          "DATABASE_URL": url, "SEARCH_BACKEND": "postgresql"})
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            count = pg.build(docs)
            index_time = time.perf_counter() - start
            db.session.remove()
        # What autovacuum does soon after a rebuild (the planner needs the statistics).
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE portal_search.documents")
            size = conn.exec_driver_sql(
                "SELECT pg_total_relation_size('portal_search.documents')").scalar()
            gin = conn.exec_driver_sql(
                "SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                "WHERE i.indrelid = 'portal_search.documents'::regclass "
                "AND am.amname = 'gin'").scalar() or 0
            server_version = conn.exec_driver_sql("SHOW server_version").scalar().split()[0]
        engine.dispose()
        assert count == len(docs)
        load_before = load()
        q_times, totals = measure_inprocess(app, queries)
        load_after = load()
        u_times = measure_pg_update(app, docs)
        q_times_after, _ = measure_inprocess(app, queries[:50])
        http_times, statuses = ([], set()) if args.no_http else measure_http(
            instance, queries, database_url=url, backend="postgresql")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    p = percentile
    lines = [
        f"## Search, PostgreSQL backend, corpus `{args.corpus}` "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        command(args) + f" PostgreSQL {server_version}, on the same machine.",
        describe(args, docs, queries, totals),
        f"Load average (1 / 5 / 15 min) before the in-process queries {load_before}, after "
        f"them {load_after}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| index build (`pg.build`, what `flask search rebuild` runs; 1 process) | "
        f"{index_time:.1f} s ({len(docs) / index_time:.0f} docs/s) |",
        f"| table size with TOAST and indexes (its 5 GIN indexes) | {size / 1e6:.0f} MB "
        f"({int(gin) / 1e6:.0f} MB) |",
        f"| query, in-process, page of 10 with snippets: p50 / p95 | "
        f"{p(q_times, 50):.1f} / {p(q_times, 95):.1f} ms (max {max(q_times):.0f} ms) |",
        f"| same, first 50 queries after 20 updates | {p(q_times_after, 50):.1f} / "
        f"{p(q_times_after, 95):.1f} ms |",
        f"| update one document (the index job's write: one unit of work): p50 / p95 | "
        f"{p(u_times, 50):.0f} / {p(u_times, 95):.0f} ms |",
    ]
    if whoosh_times:
        lines.append(f"| ratio PostgreSQL / Whoosh (same run) at p50 / p95 | "
                     f"{p(q_times, 50) / p(whoosh_times, 50):.1f}x / "
                     f"{p(q_times, 95) / p(whoosh_times, 95):.1f}x (Whoosh "
                     f"{p(whoosh_times, 50):.1f} / {p(whoosh_times, 95):.1f} ms) |")
    if http_times:
        lines.append(f"| `/api/v1/search` over HTTP, gunicorn 2 workers, sequential: "
                     f"p50 / p95 | {p(http_times, 50):.1f} / {p(http_times, 95):.1f} ms "
                     f"(statuses {sorted(statuses)}) |")
    return lines, totals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--corpus", choices=["mixed", "dense"], default="mixed")
    parser.add_argument("--backend", choices=["whoosh", "postgresql", "both"],
                        default="whoosh")
    parser.add_argument("--pg", default=os.environ.get("PORTAL_BENCH_DATABASE_URL"),
                        help="a PostgreSQL server (any database on it) for --backend "
                        "postgresql/both: a fresh database is made there and dropped")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--keep", help="keep the Whoosh index in this folder and reuse it")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    if args.backend != "whoosh" and not args.pg:
        parser.error("--backend postgresql/both needs --pg (or PORTAL_BENCH_DATABASE_URL)")
    rng = random.Random(20261128)
    folder = args.keep or tempfile.mkdtemp(prefix="portal-search-bench-")
    try:
        docs = corpus(args.docs, rng, args.corpus)
        queries = query_set(docs, args.queries, rng)
        whoosh_times = whoosh_totals = None
        if args.backend in ("whoosh", "both"):
            lines, whoosh_times, whoosh_totals = run_whoosh(args, docs, queries, folder)
            text = "\n".join(lines) + "\n"
            print(text, flush=True)
            if not args.no_write:
                write_section(f"search-{args.corpus}", text)
        if args.backend in ("postgresql", "both"):
            lines, totals = run_postgresql(args, docs, queries, folder, whoosh_times)
            if whoosh_totals is not None:
                same = sum(a == b for a, b in zip(totals, whoosh_totals, strict=True))
                lines.append(f"| queries with the same total as Whoosh | {same} of "
                             f"{len(totals)} |")
            text = "\n".join(lines) + "\n"
            print(text, flush=True)
            if not args.no_write:
                write_section(f"search-pg-{args.corpus}", text)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
