"""The anonymous page cache (issue 13): pages every anonymous visitor sees alike are served from
the store until a unit of work changes a table they show; signed-in visitors, flashed messages,
form tokens and language choices are never cached; ETag/Last-Modified answer 304; the store is
in-process or Redis (shared by several app servers), and the counters in the database
invalidate every server's copy."""

from __future__ import annotations

import pytest
import redis

from portal import pagecache
from portal.extensions import db
from tests.conftest import free_port, make_user, sign_in
from tests.events.conftest import make_event

REDIS_URL = "redis://127.0.0.1:6379/14"


def _get(client, path: str, **headers):
    return client.get(path, headers=headers)


def test_an_anonymous_page_is_stored_then_served_with_validators(app):
    client = app.test_client()
    first = _get(client, "/learn")
    second = _get(client, "/learn")
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Page-Cache"] == "miss" and second.headers["X-Page-Cache"] == "hit"
    assert first.get_data() == second.get_data()
    assert first.headers["ETag"] == second.headers["ETag"]
    assert "Cookie" in second.headers["Vary"] and second.headers["Cache-Control"] == "no-cache"
    assert second.headers["Content-Type"].startswith("text/html")
    etag = second.headers["ETag"]
    assert _get(client, "/learn", **{"If-None-Match": etag}).status_code == 304
    assert _get(client, "/learn", **{"If-Modified-Since": second.headers["Last-Modified"]}
                ).status_code == 304
    assert _get(client, "/learn", **{"If-None-Match": '"other"'}).status_code == 200


def _publish_event(app, title: str) -> int:
    organizer = make_user(app, email=f"org-{title}@example.org", role="organizer")
    return make_event(app, organizer, title_zh=title)


def test_a_write_to_a_shown_table_makes_the_page_fresh(app):
    client = app.test_client()
    assert "湿地观鸟" not in _get(client, "/events").get_data(as_text=True)
    assert _get(client, "/events").headers["X-Page-Cache"] == "hit"
    _publish_event(app, "湿地观鸟")
    fresh = _get(client, "/events")
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "湿地观鸟" in fresh.get_data(as_text=True)


def test_control_without_the_counter_the_page_goes_stale(app, monkeypatch):
    """The control: when writes to the event tables raise no counter, the stored page is served
    after the change — it is the counter that keeps pages fresh, not expiry."""
    client = app.test_client()
    _get(client, "/events")
    monkeypatch.setattr(pagecache, "UNSHOWN", pagecache.UNSHOWN | {"events", "users"})
    _publish_event(app, "湿地观鸟")
    stale = _get(client, "/events")
    assert stale.headers["X-Page-Cache"] == "hit"
    assert "湿地观鸟" not in stale.get_data(as_text=True)


def test_counters_are_reused_for_a_moment_own_changes_show_at_once(make_app):
    """With PAGE_CACHE_CHECK_SECONDS, a process reads the counters about once per period: a
    change made through another server (another app on the same database) shows within the
    period, one made through this process at once; with 0 the other server's change shows at
    once too (the control)."""
    import time

    period = 1.0
    reader, writer = make_app(PAGE_CACHE_CHECK_SECONDS=period), make_app()
    client = reader.test_client()
    assert _get(client, "/events").headers["X-Page-Cache"] == "miss"
    started = time.monotonic()
    _publish_event(writer, "湿地观鸟")  # another server: this one's counters are a moment old
    held = _get(client, "/events")
    if time.monotonic() - started < period:  # (a slow machine may have passed the moment)
        assert held.headers["X-Page-Cache"] == "hit"
        assert "湿地观鸟" not in held.get_data(as_text=True)
    time.sleep(period)
    later = _get(client, "/events")
    assert later.headers["X-Page-Cache"] == "miss" and "湿地观鸟" in later.get_data(as_text=True)
    _publish_event(reader, "河道清洁")  # through this process: its counters are read again
    own = _get(client, "/events")
    assert own.headers["X-Page-Cache"] == "miss" and "河道清洁" in own.get_data(as_text=True)
    control = make_app().test_client()  # counters read for every page
    _get(control, "/events")
    _publish_event(writer, "垃圾分类")
    assert "垃圾分类" in _get(control, "/events").get_data(as_text=True)


def test_writes_to_tables_a_page_does_not_show_keep_it(app):
    client = app.test_client()
    _get(client, "/learn")
    _publish_event(app, "湿地观鸟")  # events and users: not library tables
    assert _get(client, "/learn").headers["X-Page-Cache"] == "hit"


