"""The public wall comes in pages (issue 13, bounded lists): newest first, 50 a page, links to
older pages by cursor; a cursor that is not one is a clear 400, never a 5xx; the number of
statements does not grow with the households shown."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.households import services as hh
from portal.households.models import Household, HouseholdPledge
from portal.paging import PAGE_SIZE
from tests.conftest import statements


def _fill(app, n: int, pledges: int = 2) -> list[int]:
    """``n`` consenting households (owner each), made directly: this is about reading."""
    now = utcnow()
    with app.app_context(), writing():
        users = [User(email=f"w{i}@example.org", display_name=f"w{i}", password_hash="x",
                      role="citizen", privacy_version="1", privacy_consented_at=now,
                      created_at=now) for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        homes = [Household(owner_id=u.id, name=f"户{i:03d}家", district="nanhu",
                           show_on_wall=True, wall_consent_at=now, invite_code=f"W{i:09d}",
                           created_at=now) for i, u in enumerate(users)]
        db.session.add_all(homes)
        db.session.flush()
        db.session.add_all(HouseholdPledge(household_id=h.id, code=code, created_at=now)
                           for h in homes for code in ("sort-kitchen-waste",
                                                       "standby-power-off")[:pledges])
        return [h.id for h in homes]


def test_the_wall_pages_newest_first_with_a_bounded_number_of_statements(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)
    ids = _fill(app, PAGE_SIZE * 2 + 5)
    client = app.test_client()
    small, first = statements(app, client, "/households")
    assert first.count("<li><strong>") == PAGE_SIZE and "户** 家" in first
    assert "2 项承诺" in first
    older = f"?before={ids[-PAGE_SIZE]}"
    assert older in first.replace("&amp;", "&")
    second = client.get("/households" + older).get_data(as_text=True)
    assert second.count("<li><strong>") == PAGE_SIZE and 'href="/households"' in second
    last = client.get(f"/households?before={ids[5]}").get_data(as_text=True)
    assert last.count("<li><strong>") == 5 and 'rel="next"' not in last
    with app.app_context():
        pages = [hh.wall(), hh.wall(ids[-PAGE_SIZE]), hh.wall(ids[5])]
        shown = [[h.id for h, _n in page.items] for page in pages]
        assert [n for page in pages for _h, n in page.items] == [2] * len(ids)
    assert shown[0] == ids[::-1][:PAGE_SIZE]  # newest first
    assert shown[1] == ids[::-1][PAGE_SIZE:2 * PAGE_SIZE]
    assert shown[2] == ids[:5][::-1] and pages[2].next is None
    # Ten times as many households shown costs no more statements (no query per household).
    few = make_app(PAGE_CACHE_ENABLED=False)
    with few.app_context():
        db.session.execute(sa.delete(HouseholdPledge))
        db.session.execute(sa.delete(Household).where(Household.id.not_in(ids[-5:])))
        db.session.commit()
    fewer, _html = statements(few, few.test_client(), "/households")
    assert small <= fewer


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "1e5", "９", "9" * 30, "1.5"])
def test_a_cursor_that_is_not_one_is_a_clear_400(app, cursor):
    response = app.test_client().get("/households", query_string={"before": cursor})
    assert response.status_code == 400
    assert "页面地址无效" in response.get_data(as_text=True)
