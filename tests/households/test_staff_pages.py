"""The staff's household pages come in pages (issue 13, bounded lists): every household newest
first (keyset: the same cost at the millionth), filtered by district and recognition state with
the filters kept in the page links, and the applications waiting for a decision oldest first,
each with its household in the page's statement.  A cursor that is not one is a translated
400; a page costs the same number of statements whether it shows 5 rows or 50."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.households import services as hh
from portal.households.models import Application, Household
from portal.paging import PAGE_SIZE
from tests.conftest import make_user, sign_in
from tests.schools.pages import flat, section, walk

MANY = PAGE_SIZE * 2 + 5


def _households(app, n: int, district: str = "nanhu", status: str = "none",
                tag: str = "h") -> list[int]:
    now = utcnow()
    with app.app_context(), writing():
        users = [User(email=f"{tag}{i}@example.org", display_name=f"{tag}{i}",
                      password_hash="x", role="citizen", privacy_version="1",
                      privacy_consented_at=now, created_at=now) for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        homes = [Household(owner_id=u.id, name=f"{tag}户{i}", district=district, status=status,
                           invite_code=f"{tag.upper()}{i:09d}", created_at=now)
                 for i, u in enumerate(users)]
        db.session.add_all(homes)
        db.session.flush()
        return [h.id for h in homes]


@pytest.fixture
def staff(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    client = app.test_client()
    make_user(app, email="staff@example.org", role="organizer")
    sign_in(client, "staff@example.org")
    return app, client


HOUSEHOLDS = r'href="/manage/households/(\d+)"'
APPLICATIONS = r'href="/manage/applications/(\d+)"'


def _all(page: str) -> str:
    return section(page, 'id="all-title"', "</section>")


def _queue(page: str) -> str:
    return section(page, 'id="queue-title"', "</section>")


def test_every_household_newest_first_in_pages_of_the_same_cost(staff):
    app, client = staff
    ids = _households(app, MANY)
    pages, costs, links = walk(app, client, "/manage/households", HOUSEHOLDS, part=_all)
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert flat(pages) == ids[::-1]
    assert links[1] == f"/manage/households?before={ids[-PAGE_SIZE]}"
    assert len(set(costs)) == 1, costs  # 50 households or 5: the same statements
    with app.app_context():
        assert [h.id for h in hh.staff_list().items] == ids[::-1][:PAGE_SIZE]
    last = client.get(links[-1]).get_data(as_text=True)
    assert 'href="/manage/households">' in last  # back to the newest


def test_staff_filter_the_households_by_district_and_status_across_pages(staff):
    app, client = staff
    wanted = _households(app, MANY, district="xiuzhou", status="named", tag="x")
    _households(app, 6, district="xiuzhou", tag="y")  # another status
    _households(app, 6, district="nanhu", status="named", tag="z")  # another district
    pages, costs, links = walk(app, client, "/manage/households?district=xiuzhou&status=named",
                               HOUSEHOLDS, part=_all)
    assert flat(pages) == wanted[::-1]
    assert all("district=xiuzhou" in link and "status=named" in link for link in links)
    assert len(set(costs)) == 1, costs
    # Unknown filters filter nothing (they are choices on the page, not input to refuse).
    everything, _c, _l = walk(app, client, "/manage/households?district=mars&status=x",
                              HOUSEHOLDS, part=_all)
    assert len(flat(everything)) == MANY + 12
    none = client.get("/manage/households?district=nanhu&status=revoked")
    assert none.status_code == 200 and "/manage/households/" not in _all(
        none.get_data(as_text=True))


def test_applications_oldest_first_with_their_households_in_the_same_statement(staff):
    app, client = staff
    homes = _households(app, MANY, tag="a")
    with app.app_context(), writing():
        rows = [Application(household_id=h, story="我们家") for h in homes]
        db.session.add_all(rows)
        db.session.add(Application(household_id=homes[0], story="旧的", status="approved"))
        db.session.flush()
        waiting = [a.id for a in rows]
    pages, costs, links = walk(app, client, "/manage/households", APPLICATIONS, part=_queue)
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert flat(pages) == waiting  # oldest first, decided ones out
    assert links[1] == f"/manage/households?after={waiting[PAGE_SIZE - 1]}"
    assert len(set(costs)) == 1, costs  # each application's household: no query of its own
    with app.app_context():
        assert [a.id for a in hh.queue()] == waiting[:PAGE_SIZE]
    assert "a户0" in client.get("/manage/households").get_data(as_text=True)


@pytest.mark.parametrize("name", ["before", "after"])
@pytest.mark.parametrize("value", ["abc", "-1", "0", "１", "9" * 30, "1.5"])
def test_a_cursor_that_is_not_one_is_a_translated_400(staff, name, value):
    app, client = staff
    response = client.get("/manage/households", query_string={name: value, "lang": "zh"})
    if name == "after" and value in ("-1", "0"):  # an id cursor: every row after it
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert "页面地址无效" in response.get_data(as_text=True)
    english = client.get("/manage/households", query_string={name: value, "lang": "en"})
    assert english.status_code == 400
    assert "This page address is not valid" in english.get_data(as_text=True)
