"""GET /api/v1/events comes in pages (issue 13): ``limit`` (1–100, default 50) and ``cursor``,
the next page's address in ``Link: <…>; rel="next"``; bad values are a 400 with their own
codes; the statements do not grow with the events listed (counts in one GROUP BY)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import count_request
from tests.events.test_list_pages import _events

LINK = re.compile(r'^<(/api/v1/events\?[^>]+)>; rel="next"$')


def test_events_come_in_pages_soonest_first(app):
    ids = _events(app, 57, same_start=12)
    client = app.test_client()
    first = client.get("/api/v1/events")
    assert [e["id"] for e in first.json] == ids[:50]
    path, seen = "/api/v1/events?limit=20&lang=en", []
    while path:
        answer = client.get(path)
        assert answer.status_code == 200
        seen.append([e["id"] for e in answer.json])
        link = answer.headers.get("Link")
        path = LINK.match(link).group(1) if link else None
    assert [len(p) for p in seen] == [20, 20, 17]
    assert [i for p in seen for i in p] == ids
    assert "lang=en" in client.get("/api/v1/events?limit=20&lang=en").headers["Link"]
    assert "Link" not in client.get("/api/v1/events?limit=100").headers


def test_counts_for_a_page_in_one_statement(app):
    _events(app, 2, tag="a")
    client = app.test_client()
    few, _answer = count_request(app, client, "/api/v1/events")
    _events(app, 60, tag="b")
    many, answer = count_request(app, client, "/api/v1/events")
    assert len(answer.json) == 50 and many == few <= 5
    assert all(e["seats_left"] == 10 and e["confirmed"] == 0 for e in answer.json)


@pytest.mark.parametrize(("query", "code"), [
    ("limit=0", "bad_limit"), ("limit=101", "bad_limit"), ("limit=abc", "bad_limit"),
    ("limit=-5", "bad_limit"), ("cursor=abc", "bad_cursor"), ("cursor=1.2.3", "bad_cursor"),
    ("cursor=" + "9" * 30 + ".1", "bad_cursor"), ("cursor=999999999999999999.1", "bad_cursor"),
])
def test_bad_limits_and_cursors_are_a_400_with_their_code(app, query, code):
    client = app.test_client()
    for lang, words in (("zh", "无效"), ("en", "not valid")):
        answer = client.get(f"/api/v1/events?{query}&lang={lang}")
        assert answer.status_code == 400, query
        assert answer.json["error"]["code"] == code
        assert words in answer.json["error"]["message"]


def test_the_document_describes_limit_cursor_and_the_link(app):
    from portal.api.declare import document

    with app.test_request_context():
        op = document()["paths"]["/api/v1/events"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["limit"]["schema"]["default"] == 50
    assert "cursor" in params
    assert "Link" in op["responses"]["200"]["headers"]
    assert {"bad_limit", "bad_cursor"} <= set(
        op["responses"]["400"]["content"]["application/json"]["schema"]["allOf"][1]
        ["properties"]["error"]["properties"]["code"]["enum"])
