"""The index follows the database through the outbox; a failed index write loses nothing."""

import pytest
import sqlalchemy as sa

from portal import search, security
from portal.extensions import db
from portal.search import index
from portal.search.models import SearchOutbox

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
        search.enqueue("note", request.args["id"])
        db.session.commit()
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
        return db.session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox))


def test_a_save_reaches_the_index_after_the_request(notes):
    client = notes.test_client()
    saved = client.get("/save-note", query_string={"id": "1", "text": "湿地公园里观鸟"})
    assert saved.status_code == 200
    assert _ids(notes, "观鸟") == ["1"]
    assert _pending(notes) == 0
    client.get("/save-note", query_string={"id": "1", "text": "河边捡拾垃圾"})
    assert _ids(notes, "观鸟") == [] and _ids(notes, "垃圾") == ["1"]


def test_a_failed_index_write_keeps_the_save_and_the_next_sync_catches_up(notes, monkeypatch):
    def broken():
        raise OSError("disk full")

    monkeypatch.setattr(index, "open_index", broken)
    response = notes.test_client().get("/save-note",
                                       query_string={"id": "7", "text": "节约用水从我做起"})
    assert response.status_code == 200 and NOTES["7"]  # the user's save succeeded
    assert _pending(notes) == 1
    monkeypatch.undo()
    assert _ids(notes, "节约用水") == []
    result = notes.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "1 records updated, 0 waiting" in result.output
    assert _ids(notes, "节约用水") == ["7"]


def test_removed_records_leave_the_index(notes):
    client = notes.test_client()
    client.get("/save-note", query_string={"id": "2", "text": "垃圾分类"})
    del NOTES["2"]
    with notes.app_context():
        search.enqueue("note", "2")
        db.session.commit()
        assert search.process_outbox() == 1
    assert _ids(notes, "垃圾分类") == []


def test_character_pairs_find_what_jieba_splits_differently(notes):
    NOTES["3"] = "他们在湿地公园里观鸟"
    with notes.app_context():
        search.enqueue("note", "3")
        db.session.commit()
        search.process_outbox()
    # "地公" is no word: jieba splits it off both 湿地 and 公园, the pairs still match.
    assert _ids(notes, "地公") == ["3"]


def test_rebuild_clears_the_outbox_it_covered(notes):
    NOTES["4"] = "低碳出行"
    with notes.app_context():
        search.enqueue("note", "4")
        db.session.commit()
        assert search.rebuild() == 1
    assert _pending(notes) == 0
    assert _ids(notes, "低碳出行") == ["4"]


def _borrow():
    with index.searcher() as s:
        return s


def test_one_searcher_is_reused_until_the_index_changes(notes):
    NOTES["6"] = "浙江生态日"
    with notes.app_context():
        search.rebuild()  # (an empty index's reader never reports itself up to date)
        first = _borrow()
        assert _borrow() is first
        with index.searcher() as a, index.searcher() as b:
            assert a is not b  # two at once (two threads) get two searchers
        NOTES["5"] = "世界环境日"
        search.enqueue("note", "5")
        db.session.commit()
        search.process_outbox()
        second = _borrow()
        assert second is not first and _borrow() is second
        search.rebuild()
        assert _borrow() is not second


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

    def broken():
        raise OSError("index unavailable")

    monkeypatch.setattr(index, "open_index", broken)
    result = library.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "articles: 1 new" in result.output
    assert _pending(library) == 1
    monkeypatch.undo()
    library.test_cli_runner().invoke(args=["search", "sync"])
    with library.test_request_context("/"):
        assert [h.id for h in search.search("saplings").hits] == ["tree-care"]


def test_snippets_escape_stored_text(notes):
    NOTES["9"] = '节水 <script>alert("x")</script> 节水'
    with notes.app_context():
        search.enqueue("note", "9")
        db.session.commit()
        search.process_outbox()
    with notes.test_request_context("/"):
        [hit] = search.search("节水", kind="note").hits
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert hit.snippet.count("<mark") == 2