def test_a_rolled_back_change_raises_no_counter(app):
    from portal.db import writing
    from portal.learn.models import Topic

    client = app.test_client()
    _get(client, "/learn")
    with app.app_context(), pytest.raises(RuntimeError), writing():
        db.session.add(Topic(slug="never", zh="从未", en="Never", position=99))
        db.session.flush()
        raise RuntimeError("changed my mind")
    assert _get(client, "/learn").headers["X-Page-Cache"] == "hit"


def test_signed_in_visitors_are_never_served_or_stored(app):
    user = make_user(app, locale="zh")  # (a first sign-in would record the language)
    anonymous, member = app.test_client(), app.test_client()
    sign_in(member, "user@example.org")
    _get(anonymous, "/events")
    for _ in range(2):
        response = _get(member, "/events")
        assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    assert _get(anonymous, "/events").headers["X-Page-Cache"] == "hit"
    assert user


def test_a_flashed_message_is_shown_not_a_stored_page(app):
    client = app.test_client()
    _get(client, "/")
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "已保存")]
    shown = _get(client, "/")
    assert "X-Page-Cache" not in shown.headers and "已保存" in shown.get_data(as_text=True)


def test_language_choice_and_cookie_get_their_own_copy(app):
    client = app.test_client()
    chosen = _get(client, "/learn?lang=en")
    assert "X-Page-Cache" not in chosen.headers  # it sets the language cookie
    english = _get(client, "/learn")  # the cookie now says en
    assert english.headers["X-Page-Cache"] == "miss" and 'lang="en"' in english.get_data(
        as_text=True)
    chinese = _get(app.test_client(), "/learn")
    assert chinese.headers["X-Page-Cache"] == "miss" and 'lang="zh-CN"' in chinese.get_data(
        as_text=True)


def test_no_stored_page_holds_a_form_token(library):
    """Pages that render a form token (or set a cookie) are never stored."""
    organizer = make_user(library, email="org@example.org", role="organizer")
    event = make_event(library, organizer)
    client = library.test_client()
    paths = ["/", "/privacy", "/learn", "/observances", "/events", "/events/calendar",
             f"/events/{event}", "/calendar.ics", "/dashboard", "/open-data", "/schools",
             "/households"]
    for path in paths:
        first = _get(client, path)
        assert first.status_code == 200, path
        body = first.get_data(as_text=True)
        if first.headers.get("X-Page-Cache") == "miss":
            assert 'name="csrf_token"' not in body, path
            assert _get(client, path).headers["X-Page-Cache"] == "hit", path
        else:
            assert "X-Page-Cache" not in first.headers, path


def test_off_when_disabled(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    client = app.test_client()
    for _ in range(2):
        assert "X-Page-Cache" not in _get(client, "/learn").headers


def test_the_counters_invalidate_every_server_with_its_own_store(make_app):
    """Two app servers with in-process stores: a write through one makes the other's copy
    stale too, because the counters are in the shared database."""
    first, second = make_app(), make_app()
    _get(second.test_client(), "/events")
    assert _get(second.test_client(), "/events").headers["X-Page-Cache"] == "hit"
    _publish_event(first, "湿地观鸟")
    fresh = _get(second.test_client(), "/events")
    assert fresh.headers["X-Page-Cache"] == "miss" and "湿地观鸟" in fresh.get_data(
        as_text=True)


@pytest.fixture
def redis_db():
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


def test_a_redis_store_is_shared_by_every_server(make_app, redis_db):
    first, second = make_app(PAGE_CACHE_REDIS_URL=REDIS_URL), \
        make_app(PAGE_CACHE_REDIS_URL=REDIS_URL)
    assert _get(first.test_client(), "/learn").headers["X-Page-Cache"] == "miss"
    assert redis_db.dbsize() > 0
    served = _get(second.test_client(), "/learn")  # never rendered by this server
    assert served.headers["X-Page-Cache"] == "hit" and "<html" in served.get_data(as_text=True)
    _publish_event(second, "湿地观鸟")
    assert _get(first.test_client(), "/events").headers["X-Page-Cache"] == "miss"


def test_a_store_that_is_away_is_a_miss_not_an_error(make_app):
    app = make_app(PAGE_CACHE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    app.testing = False
    for _ in range(2):
        response = _get(app.test_client(), "/learn")
        assert response.status_code == 200 and "X-Page-Cache" not in response.headers


def test_an_address_that_is_not_redis_stops_start_up(make_app):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_PAGE_CACHE_REDIS_URL"):
        make_app(PAGE_CACHE_REDIS_URL="memcached://127.0.0.1")
