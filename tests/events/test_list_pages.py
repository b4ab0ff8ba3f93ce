"""Event lists come in pages (issue 13, bounded lists): soonest first by (start, id), 50 a
page, links to the next page by an opaque cursor; a cursor that is not one is a clear 400
(translated), never a 5xx; the number of statements does not grow with the rows shown."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.events import services
from portal.events.models import Event, Signup
from portal.extensions import db
from portal.paging import PAGE_SIZE
from tests.conftest import make_user, sign_in, statements

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
PAGER = re.compile(r'<nav class="pager"[^>]*>(.*?)</nav>', re.S)


def _people(n: int, tag: str) -> list[int]:
    now = utcnow()
    users = [User(email=f"{tag}{i}@example.org", display_name=f"{tag}{i}", password_hash="x",
                  role="citizen", privacy_version="1", privacy_consented_at=now,
                  created_at=now) for i in range(n)]
    db.session.add_all(users)
    db.session.flush()
    return [u.id for u in users]


def _events(app, n: int, same_start: int = 0, tag: str = "e") -> list[int]:
    """``n`` published events, one an hour from tomorrow; the first ``same_start`` all at the
    same time (the id decides their order).  Made directly: this is about reading."""
    base = utcnow().replace(microsecond=0) + timedelta(days=1)
    with app.app_context(), writing():
        rows = []
        for i in range(n):
            start = base + timedelta(hours=0 if i < same_start else i)
            rows.append(Event(title_zh=f"活动{tag}{i:03d}", title_en=f"Event {i}", starts_at=start,
                              ends_at=start + timedelta(hours=2), signup_deadline=start,
                              place="南湖", district="nanhu", capacity=10, status="published"))
        db.session.add_all(rows)
        db.session.flush()
        return [e.id for e in rows]


def _walk(client, path: str, marker: re.Pattern) -> list[list[str]]:
    """Follow the "next" links from ``path``; the items of each page, by ``marker``."""
    pages = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        pages.append(marker.findall(html))
        found = NEXT.search(html)
        path = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 20
    return pages


EVENT_LINK = re.compile(r'href="/events/(\d+)"')


def test_upcoming_events_page_soonest_first_without_repeats_or_gaps(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    ids = _events(app, PAGE_SIZE * 2 + 7, same_start=PAGE_SIZE + 3)  # ties across a page end
    client = app.test_client()
    pages = _walk(client, "/events", EVENT_LINK)
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert [int(i) for p in pages for i in p] == ids  # soonest first, then by id; all once
    first = client.get("/events").get_data(as_text=True)
    assert PAGER.search(first).group(1).count("<a ") == 1  # only "next" on the first page
    second = client.get(NEXT.search(first).group(1).replace("&amp;", "&"))
    assert '<a href="/events">' in PAGER.search(second.get_data(as_text=True)).group(1)
    # The filters travel with the cursor.
    filtered = client.get("/events?district=nanhu").get_data(as_text=True)
    assert "district=nanhu" in NEXT.search(filtered).group(1)
    assert _walk(client, "/events?district=haiyan", EVENT_LINK) == [[]]


def test_upcoming_statements_do_not_grow_with_the_events_shown(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    _events(app, 3, tag="a")
    client = app.test_client()
    few, _html = statements(app, client, "/events")
    _events(app, PAGE_SIZE + 10, tag="b")
    many, html = statements(app, client, "/events")
    assert len(EVENT_LINK.findall(html)) == PAGE_SIZE
    assert many == few <= 10


@pytest.mark.parametrize("path", ["/events", "/my/events", "/my/hours"])
@pytest.mark.parametrize("cursor", ["abc", "1", "1.2.3", "1.x", "９.1", "9" * 30 + ".1", ".", "-"])
def test_a_cursor_that_is_not_one_is_a_clear_400(app, path, cursor):
    make_user(app)
    client = app.test_client()
    sign_in(client)
    response = client.get(path, query_string={"after": cursor})
    assert response.status_code == 400
    assert "页面地址无效" in response.get_data(as_text=True)
    english = client.get(path, query_string={"after": cursor, "lang": "en"})
    assert english.status_code == 400
    assert "This page address is not valid" in english.get_data(as_text=True)


def test_my_events_hours_roster_and_check_in_page_with_constant_statements(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    me = make_user(app, email="org@example.org", role="organizer")
    client = app.test_client()
    sign_in(client, "org@example.org")

    def fill(n: int, tag: str) -> tuple[list[int], int]:
        ids = _events(app, n, tag=tag)
        with app.app_context(), writing():
            people = _people(n, tag)
            now = utcnow()
            for i, event_id in enumerate(ids):
                db.session.add(Signup(event_id=event_id, user_id=me, queued_at=now,
                                      status="waitlisted" if i % 2 else "confirmed",
                                      hours=Decimal("1.5")))
                db.session.add(Signup(event_id=ids[0], user_id=people[i], status="confirmed",
                                      queued_at=now + timedelta(seconds=i)))
        return ids, ids[0]

    paths = ["/my/events", "/my/hours", "/events/{e}/roster", "/events/{e}/attendance"]
    _ids, small_event = fill(3, "s")
    few = {p: statements(app, client, p.format(e=small_event))[0] for p in paths}
    ids, big_event = fill(PAGE_SIZE + 5, "b")
    many = {}
    for p in paths:
        many[p], html = statements(app, client, p.format(e=big_event))
        assert 'rel="next"' in html, p
    assert many == few
    assert max(many.values()) <= 12
    # My hours: the page holds 50 rows, the total all of them (one SUM).
    html = client.get("/my/hours").get_data(as_text=True)
    assert html.count("<tr><td><a") == PAGE_SIZE
    total = Decimal("1.5") * (3 + PAGE_SIZE + 5)
    assert f"<td>{total.normalize():f}</td>" in html or f"<td>{total}</td>" in html
    # The pages of my coming events hold each once, soonest first.
    coming = _walk(client, "/my/events", EVENT_LINK)
    listed = [int(i) for p in coming for i in p]
    with app.app_context():
        expected = list(db.session.execute(sa.select(Event.id).join(Signup).where(
            Signup.user_id == me).order_by(Event.starts_at, Event.id)).scalars())
    assert [len(p) for p in coming] == [PAGE_SIZE, 8] and listed == expected
    # The roster: confirmed first (queue order), then the waiting list; each person once.
    names = re.compile(r"<tr><td>([^<]+)</td>")
    roster = [n for p in _walk(client, f"/events/{big_event}/roster", names) for n in p]
    assert len(roster) == len(set(roster)) == PAGE_SIZE + 5 + 1
    with app.app_context():
        expected = [s.user.display_name for s in services.roster(big_event)]
    assert roster == expected


def test_the_month_view_shows_at_most_its_cap_and_links_to_the_list(make_app, monkeypatch):
    app = make_app(PAGE_CACHE_ENABLED=False)
    monkeypatch.setattr(services, "MONTH_CAP", 5)
    ids = _events(app, 8, same_start=8)  # all tomorrow at the same hour
    with app.app_context():
        start = db.session.get(Event, ids[0]).starts_at.astimezone(services.zone())
    client = app.test_client()
    html = client.get(f"/events/calendar?year={start.year}&month={start.month}").get_data(
        as_text=True)
    assert len(set(EVENT_LINK.findall(html))) == 5
    more = re.search(r'href="(/events\?[^"]*after=[^"]+)"', html).group(1).replace("&amp;", "&")
    rest = [int(i) for i in EVENT_LINK.findall(client.get(more).get_data(as_text=True))]
    assert rest == ids[5:]
    monkeypatch.setattr(services, "MONTH_CAP", 8)  # all shown: no link to the rest
    html = client.get(f"/events/calendar?year={start.year}&month={start.month}").get_data(
        as_text=True)
    assert len(set(EVENT_LINK.findall(html))) == 8 and "after=" not in html
