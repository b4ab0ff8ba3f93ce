"""Search benchmark: 20,000 synthetic mixed Chinese/English documents.

    .venv/bin/python bench/search_bench.py [--docs 20000] [--queries 300] [--no-http]

Builds the corpus from sentences of the library's own articles (fixed seed), indexes it with
the portal's schema and analyzers, and measures:

* index time and size on disk;
* query latency p50/p95 through ``portal.search.search`` (the code the site runs: query
  building, time-limited collection, a page of 10 results with highlighted snippets);
* incremental update of one document (writer open + update + commit);
* the same queries through SQLite FTS5 over jieba-segmented text, as a reference;
* the same queries over HTTP (``/api/v1/search``) under gunicorn with 2 workers.

Results replace this corpus's section of bench/RESULTS.md.
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
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from results import write_section  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402

from portal import create_app  # noqa: E402
from portal.core.content import split_front_matter  # noqa: E402
from portal.search import Document, search  # noqa: E402
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
    return ix, elapsed, size


def measure_inprocess(app, queries):
    times, totals = [], []
    with app.test_request_context("/"):
        search("warm up")
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


def measure_http(instance, queries):
    port = free_port()
    env = {**os.environ, "PORTAL_INSTANCE_PATH": instance}
    env.pop("PORTAL_DATABASE_URL", None)
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--corpus", choices=["mixed", "dense"], default="mixed")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--keep", help="keep the index in this folder and reuse it next time")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    rng = random.Random(20261128)
    folder = args.keep or tempfile.mkdtemp(prefix="portal-search-bench-")
    instance = os.path.join(folder, "instance")
    try:
        docs = corpus(args.docs, rng, args.corpus)
        queries = query_set(docs, args.queries, rng)
        search_dir = os.path.join(instance, "search")
        name = f"index-{SCHEMA_VERSION}-bench"
        if args.keep and os.path.isdir(os.path.join(search_dir, name)):
            ix = whoosh_index.open_dir(os.path.join(search_dir, name))
            index_time = float("nan")
            size = sum(os.path.getsize(os.path.join(search_dir, name, f))
                       for f in os.listdir(os.path.join(search_dir, name)))
        else:
            ix, index_time, size = build_index(os.path.join(search_dir, name), docs, args.procs)
        with open(os.path.join(search_dir, "CURRENT"), "w") as fh:
            fh.write(name)
        app = create_app({"INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False})
        q_times, totals = measure_inprocess(app, queries)
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
            f"`.venv/bin/python bench/search_bench.py --docs {args.docs} --queries "
            f"{args.queries} --corpus {args.corpus}` on {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}.",
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
            f"{percentile(totals, 95):.0f}).",
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
        text = "\n".join(lines) + "\n"
        print(text)
        if not args.no_write:
            write_section(f"search-{args.corpus}", text)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
