"""The index follows the database through index jobs (one record each); a failed index
write loses nothing, and one bad record does not hold up the others."""

import pytest
import sqlalchemy as sa

from portal import search, security
from portal.db import utcnow, writing
from portal.extensions import db
from portal.jobs.models import DEAD, DONE, PENDING, Job
from portal.search import index
from tests.conftest import run_jobs
from tests.search.backend import break_index, whoosh_only

NOTES: dict[str, str] = {}


def _note_docs(note_id):
    if note_id in NOTES:
        yield search.Document(kind="note", id=note_id, lang="zh", title=f"笔记 {note_id}",
                              body=NOTES[note_id], url=f"/notes/{note_id}")


@pytest.fixture
def notes(app):
    """A throw-away searchable kind, registered like a feature would register its own."""
    NOTES.clear()
    search.register_source("note", lambda: "Notes",
                           lambda: (d for n in list(NOTES) for d in _note_docs(n)), _note_docs)
    security.ACCESS["save_note"] = security.PUBLIC

    def save_note():
        from flask import request

        NOTES[request.args["id"]] = request.args["text"]  # "the database"
        with writing():
            search.enqueue("note", request.args["id"])
        return "saved"

    app.add_url_rule("/save-note", "save_note", save_note)
    yield app
    del security.ACCESS["save_note"]
    search.registry._SOURCES.pop("note", None)


def _ids(app, text):
    with app.test_request_context("/"):
        return [h.id for h in search.search(text, kind="note").hits]


def _pending(app):
    with app.app_context():
        return search.pending()


def _enqueue(app, *ids):
    with app.app_context(), writing():
        for note_id in ids:
            search.enqueue("note", note_id)


def test_a_save_reaches_the_index_through_the_worker_not_the_request(notes):
    client = notes.test_client()
    saved = client.get("/save-note", query_string={"id": "1", "text": "湿地公园里观鸟"})
    assert saved.status_code == 200
    assert _ids(notes, "观鸟") == []  # the request wrote a job, not the index
    assert _pending(notes) == 1
    assert run_jobs(notes) == 1
    assert _ids(notes, "观鸟") == ["1"]
    assert _pending(notes) == 0
    client.get("/save-note", query_string={"id": "1", "text": "河边捡拾垃圾"})
    run_jobs(notes)
    assert _ids(notes, "观鸟") == [] and _ids(notes, "垃圾") == ["1"]


def test_a_record_that_cannot_be_indexed_dies_while_the_ones_after_it_are_indexed(notes):
    notes.config["JOBS_MAX_ATTEMPTS"] = 2
    NOTES.update({"10": "第一条", "12": "第三条"})
    real = search.registry._SOURCES["note"]

    def documents_for(note_id):
        if note_id == "11":
            raise ValueError("this record cannot be turned into documents")
        return real.documents_for(note_id)

    search.register_source("note", real.label, real.all_documents, documents_for)
    _enqueue(notes, "10", "11", "12")
    assert run_jobs(notes) == 3
    assert _ids(notes, "第一条") == ["10"] and _ids(notes, "第三条") == ["12"]
    with notes.app_context():
        bad = db.session.scalar(sa.select(Job).where(Job.state != DONE))
        assert bad.state == PENDING and bad.attempts == 1 and "cannot be turned" in bad.last_error
        assert bad.due_at > utcnow()  # it waits: exponential backoff
        bad_id = bad.id
        db.session.execute(sa.update(Job).where(Job.id == bad_id)
                           .values(due_at=Job.created_at))  # its next attempt is due
        db.session.commit()
    assert run_jobs(notes) == 1
    with notes.app_context():
        bad = db.session.get(Job, bad_id)
        assert bad.state == DEAD and bad.attempts == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)
                                 .where(Job.state == DONE)) == 2


def test_a_failed_index_write_keeps_the_save_and_the_next_sync_catches_up(notes, monkeypatch):
    repair = break_index(notes, monkeypatch)
    response = notes.test_client().get("/save-note",
                                       query_string={"id": "7", "text": "节约用水从我做起"})
    assert response.status_code == 200 and NOTES["7"]  # the user's save succeeded
    run_jobs(notes)  # fails: the job waits for its next attempt
    assert _pending(notes) == 1
    repair()
    notes.test_cli_runner().invoke(args=["jobs", "retry"])  # due now
    assert _ids(notes, "节约用水") == []
    result = notes.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "1 records updated, 0 waiting" in result.output
    assert _ids(notes, "节约用水") == ["7"]


