"""Two backends behind one door: Whoosh files (the default) and PostgreSQL tables.

The rest of tests/search runs against whichever backend ``PORTAL_TEST_SEARCH_BACKEND``
names; these tests are about the choice itself and what only the PostgreSQL backend does
(one index shared by every app server, rebuilt in one transaction)."""

import threading

import pytest
import sqlalchemy as sa

from portal import create_app, search
from portal.config import ConfigError
from portal.db import writing
from portal.extensions import db
from portal.learn.models import Article, Observance
from portal.search import pg
from portal.search.analysis import bigram_analyzer, mixed_analyzer
from tests.conftest import PG_URL
from tests.conftest import run_jobs as run_all_jobs
from tests.search.backend import needs_postgresql, postgresql_only


def _library_documents() -> int:
    """What the library puts in the index: each published language version of an article or
    page, and each observance day in both languages."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Article))
    return count + 2 * db.session.scalar(sa.select(sa.func.count()).select_from(Observance))


def run_jobs(app) -> int:
    return run_all_jobs(app, only={"search.index"})


QUERIES = ["节水", "water", "垃圾分类 recycling", "湿地", "energy label", "世界环境日", "地公",
           "的", "水", "recycled bottles", "低碳出行 walking", "植树节", "Earth Day 地球",
           "zzzyyyxxx", "生物多样性", "standby power", "嘉兴 wetland"]


def test_the_postgresql_backend_on_sqlite_is_refused_at_start_up(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SEARCH_BACKEND": "postgresql",
              "DATABASE_URL": "sqlite:///" + str(tmp_path / "portal.sqlite3")}
    with pytest.raises(ConfigError, match="PORTAL_SEARCH_BACKEND=postgresql .* not PostgreSQL"):
        create_app(config)
    with pytest.raises(ConfigError, match="PORTAL_SEARCH_BACKEND='elastic' is not valid"):
        create_app({**config, "SEARCH_BACKEND": "elastic"})
    assert create_app({**config, "SEARCH_BACKEND": "whoosh"})  # the embedded default


def test_the_migration_makes_the_index_table_on_postgresql_only(ctx):
    inspector = sa.inspect(db.engine)
    if db.engine.dialect.name != "postgresql":
        assert "documents" not in inspector.get_table_names()
        return
    assert set(inspector.get_table_names(schema="portal_search")) == {"documents", "meta"}
    columns = {c["name"]: c["type"] for c in inspector.get_columns("documents",
                                                                   schema="portal_search")}
    assert type(columns["words"]).__name__ == "TSVECTOR"
    indexes = db.session.execute(sa.text(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'portal_search' "
        "AND tablename = 'documents'")).scalars().all()
    for column in ("words", "pairs", "tier1", "tier2", "tier3"):
        assert any(f"USING gin ({column})" in i for i in indexes), indexes


@needs_postgresql
def test_the_simple_configuration_keeps_every_term_of_our_analysis(library):
    """``to_tsvector('simple', …)`` turns our tokens into exactly these lexemes: nothing
    stemmed, dropped or split again (the analysis is ours, in Python, for both backends)."""
    with library.app_context():
        docs = [d for src in search.sources() for d in src.all_documents()]
        assert len(docs) == _library_documents() > 0
        for doc in docs:
            row = pg.row(doc)
            for field in ("title_words", "body_words", "title_pairs", "body_pairs"):
                lexemes = db.session.scalar(sa.text(
                    "SELECT tsvector_to_array(to_tsvector('simple', :t))"), {"t": row[field]})
                assert sorted(lexemes) == sorted(set(row[field].split())), (doc.key, field)
        assert {t.text for t in mixed_analyzer()(docs[0].body, mode="index")}
        assert {t.text for t in bigram_analyzer()("节约用水")} == {"节约", "约用", "用水"}


@needs_postgresql
def test_both_backends_find_the_same_documents_with_the_same_snippets(make_library_app):
    apps = {name: make_library_app(SEARCH_BACKEND=name) for name in ("whoosh", "postgresql")}
    found = {}
    for name, app in apps.items():
        with app.app_context():
            search.ensure_index()
        with app.test_request_context("/"):
            found[name] = {}
            for q in QUERIES:
                for kind, lang in [(None, None), ("article", None), (None, "en"),
                                   ("observance", "zh")]:
                    page = search.search(q, kind=kind, lang=lang, per_page=100)
                    found[name][(q, kind, lang)] = (page.total, {
                        (h.kind, h.id, h.lang): (h.title, h.url, str(h.snippet))
                        for h in page.hits})
    whoosh, postgresql = found["whoosh"], found["postgresql"]
    assert sum(total for total, _hits in whoosh.values()) > 300
    assert postgresql == whoosh


def _add_to_summary(app, slug, lang, text):
    """Change an article as an editor would (its summary is part of its document)."""
    with app.app_context(), writing():
        db.session.execute(sa.text("UPDATE articles SET summary = summary || :text "
                                   "WHERE slug = :slug AND lang = :lang"),
                           {"text": text, "slug": slug, "lang": lang})
        search.enqueue("article", slug)


@postgresql_only
def test_app_servers_with_their_own_folders_share_one_index(make_library_app, tmp_path):
    writer = make_library_app()
    reader = make_library_app(INSTANCE_PATH=str(tmp_path / "another-server"))
    with reader.test_request_context("/"):
        assert search.search("湿地").total > 0  # built on the writer's side, read here
        assert search.search("saplings").total == 0
    _add_to_summary(writer, "biodiversity-and-wetlands", "en", " Water young saplings.")
    assert run_jobs(writer) == 1
    with reader.test_request_context("/"):
        [hit] = search.search("saplings").hits
    assert (hit.id, hit.lang) == ("biodiversity-and-wetlands", "en")
    assert "saplings</mark>" in hit.snippet


@postgresql_only
def test_a_rebuild_is_seen_whole_and_index_jobs_wait_for_it(make_library_app, monkeypatch):
    """Searches see the previous index until the rebuild commits; an index job meanwhile
    waits for the rebuild's lock, fails after WRITE_TIMEOUT_MS, stays (it is not covered by
    the rebuild, which read the record before the change) and is done on its retry."""
    app = make_library_app()
    monkeypatch.setattr(pg, "WRITE_TIMEOUT_MS", 300)
    halfway, resume = threading.Event(), threading.Event()
    real = search.source("article")

    def slow_articles():
        for n, doc in enumerate(real.all_documents()):
            yield doc
            if n == 10:
                halfway.set()
                assert resume.wait(30)

    monkeypatch.setitem(search.registry._SOURCES, "article", real.__class__(
        real.kind, real.label, slow_articles, real.documents_for))
    with app.test_request_context("/"):
        water = search.search("水").total
        expected = _library_documents()
    counted = []

    def rebuild():
        with app.app_context():
            counted.append(search.rebuild())

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        assert halfway.wait(30)
        _add_to_summary(app, "waste-sorting", "en", " Saplings need water.")
        with app.test_request_context("/"):
            assert search.search("水").total == water  # the old index, whole
            assert search.search("saplings").total == 0
        assert run_jobs(app) == 1  # the index job could not take the lock in time
        with app.app_context():
            assert search.pending() == 1
    finally:
        resume.set()
        thread.join(30)
    assert counted == [expected]
    with app.test_request_context("/"):
        assert search.search("水").total == water
        assert search.search("saplings").total == 0  # the rebuild read the old summary
    app.test_cli_runner().invoke(args=["jobs", "retry"])  # due now
    assert run_jobs(app) == 1
    with app.test_request_context("/"):
        assert [h.id for h in search.search("saplings").hits] == ["waste-sorting"]
        assert search.pending() == 0


@postgresql_only
def test_healthz_says_when_the_postgresql_index_is_missing_and_the_catch_up_builds_it(app):
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM portal_search.meta"))
        db.session.commit()
        assert not search.has_index()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["search"] == "error" and response.json["database"] == "ok"
    assert response.json["content"] == "ok"
    with app.app_context():
        search.indexing.catch_up()
        assert search.has_index() and search.check() == 0
    assert app.test_client().get("/healthz").status_code == 200


FILLER = "，湿地公园里有很多水鸟"


@pytest.fixture
def memos(app, monkeypatch):
    """Notes about bird-watching (观鸟): in a title, five, three, two times, or once in
    texts of different lengths."""
    docs = {"title": ("观鸟", "湿地" + FILLER * 3), "five": ("笔记", "观鸟" * 5 + FILLER * 3),
            "three": ("笔记", "观鸟" * 3 + FILLER * 3), "two": ("笔记", "观鸟" * 2 + FILLER * 3)}
    for n in range(1, 9):
        docs[f"once{n}"] = ("笔记", "观鸟" + FILLER * n)

    def documents(memo_id):
        if memo_id in docs:
            title, body = docs[memo_id]
            yield search.Document(kind="memo", id=memo_id, lang="zh", title=title, body=body,
                                  url=f"/memos/{memo_id}")

    monkeypatch.setitem(search.registry._SOURCES, "memo", search.registry.Source(
        "memo", lambda: "Memos", lambda: (d for m in docs for d in documents(m)), documents))
    with app.app_context():
        assert search.rebuild() == 12
    return app


def _order(app, per_page=50, page=1):
    with app.test_request_context("/"):
        found = search.search("观鸟", kind="memo", page=page, per_page=per_page)
    return found.total, [h.id for h in found.hits]


def _paged(app, per_page):
    ids, page = [], 1
    while True:
        total, some = _order(app, per_page, page)
        if not some:
            return total, ids
        ids += some
        page += 1


@pytest.mark.parametrize("exact_limit", [200, 3])
def test_title_and_frequent_matches_come_first_and_pages_follow_one_order(memos, monkeypatch,
                                                                        exact_limit):
    monkeypatch.setattr(pg, "EXACT_LIMIT", exact_limit)  # (the PostgreSQL backend's)
    total, ids = _order(memos)
    assert total == 12 and len(set(ids)) == 12
    assert set(ids[:2]) == {"title", "five"} and ids[2:4] == ["three", "two"]
    assert set(ids[4:]) == {f"once{n}" for n in range(1, 9)}
    if memos.config["SEARCH_BACKEND"] == "postgresql":
        # The last group: shorter texts first (ts_rank_cd's own order for one occurrence
        # each; with more matches than EXACT_LIMIT it is by length without reading them).
        assert ids[4:] == [f"once{n}" for n in range(1, 9)]
    for per_page in (1, 3, 5):
        assert _paged(memos, per_page) == (12, ids), per_page


@pytest.mark.skipif(bool(PG_URL), reason="SQLite: the index's own table is not there")
def test_sqlite_sites_keep_whoosh(app):
    assert app.config["SEARCH_BACKEND"] == "whoosh"
