"""Page cursors hold only numbers a database integer can (issue 13): a cursor with an id past
PostgreSQL's ``integer`` is a translated 400 like any other bad cursor, never a 5xx (the
schemathesis run found ``GET /api/v1/events?cursor=…`` overflowing on PostgreSQL)."""

from __future__ import annotations

import pytest

TOO_BIG = str(2**31)  # one past PostgreSQL's integer
LAST = str(2**31 - 1)


@pytest.mark.parametrize("path", [
    f"/households?before={TOO_BIG}",
    "/households?before=99999999999",
    f"/events?after=1780650000000000.{TOO_BIG}",
    f"/events?after=1780650000000000.-{TOO_BIG}1",
    f"/api/v1/events?cursor=1780650000000000.{TOO_BIG}",
])
def test_a_cursor_past_a_database_integer_is_a_translated_400(app, path):
    client = app.test_client()
    response = client.get(path, headers={"Accept-Language": "zh"})
    assert response.status_code == 400, (path, response.status_code)
    if not path.startswith("/api/"):
        assert "页面地址无效" in response.get_data(as_text=True)
    english = client.get(path + "&lang=en")
    assert english.status_code == 400


@pytest.mark.parametrize("path", [f"/households?before={LAST}",
                                  f"/events?after=1780650000000000.{LAST}",
                                  f"/api/v1/events?cursor=1780650000000000.{LAST}"])
def test_the_largest_integer_is_still_a_cursor(app, path):
    assert app.test_client().get(path).status_code == 200, path