def test_removed_records_leave_the_index(notes):
    client = notes.test_client()
    client.get("/save-note", query_string={"id": "2", "text": "垃圾分类"})
    run_jobs(notes)
    del NOTES["2"]
    _enqueue(notes, "2")
    assert run_jobs(notes) == 1
    assert _ids(notes, "垃圾分类") == []


def test_character_pairs_find_what_jieba_splits_differently(notes):
    NOTES["3"] = "他们在湿地公园里观鸟"
    _enqueue(notes, "3")
    run_jobs(notes)
    # "地公" is no word: jieba splits it off both 湿地 and 公园, the pairs still match.
    assert _ids(notes, "地公") == ["3"]


def test_rebuild_removes_the_index_jobs_it_covered(notes):
    NOTES["4"] = "低碳出行"
    _enqueue(notes, "4")
    with notes.app_context():
        assert search.rebuild() == 1
    assert _pending(notes) == 0
    assert _ids(notes, "低碳出行") == ["4"]


def _borrow():
    with index.searcher() as s:
        return s


@whoosh_only
def test_one_searcher_is_reused_until_the_index_changes(notes):
    NOTES["6"] = "浙江生态日"
    with notes.app_context():
        search.rebuild()  # (an empty index's reader never reports itself up to date)
        first = _borrow()
        assert _borrow() is first
        with index.searcher() as a, index.searcher() as b:
            assert a is not b  # two at once (two threads) get two searchers
        NOTES["5"] = "世界环境日"
        with writing():
            search.enqueue("note", "5")
        run_jobs(notes)
        second = _borrow()
        assert second is not first and _borrow() is second
        search.rebuild()
        assert _borrow() is not second


@whoosh_only
def test_searchers_are_shared_across_threads(notes):
    import threading

    NOTES["8"] = "植树节"
    with notes.app_context():
        search.rebuild()
    seen = []

    def worker():
        with notes.app_context():
            seen.append(_borrow())

    for _ in range(3):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen[0] is seen[1] is seen[2]  # a new thread borrows, it does not reopen


def test_a_content_sync_survives_a_broken_index(library, monkeypatch, tmp_path):
    import shutil

    from portal.config import ROOT

    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    (folder / "learn" / "tree-care.en.md").write_text(
        "---\ntitle: Caring for street trees\ntopics: [nature]\nupdated: 2026-11-28\n---\n"
        "Water young saplings in droughts.\n", encoding="utf-8")
    library.config["CONTENT_DIR"] = str(folder)
    repair = break_index(library, monkeypatch)
    result = library.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "articles: 1 new" in result.output
    assert _pending(library) == 1
    run_jobs(library)  # the index is unusable: the job fails and waits
    assert _pending(library) == 1
    repair()
    library.test_cli_runner().invoke(args=["jobs", "retry"])
    result = library.test_cli_runner().invoke(args=["search", "sync"])
    assert "1 records updated, 0 waiting" in result.output
    with library.test_request_context("/"):
        assert [h.id for h in search.search("saplings").hits] == ["tree-care"]


def test_snippets_escape_stored_text(notes):
    NOTES["9"] = '节水 <script>alert("x")</script> 节水'
    _enqueue(notes, "9")
    run_jobs(notes)
    with notes.test_request_context("/"):
        [hit] = search.search("节水", kind="note").hits
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert hit.snippet.count("<mark") == 2


def test_snippets_show_the_first_of_equally_good_fragments(notes):
    # Three matches far apart: three fragments that score the same.  The snippet shows the
    # first two, every time (whoosh's own choice among equals went by memory address).
    NOTES["13"] = "节水" + "甲" * 150 + "节水" + "乙" * 150 + "节水" + "丙" * 150
    _enqueue(notes, "13")
    run_jobs(notes)
    with notes.test_request_context("/"):
        snippets = {str(search.search("节水", kind="note").hits[0].snippet) for _ in range(20)}
    [snippet] = snippets
    assert snippet.count("<mark") == 2 and "甲" in snippet and "乙" in snippet
    assert "丙" not in snippet


def test_each_snippet_numbers_its_own_marked_words(notes):
    NOTES.update({"14": "节水从我做起", "15": "垃圾分类从我做起"})
    _enqueue(notes, "14", "15")
    run_jobs(notes)
    with notes.test_request_context("/"):
        first = search.search("节水", kind="note").hits[0].snippet
        second = search.search("垃圾分类", kind="note").hits[0].snippet
    assert 'class="match term0">节水<' in first
    assert 'class="match term0">垃圾分类<' in second  # not term1: nothing carried over
