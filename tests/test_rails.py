"""The rails every feature runs on: one unit of work, reads that stay reads."""

from __future__ import annotations

import ast
import pathlib

import pytest
import sqlalchemy as sa

from portal.db import writing
from portal.extensions import db
from tests.conftest import make_user, sign_in

PORTAL = pathlib.Path(__file__).resolve().parent.parent / "portal"


def _session_calls(path: pathlib.Path) -> list[str]:
    """``….session.commit()`` / ``….rollback()`` calls in a module (Whoosh's writer.commit()
    is not a database transaction and does not count)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback", "begin")
                and "session" in ast.unparse(node.func.value)):
            found.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_code_outside_the_unit_of_work_commits_or_rolls_back():
    calls = [c for p in sorted(PORTAL.rglob("*.py")) if p != PORTAL / "db.py"
             for c in _session_calls(p)]
    assert calls == []


def test_the_check_above_sees_a_hand_written_commit(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    db.session.commit()\n    writer.commit()\n")
    assert [c.split()[-1] for c in _session_calls_at(sample)] == ["db.session.commit()"]


def _session_calls_at(path):
    global PORTAL
    saved, PORTAL = PORTAL, path.parent
    try:
        return _session_calls(path)
    finally:
        PORTAL = saved


# Imports inside functions (ruff's PLC0415 also refuses them): only these, each for a reason
# given on its line as ``# noqa: PLC0415 (<reason>)``.
FUNCTION_IMPORTS_ALLOWED = {
    ("portal/db.py", "portal.extensions"),  # cycle: portal.extensions imports db.Base
    ("portal/search/analysis.py", "jieba"),  # ~0.15 s to import; loaded on first use
}


def _function_imports(path: pathlib.Path) -> list[tuple[str, str, str]]:
    """(file, module, source line) of every import inside a function or class."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for top in ast.parse("\n".join(lines)).body:
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for node in ast.walk(top):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    module = node.module if isinstance(node, ast.ImportFrom) else \
                        node.names[0].name
                    found.append((str(path.relative_to(PORTAL.parent)), module,
                                  lines[node.lineno - 1]))
    return found


def test_imports_inside_functions_are_only_the_listed_ones_and_say_why():
    found = [f for p in sorted(PORTAL.rglob("*.py")) for f in _function_imports(p)]
    assert {(path, module) for path, module, _line in found} <= FUNCTION_IMPORTS_ALLOWED
    assert all("# noqa: PLC0415 (" in line for _path, _module, line in found)


def test_a_unit_of_work_commits_on_success_and_rolls_back_on_any_exception(app):
    from portal.accounts.models import User

    uid = make_user(app)
    with app.app_context():
        with writing():
            db.session.get(User, uid).display_name = "改过的名字"
        with pytest.raises(KeyboardInterrupt), writing():  # not even an Exception
            db.session.get(User, uid).display_name = "不该留下"
            raise KeyboardInterrupt
        db.session.remove()
        assert db.session.get(User, uid).display_name == "改过的名字"
        ran = []
        with pytest.raises(ValueError), writing() as uow:
            uow.after_commit(lambda: ran.append("after"))
            raise ValueError
        with writing() as uow:
            uow.after_commit(lambda: ran.append("after"))
            with writing() as inner:  # joins the outer unit
                assert inner is uow
            assert ran == []  # not before the commit
        assert ran == ["after"]


def _writes(app):
    statements = []

    def listener(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement.split("\n")[0][:80])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    return statements, lambda: sa.event.remove(engine, "before_cursor_execute", listener)


def test_pages_people_read_write_nothing(library):
    make_user(library)
    client = library.test_client()
    sign_in(client)
    statements, stop = _writes(library)
    try:
        for path in ("/", "/learn", "/events", "/events/calendar", "/my/events", "/my/hours",
                     "/account", "/account/data", "/dashboard", "/households", "/schools",
                     "/search?q=垃圾分类", "/calendar.ics", "/healthz"):
            assert client.get(path).status_code in (200, 302), path
    finally:
        stop()
    assert statements == []


