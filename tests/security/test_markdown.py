"""Issue 12, item 2: one Markdown text no longer takes the site down.

Markdown people type is rendered once, when it is saved, in a process of its own that is
killed after ``MARKDOWN_BUDGET`` seconds (``portal.markup.try_render``); a text that takes
longer or breaks the renderer is refused with a message and nothing is saved.  Pages, feeds,
the API and the search index read the stored HTML; rows the renderer has not seen (after the
migration, or a new ``markup.VERSION``) show their text escaped until the ``markup.rerender``
job has rendered them.  Titles have at most 200 characters, descriptions and posts 20,000,
in forms, API and services.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from portal import create_app, markup, stored_html
from portal.accounts.models import User
from portal.config import Defaults
from portal.db import writing
from portal.events import services as ev
from portal.events.models import Event
from portal.extensions import db
from portal.jobs.models import DONE, PENDING, Job
from portal.learn.models import Article
from portal.rules import RuleError
from portal.schools import services as sc
from portal.schools.models import Activity, School
from tests.conftest import (
    FAST_HASHING,
    PG_URL,
    _pg_admin_engine,
    csrf_token,
    make_user,
    run_jobs,
    sign_in,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUDGET = Defaults.MARKDOWN_BUDGET  # the corpus runs with the default budget (1 s)
MARGIN = 4.0  # a functional bound on the kill mechanism, not a speed benchmark

# The inputs of the audit first: each took a minute or raised RecursionError in-process.
BRACKETS, IMAGES, EMPHASIS = "[" * 20000, "![" * 10000, "*" * 9999 + "a" + "*" * 9999

CORPUS = {
    "open brackets": BRACKETS,
    "open images": IMAGES,
    "emphasis run": EMPHASIS,
    "underscore run": "_" * 9999 + "a" + "_" * 9999,
    "strong run": "**" * 4999 + "a" + "**" * 4999,
    "mixed emphasis": "*_" * 10000,
    "balanced brackets": "[" * 10000 + "]" * 10000,
    "unclosed links": "[a](" * 5000,
    "nested link text": "[" * 5000 + "x](y)" * 2000,
    "parentheses": "(" * 20000,
    "link references": "[a]: http://example.org/a\n" * 650 + "[a] " * 500,
    "undefined references": "[x][y]" * 3300,
    "reference labels": "[" + "a" * 999 + "]: /x\n" * 19,
    "deep blockquote": ">" * 5000 + "x",
    "spaced blockquote": "> " * 5000 + "x",
    "deep list": "".join("  " * i + "- x\n" for i in range(130)),
    "deep ordered list": "".join("   " * i + "1. x\n" for i in range(100)),
    "list markers": "- " * 6000 + "x",
    "task-like markers": "- [" * 6000,
    "long table": "| a | b |\n|---|---|\n" + "| x | y |\n" * 1990,
    "wide table": "|" + "a|" * 4990 + "\n|" + "-|" * 4990 + "\n",
    "backticks": "`" * 20000,
    "code spans": "``" + "`a" * 9990,
    "fences": "```\n" * 5000,
    "tilde fences": "~~~" * 6000,
    "html flood": "<div>" * 4000,
    "angle brackets": "<" * 20000,
    "open attributes": "<a href='" * 2000,
    "entities": "&#" * 10000,
    "named entities": "&amp;" * 4000,
    "hashes": "#" * 20000,
    "same heading many times": "# a\n" * 5000,
    "setext headings": "a\n=\n" * 5000,
    "escapes": "\\" * 20000,
    "hard breaks": "x  \n" * 5000,
    "rules": "***\n" * 5000,
    "autolinks": "<http://a.example/" * 1000,
    "indented code": "    " * 4999 + "x",
    "zero-width flood": "\u200b" * 20000,
    "Chinese brackets": "中文[链接" * 4000,
    "Chinese emphasis": "*中*" * 6000,
    "everything at once": ("[*_`<" * 4000),
}


def test_the_corpus_is_big_enough_and_within_the_cap():
    assert len(CORPUS) >= 30
    assert all(len(text) <= markup.TEXT_MAX for text in CORPUS.values())


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_pathological_text_renders_or_is_refused_within_the_budget(name):
    started = time.monotonic()
    html = markup.try_render(CORPUS[name], BUDGET)
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET + MARGIN, (name, elapsed)
    assert html is None or isinstance(html, str)
    if name in ("open brackets", "open images", "emphasis run"):
        assert html is None  # a minute's work, or a RecursionError: refused


def test_ordinary_text_renders_quickly_and_safely():
    html = markup.try_render("## 活动\n\n**带上**手套。[详情](https://example.org)"
                             "<script>alert(1)</script>", BUDGET)
    assert '<h2 id="活动">活动</h2>' in html and "<strong>带上</strong>" in html
    assert "<script" not in html and 'rel="noopener noreferrer nofollow"' in html
    assert markup.try_render("", BUDGET) == "" and markup.try_render("  \n", BUDGET) == ""


def test_a_refused_render_leaves_no_process_running():
    assert markup.try_render(BRACKETS, 0.5) is None
    server = markup._SERVER._process.pid
    time.sleep(0.2)  # the kernel reaps the killed child (SIGCHLD is ignored in the server)
    children = [pid for pid in os.listdir("/proc") if pid.isdigit()
                and _parent_of(pid) == server]
    assert children == []
    assert markup.try_render("*still*", BUDGET) == "<p><em>still</em></p>"


def _parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_the_budget_is_the_setting(make_app):
    app = make_app(MARKDOWN_BUDGET=0.2)
    slow = "[" * 4000  # about a second and a half in-process
    with app.app_context():
        started = time.monotonic()
        assert stored_html.budgeted(slow) is None
        assert time.monotonic() - started < 0.2 + MARGIN
        assert stored_html.budgeted("fine") == "<p>fine</p>"


# -- events: service, form, API ----------------------------------------------------------------

def _start():
    return (datetime.now(SHANGHAI) + timedelta(days=10)).replace(hour=9, minute=0, second=0,
                                                                 microsecond=0)


def _event_input(**changes):
    start = _start()
    return ev.EventInput(**{"title_zh": "河道清洁", "description_zh": "一起**清理**河道。",
                            "starts_at": start, "ends_at": start + timedelta(hours=3),
                            "place": "南湖北门", "district": "nanhu", "capacity": 5, **changes})


@pytest.fixture
def organizer(app):
    return make_user(app, email="org@example.org", role="organizer")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_service_stores_the_html_with_the_renderer_version(app, organizer):
    with app.app_context():
        event = ev.create_event(db.session.get(User, organizer), _event_input(
            description_en="Bring *gloves*."), publish=True)
        row = db.session.get(Event, event.id)
        assert row.description_zh_html == "<p>一起<strong>清理</strong>河道。</p>"
        assert row.description_en_html == "<p>Bring <em>gloves</em>.</p>"
        assert row.html_version == markup.VERSION


def test_the_service_refuses_a_text_too_complex_and_saves_nothing(app, organizer):
    with app.app_context():
        with pytest.raises(RuleError) as refused:
            ev.create_event(db.session.get(User, organizer),
                            _event_input(description_en=EMPHASIS), publish=True)
        assert refused.value.code == "markdown_too_complex" and refused.value.status == 422
        assert set(refused.value.fields) == {"description_en"}
        assert _count(Event) == 0 and _count(Job) == 0
        event = ev.create_event(db.session.get(User, organizer), _event_input(), publish=True)
        with pytest.raises(RuleError) as refused:
            ev.update_event(event.id, _event_input(description_zh=BRACKETS))
        assert refused.value.code == "markdown_too_complex"
        db.session.expire_all()
        assert db.session.get(Event, event.id).description_zh == "一起**清理**河道。"


def test_the_service_caps_titles_and_descriptions(app, organizer):
    with app.app_context():
        user = db.session.get(User, organizer)
        with pytest.raises(RuleError) as refused:
            ev.create_event(user, _event_input(title_zh="长" * 201,
                                               description_zh="x" * (markup.TEXT_MAX + 1),
                                               description_en="y" * (markup.TEXT_MAX + 1)))
        assert refused.value.code == "invalid"
        assert set(refused.value.fields) >= {"title_zh", "description_zh", "description_en"}
        assert _count(Event) == 0
        ev.create_event(user, _event_input(title_zh="长" * 200,
                                           description_zh="x" * markup.TEXT_MAX))


def _form(client, **changes):
    start = _start().strftime("%Y-%m-%dT%H:%M")
    return {"csrf_token": csrf_token(client, "/events/new"), "title_zh": "植树",
            "description_zh": "种树", "starts_at": start,
            "ends_at": start.replace("T09:00", "T11:00"), "place": "湘家荡",
            "district": "nanhu", "capacity": "30", **changes}


def test_the_form_refuses_a_text_too_complex_with_the_message_by_the_field(app, organizer):
    client = app.test_client()
    sign_in(client, "org@example.org")
    response = client.post("/events/new?lang=en", data=_form(client, description_en=IMAGES))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = page.split('id="description_en-error">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("This text is too complex to show. Please simplify it")
    with app.app_context():
        assert _count(Event) == 0


def test_the_form_caps_titles_and_descriptions_in_the_reader_s_language(app, organizer):
    client = app.test_client()
    sign_in(client, "org@example.org")
    response = client.post("/events/new", data=_form(
        client, title_zh="长" * 201, description_zh="x" * (markup.TEXT_MAX + 1)))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "标题最多 200 个字符。" in page and "正文太长（最多 20000 个字符）。" in page
    assert f'maxlength="{markup.TEXT_MAX}"' in client.get("/events/new").get_data(as_text=True)
    # Line breaks count once, as the browser's maxlength counts them.
    ok = client.post("/events/new", data=_form(client, description_zh="x\r\n" * 8000))
    assert ok.status_code == 302
    with app.app_context():
        assert _count(Event) == 1
        assert db.session.scalars(sa.select(Event)).one().description_zh == "x\n" * 8000


def _token(app, email):
    return app.test_cli_runner().invoke(args=["users", "token", email]).output.strip()


def _api_event(**changes):
    start = _start()
    return {"title": "湿地观鸟", "description": "带上望远镜。", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(), "place": "南北湖",
            "district": "nanhu", "capacity": 12, **changes}


def test_the_api_refuses_a_text_too_complex_and_caps_lengths(app, organizer):
    client, token = app.test_client(), _token(app, "org@example.org")
    auth = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/v1/events", json=_api_event(description=BRACKETS), headers=auth)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "markdown_too_complex"
    assert set(refused.json["error"]["fields"]) == {"description"}
    english = client.post("/api/v1/events?lang=en", headers=auth,
                          json=_api_event(description_en=EMPHASIS))
    assert english.json["error"]["fields"] == {
        "description_en": english.json["error"]["message"]}
    assert english.json["error"]["message"].startswith("This text is too complex to show.")
    too_long = client.post("/api/v1/events", headers=auth, json=_api_event(
        description="x" * (markup.TEXT_MAX + 1), title_en="t" * 201))
    assert too_long.status_code == 422 and too_long.json["error"]["code"] == "invalid"
    assert {"description", "title_en"} <= set(too_long.json["error"]["fields"])
    with app.app_context():
        assert _count(Event) == 0
    assert client.post("/api/v1/events", json=_api_event(), headers=auth).status_code == 201


def test_the_openapi_document_shows_the_caps(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    event = schemas["EventInput"]["properties"]
    assert event["description"]["anyOf"][0]["maxLength"] == markup.TEXT_MAX
    assert event["title_en"]["anyOf"][0]["maxLength"] == markup.TITLE_MAX
    activity = schemas["ActivityInput"]["properties"]
    assert activity["body"]["maxLength"] == markup.TEXT_MAX
    assert activity["title"]["maxLength"] == markup.TITLE_MAX
    create = doc["paths"]["/api/v1/events"]["post"]["responses"]["422"]["description"]
    assert "markdown_too_complex" in create


# -- pages read the stored HTML ------------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch):
    """How often Markdown is rendered (the real renderer, counted)."""
    calls = []
    for name in ("render", "render_with_toc", "render_inline", "try_render"):
        real = getattr(markup, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(markup, name, counting)
    return calls


def test_the_event_page_shows_the_stored_html_and_renders_nothing(app, organizer, counted):
    with app.app_context():
        event = ev.create_event(db.session.get(User, organizer), _event_input(),
                                publish=True).id
        with writing():
            db.session.get(Event, event).description_zh_html = "<p>STORED-MARKER</p>"
    counted.clear()
    client = app.test_client()
    page = client.get(f"/events/{event}").get_data(as_text=True)
    assert "STORED-MARKER" in page and "<strong>清理</strong>" not in page
    assert client.get("/events").status_code == 200
    assert client.get(f"/api/v1/events/{event}").status_code == 200
    assert counted == []


def test_a_row_not_rendered_yet_shows_its_text_escaped_and_search_still_works(app, organizer,
                                                                            counted):
    """A row as the migration leaves it (html_version 0) with the audit's worst text: the page
    answers at once with the text escaped, and the index (rebuild included) is built
    without rendering anything."""
    with app.app_context():
        event = ev.create_event(db.session.get(User, organizer), _event_input(),
                                publish=True).id
        with writing():
            db.session.execute(sa.update(Event).where(Event.id == event).values(
                description_zh=EMPHASIS + "\n\n<b>粗</b> **不是粗体**", description_zh_html="",
                html_version=0))
    counted.clear()
    client = app.test_client()
    started = time.monotonic()
    response = client.get(f"/events/{event}")
    assert response.status_code == 200 and time.monotonic() - started < MARGIN
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;粗&lt;/b&gt; **不是粗体**" in page and "<b>粗</b>" not in page
    rebuilt = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    run_jobs(app)
    assert counted == []
    hits = client.get("/api/v1/search?q=不是粗体").json["results"]
    assert [h["url"] for h in hits if h["kind"] == "event"] == [f"/events/{event}?lang=zh"]


# -- school posts ------------------------------------------------------------------------------

@pytest.fixture
def people(library):
    return {"teacher": make_user(library, email="teacher@example.org", name="李老师"),
            "admin": make_user(library, email="admin@example.org", role="admin"),
            "org": make_user(library, email="org2@example.org", role="organizer")}


@pytest.fixture
def school(library, people):
    with library.app_context():
        s = sc.apply_school(db.session.get(User, people["teacher"]), sc.SchoolInput(
            "南湖实验小学", "Nanhu Experimental Primary", "nanhu", "primary", "南湖路1号",
            "李老师 0573-0000000"))
        sc.verify_school(s.id, db.session.get(User, people["admin"]))
        return s.id


def _save(app, people, school_id, body, post_id=None):
    with app.app_context():
        return sc.save_activity(db.session.get(User, people["teacher"]),
                                db.session.get(School, school_id),
                                sc.ActivityInput("湿地观鸟", body, date(2026, 11, 20),
                                                 ["nature"]), post_id).id


def _publish(app, people, post_id):
    with app.app_context():
        sc.submit(db.session.get(User, people["teacher"]), post_id, True)
        sc.approve(post_id, db.session.get(User, people["org"]))
    run_jobs(app)


def test_a_post_is_rendered_when_saved_and_approval_publishes_that_html(library, people, school,
                                                                       counted):
    post = _save(library, people, school, "我们观察了**白鹭**。")
    with library.app_context():
        row = db.session.get(Activity, post)
        assert row.draft_body_html == "<p>我们观察了<strong>白鹭</strong>。</p>"
        assert row.html_version == markup.VERSION and row.body_html == ""
    _publish(library, people, post)
    with library.app_context():
        row = db.session.get(Activity, post)
        assert row.body_html == row.draft_body_html
        with writing():
            db.session.get(Activity, post).body_html = "<p>STORED-POST</p>"
    counted.clear()
    client = library.test_client()
    assert "STORED-POST" in client.get(f"/activities/{post}").get_data(as_text=True)
    assert "STORED-POST" in client.get(f"/api/v1/activities/{post}").json["html"]
    feed = client.get("/schools/nanhu-experimental-primary/feed.atom").get_data(as_text=True)
    assert "&lt;p&gt;STORED-POST&lt;/p&gt;" in feed
    assert counted == []


def test_a_post_too_complex_is_refused_by_service_form_and_api(library, people, school):
    with library.app_context(), pytest.raises(RuleError) as refused:
        sc.save_activity(db.session.get(User, people["teacher"]),
                         db.session.get(School, school),
                         sc.ActivityInput("标题", BRACKETS, date(2026, 11, 20), ["nature"]))
    assert refused.value.code == "markdown_too_complex"
    assert set(refused.value.fields) == {"body"}
    teacher = library.test_client()
    sign_in(teacher, "teacher@example.org")
    page = "/schools/nanhu-experimental-primary/activities/new"
    form = {"csrf_token": csrf_token(teacher, page), "title": "植树",
            "activity_date": "2026-03-12", "topics": ["nature"]}
    response = teacher.post(page + "?lang=en", data={**form, "body": EMPHASIS})
    assert response.status_code == 400
    assert "This text is too complex to show." in response.get_data(as_text=True)
    too_long = teacher.post(page + "?lang=zh", data={**form, "body": "x" * (markup.TEXT_MAX + 1),
                                        "title": "长" * 201})
    assert too_long.status_code == 400
    text = too_long.get_data(as_text=True)
    assert "正文太长（最多 20000 个字符）。" in text and "标题最多 200 个字符。" in text
    api = library.test_client().post(
        "/api/v1/schools/nanhu-experimental-primary/activities",
        headers={"Authorization": f"Bearer {_token(library, 'teacher@example.org')}"},
        json={"title": "植树", "body": IMAGES, "activity_date": "2026-03-12"})
    assert api.status_code == 422 and api.json["error"]["code"] == "markdown_too_complex"
    assert set(api.json["error"]["fields"]) == {"body"}
    with library.app_context():
        assert _count(Activity) == 0


# -- the library and content pages --------------------------------------------------------------

def test_articles_are_rendered_when_synced_and_pages_once_per_file_version(library, counted):
    with library.app_context():
        article = db.session.scalars(sa.select(Article).where(Article.lang == "zh")).first()
        assert article.html_version == markup.VERSION and article.html.startswith("<")
        assert article.toc == markup.render_with_toc(article.body)[1]
        with writing():
            db.session.get(Article, article.id).html = "<p>STORED-ARTICLE</p>"
        slug = article.slug
    counted.clear()
    client = library.test_client()
    assert "STORED-ARTICLE" in client.get(f"/learn/{slug}?lang=zh").get_data(as_text=True)
    assert counted == []
    client.get("/privacy?lang=zh")
    client.get("/privacy?lang=en")
    first = len(counted)
    for _ in range(3):
        assert client.get("/privacy?lang=zh").status_code == 200
        assert client.get("/privacy?lang=en").status_code == 200
    assert len(counted) == first  # rendered when read, not per view


# -- the re-render job ---------------------------------------------------------------------------

@pytest.mark.slow  # every article is indexed again
def test_a_new_renderer_version_re_renders_stored_rows_through_setup(library, people, school,
                                                                    monkeypatch):
    with library.app_context():
        org = make_user(library, email="org3@example.org", role="organizer")
        event = ev.create_event(db.session.get(User, org), _event_input(), publish=True).id
    post = _save(library, people, school, "*旧*")
    _publish(library, people, post)
    with library.app_context():
        # Rows an older renderer made: different HTML (the new one must replace it), and a
        # text it accepted that this renderer refuses (its HTML must stay).
        with writing():
            db.session.execute(sa.update(Event).where(Event.id == event).values(
                description_zh_html="<p>OLD</p>"))
            db.session.execute(sa.update(Activity).where(Activity.id == post).values(
                body=BRACKETS, draft_body=BRACKETS, body_html="<p>OLD POST</p>"))
        indexed_before = _index_jobs("event", event)
    monkeypatch.setattr(markup, "VERSION", markup.VERSION + 1)
    with library.app_context():
        articles = _count(Article)
        assert stored_html.stale_count() == 2 + articles
    result = library.test_cli_runner().invoke(args=["setup", "--no-jobs"])
    assert result.exit_code == 0, result.output
    # The articles are published revisions (issue 14): their files did not change, so the
    # sync leaves them, and the job renders them again with the event and the post.
    assert f"stored HTML: {2 + articles} row(s) to render again" in result.output
    with library.app_context():
        queued = db.session.scalars(sa.select(Job).where(
            Job.kind == stored_html.RERENDER_JOB, Job.state == PENDING)).all()
        assert len(queued) == 1
        assert stored_html.stale_count() == 2 + articles
    again = library.test_cli_runner().invoke(args=["setup", "--no-jobs"])
    with library.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == stored_html.RERENDER_JOB, Job.state == PENDING)) == 1, again.output
    run_jobs(library)
    with library.app_context():
        row = db.session.get(Event, event)
        assert row.html_version == markup.VERSION
        assert row.description_zh_html == "<p>一起<strong>清理</strong>河道。</p>"
        refused = db.session.get(Activity, post)
        assert refused.html_version == -markup.VERSION and refused.body_html == "<p>OLD POST</p>"
        jobs = db.session.scalars(sa.select(Job).where(
            Job.kind == stored_html.RERENDER_JOB)).all()
        assert {j.state for j in jobs} == {DONE}  # refused rows do not make it fail or loop
        assert stored_html.stale_count() == 0
        assert _index_jobs("event", event) == indexed_before + 1  # the index was told
    assert "<p>OLD POST</p>" in library.test_client().get(f"/activities/{post}").get_data(
        as_text=True)


def _index_jobs(kind: str, record_id: int) -> int:
    return sum(1 for job in db.session.scalars(sa.select(Job).where(Job.kind == "search.index"))
               if job.payload == {"kind": kind, "id": str(record_id)})


def test_the_job_works_in_batches_and_queues_itself_while_rows_remain(app, organizer,
                                                                    monkeypatch):
    with app.app_context():
        user = db.session.get(User, organizer)
        ids = [ev.create_event(user, _event_input(title_zh=f"活动{i}")).id for i in range(5)]
    run_jobs(app)  # the index updates of the creations
    with app.app_context():
        first_index_job = db.session.scalar(sa.select(sa.func.max(Job.id)))
        with writing():
            db.session.execute(sa.update(Event).values(html_version=0, description_zh_html=""))
        monkeypatch.setattr(stored_html, "BATCH", 2)
        stored_html.queue_if_stale()
    run_jobs(app)  # 2 + 2 + 1 rows, then each row's index update
    with app.app_context():
        rows = db.session.scalars(sa.select(Event).where(Event.id.in_(ids))).all()
        assert {r.html_version for r in rows} == {markup.VERSION}
        assert {r.description_zh_html for r in rows} == {"<p>一起<strong>清理</strong>河道。</p>"}
        rerendered = db.session.scalars(sa.select(Job.state).where(
            Job.kind == stored_html.RERENDER_JOB)).all()
        assert rerendered == [DONE] * 3
        assert sorted(j.payload["id"] for j in db.session.scalars(sa.select(Job).where(
            Job.kind == "search.index", Job.id > first_index_job))) == sorted(map(str, ids))


# -- the migration ---------------------------------------------------------------------------------

BEFORE, AFTER = "3f9d2c6a8b14", "5b7e1d2c9a30"  # 0008, 0009


@pytest.fixture
def fresh_app(tmp_path):
    url = name = None
    if PG_URL:
        name = f"portal_mig_{uuid.uuid4().hex[:12]}"
        with _pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": url, **FAST_HASHING})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if name:
        with _pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


NEW = {"events": {"description_zh_html", "description_en_html", "html_version"},
       "activities": {"body_html", "draft_body_html", "html_version"},
       "articles": {"html", "toc", "html_version"}}


def test_0009_adds_the_columns_for_existing_rows_and_downgrades(fresh_app):
    app = fresh_app
    now = datetime.now(SHANGHAI)
    with app.app_context():
        upgrade(revision=BEFORE)
        conn = db.session.connection()
        conn.execute(sa.text(
            "INSERT INTO events (title_zh, title_en, description_zh, description_en, starts_at, "
            "ends_at, signup_deadline, place, district, capacity, notes, status, created_at, "
            "updated_at, sequence) VALUES ('旧活动', '', '**旧**', '', :t, :t, :t, '南湖', "
            "'nanhu', 5, '', 'published', :t, :t, 0)"), {"t": now})
        conn.execute(sa.text(
            "INSERT INTO articles (slug, lang, title, summary, body, updated, related, "
            "observances, content_hash) VALUES ('a', 'zh', '文章', '', '正文', :d, '[]', '[]', "
            "'x')"), {"d": date(2026, 1, 1)})
        # a row that refers to the event: the downgrade must not take it with the column
        user = conn.execute(sa.text(
            "INSERT INTO users (email, display_name, password_hash, role, created_at, "
            "privacy_version, privacy_consented_at) VALUES ('a@example.org', 'A', 'x', "
            "'citizen', :t, '1', :t) RETURNING id"), {"t": now}).scalar()
        conn.execute(sa.text(
            "INSERT INTO signups (event_id, user_id, status, queued_at, created_at, updated_at) "
            "SELECT id, :u, 'confirmed', :t, :t, :t FROM events"), {"u": user, "t": now})
        db.session.commit()
        db.session.remove()
        upgrade(revision=AFTER)
        for table, columns in NEW.items():
            assert columns <= _columns(table), table
        row = db.session.execute(sa.text(
            "SELECT description_zh_html, description_en_html, html_version FROM events")).one()
        assert tuple(row) == ("", "", 0)
        article = db.session.execute(sa.text("SELECT html, toc, html_version FROM articles")
                                     ).one()
        assert article[0] == "" and article[2] == 0 and article[1] in ([], "[]")
        db.session.remove()
        downgrade(revision=BEFORE)
        for table, columns in NEW.items():
            assert not columns & _columns(table), table
        assert db.session.execute(sa.text("SELECT description_zh FROM events")).scalar() == \
            "**旧**"
        assert db.session.execute(sa.text("SELECT count(*) FROM signups")).scalar() == 1
        db.session.remove()
