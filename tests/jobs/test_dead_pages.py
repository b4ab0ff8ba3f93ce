"""The dead jobs' page is bounded (issue 13): 50 a page by number, every dead job once, and a
page number that is not one is a translated 400, never a 5xx or a silent first page."""

from __future__ import annotations

import re

import pytest

from portal.db import utcnow, writing
from portal.extensions import db
from portal.jobs.models import DEAD, Job
from tests.conftest import make_user, sign_in
from tests.schools.pages import statements


@pytest.fixture
def admin(app):
    make_user(app, email="admin@example.org", role="admin")
    client = app.test_client()
    sign_in(client, "admin@example.org")
    return client


def test_dead_jobs_come_fifty_a_page_each_once(app, admin):
    now = utcnow()
    with app.app_context(), writing():
        jobs = [Job(kind="events.mail", payload={}, state=DEAD, attempts=5, due_at=now,
                    finished_at=now, last_error=f"boom {i}") for i in range(105)]
        db.session.add_all(jobs)
        db.session.flush()
        ids = [j.id for j in jobs]
    seen, costs = [], []
    for number in (1, 2, 3):
        cost, page = statements(app, admin, f"/manage/jobs?page={number}")
        seen += [int(n) for n in re.findall(r'name="job" value="(\d+)"', page)]
        costs.append(cost)
    assert sorted(seen) == ids and len(seen) == len(set(seen))
    assert seen[:50] == ids[::-1][:50]  # the same finishing time: newest first by id
    assert len(set(costs)) == 1, costs


@pytest.mark.parametrize("value", ["abc", "0", "-1", "１", "9" * 30, "1.5"])
def test_a_page_number_that_is_not_one_is_a_translated_400(app, admin, value):
    response = admin.get("/manage/jobs", query_string={"page": value, "lang": "zh"})
    assert response.status_code == 400
    assert "页面地址无效" in response.get_data(as_text=True)
    english = admin.get("/manage/jobs", query_string={"page": value, "lang": "en"})
    assert english.status_code == 400
    assert "This page address is not valid" in english.get_data(as_text=True)