def test_an_api_token_records_its_use_at_most_once_a_minute(app):
    from portal.accounts import services as accounts
    from portal.accounts.models import User

    uid = make_user(app)
    with app.app_context():
        raw = accounts.create_api_token(db.session.get(User, uid), "t")[1]
    client = app.test_client()
    statements, stop = _writes(app)
    try:
        for _ in range(5):
            assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}
                              ).status_code == 200
    finally:
        stop()
    assert len(statements) == 1 and statements[0].startswith("UPDATE api_tokens")


def test_bookkeeping_waits_for_nobody(app):
    """``if_free`` gives up at once when the database is busy, instead of making a request
    wait for the write lock (SQLite) or a row lock (PostgreSQL)."""
    import threading

    from portal.accounts.models import User
    from portal.db import if_free

    uid = make_user(app)
    touch = sa.update(User).where(User.id == uid).values(display_name="记账")
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with app.app_context(), writing():
            db.session.execute(sa.update(User).where(User.id == uid).values(locale="en"))
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                assert if_free(touch) is False  # the write lock is taken: not written
    finally:
        release.set()
        holder.join()
    with app.app_context():
        assert if_free(touch) is True
        assert db.session.get(User, uid).display_name == "记账"


def test_a_token_s_first_use_is_recorded_without_a_wait_and_outside_sqlite_s_lock(app):
    """On PostgreSQL the token's "last used" rides with the sign-up's unit of work (the same
    connection and transaction as the sign-up's INSERT); on SQLite it stays out of the write
    lock and is written afterwards, on a connection of its own."""
    from portal.accounts import services as accounts
    from portal.accounts.models import ApiToken, User
    from tests.events.conftest import make_event

    event = make_event(app, make_user(app, email="org@example.org", role="organizer"))
    uid = make_user(app)
    with app.app_context():
        raw = accounts.create_api_token(db.session.get(User, uid), "t")[1]
    timeline = []  # what the database was told, in order

    def on_execute(_conn, _cursor, statement, *_args):
        for name in ("UPDATE api_tokens", "INSERT INTO signups"):
            if statement.startswith(name):
                timeline.append(name)

    def on_commit(_conn):
        timeline.append("COMMIT")

    with app.app_context():
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    try:
        response = app.test_client().post(f"/api/v1/events/{event}/signup",
                                          headers={"Authorization": f"Bearer {raw}"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None
    if sqlite:  # after the sign-up's commit, in a transaction of its own
        assert timeline[:3] == ["INSERT INTO signups", "COMMIT", "UPDATE api_tokens"]
    else:  # inside the sign-up's transaction, before its commit
        assert timeline[:3] == ["UPDATE api_tokens", "INSERT INTO signups", "COMMIT"]


@pytest.fixture
def refusing(app):
    """A page and an API route whose service refuses, the way every feature's do."""
    from portal import security
    from portal.rules import RuleError

    def refuse():
        raise RuleError("closed", "报名已截止。", 409, {"when": "closed"})

    for endpoint, path in (("refuse_page", "/refuse"), ("api.refuse", "/api/v1/refuse")):
        security.ACCESS[endpoint] = security.PUBLIC
        app.add_url_rule(path, endpoint, refuse, methods=["GET", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    for endpoint in ("refuse_page", "api.refuse"):
        del security.ACCESS[endpoint]


def test_one_handler_turns_a_rule_error_into_json_a_page_or_a_flash(refusing):
    client = refusing.test_client()
    api = client.post("/api/v1/refuse")
    assert api.status_code == 409
    assert api.json == {"error": {"code": "closed", "message": "报名已截止。",
                                  "fields": {"when": "closed"}}}
    page = client.get("/refuse")
    assert page.status_code == 409 and "报名已截止。" in page.get_data(as_text=True)
    back = client.post("/refuse", headers={"Referer": "http://localhost/events?district=nanhu"})
    assert back.status_code == 302 and back.headers["Location"] == "/events?district=nanhu"
    assert "报名已截止。" in client.get("/events").get_data(as_text=True)  # the flash
    for referrer in ("http://evil.example/events", "http://localhost//evil.example/x", ""):
        away = client.post("/refuse", headers={"Referer": referrer})
        assert away.headers["Location"] == "/", referrer  # never back to somewhere else
