"""Issue 14, people: the administrators' pages /manage/people (find, page) and
/manage/people/<id> (role, suspension with a confirmation page, restore, reset link)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.extensions import db
from portal.jobs.models import Job
from tests.conftest import csrf_token, make_user, sign_in


@pytest.fixture
def site(app):
    ids = {"admin": make_user(app, email="admin@example.org", role="admin", name="王敏"),
           "organizer": make_user(app, email="org@example.org", role="organizer", name="李强"),
           "citizen": make_user(app, email="zhang@example.org", name="张伟")}
    admin = app.test_client()
    assert sign_in(admin, "admin@example.org").status_code == 302
    return ids, admin


def _user(app, uid) -> User:
    with app.app_context():
        user = db.session.get(User, uid)
        db.session.expunge(user)
        return user


@pytest.mark.parametrize("who", ["org@example.org", "zhang@example.org"])
def test_only_administrators_open_the_people_pages(app, site, who):
    ids, _admin = site
    client = app.test_client()
    sign_in(client, who)
    assert client.get("/manage/people").status_code == 403
    assert client.get(f"/manage/people/{ids['citizen']}").status_code == 403
    token = csrf_token(client, "/account")
    refused = client.post(f"/manage/people/{ids['citizen']}/role",
                          data={"csrf_token": token, "role-role": "admin"})
    assert refused.status_code == 403
    assert _user(app, ids["citizen"]).role == "citizen"
    assert app.test_client().get("/manage/people").status_code == 302  # sign in first


def test_the_list_finds_and_shows_people_without_secrets(app, site):
    ids, admin = site
    page = admin.get("/manage/people?lang=en").get_data(as_text=True)
    assert "Newest accounts" in page and "zhang@example.org" in page and "Citizen" in page
    found = admin.get("/manage/people?q=ZHANG&lang=en").get_data(as_text=True)
    assert "zhang@example.org" in found and "org@example.org" not in found
    assert "never" in found  # not signed in yet
    listed = admin.get("/manage/people?q=admin@&lang=en").get_data(as_text=True)
    assert "Beijing time" in listed  # the admin's own sign-in
    detail = admin.get(f"/manage/people/{ids['citizen']}?lang=en")
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "no-store"
    html = detail.get_data(as_text=True)
    assert "argon2" not in html and "$" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert admin.get("/manage/people/999999").status_code == 404
    assert admin.get("/manage/people?after=not-a-cursor").status_code == 400


def test_the_list_comes_in_pages(app, site):
    _ids, admin = site
    for i in range(52):
        make_user(app, email=f"p{i:02d}@example.org", name=f"Person {i:02d}")
    first = admin.get("/manage/people?q=person&lang=en").get_data(as_text=True)
    assert first.count('class="card person-card"') == 50 and 'rel="next"' in first
    link = first.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = admin.get(link).get_data(as_text=True)
    assert second.count('class="card person-card"') == 2 and "Person 51" in second


def test_an_admin_changes_a_role_in_the_browser(app, site):
    ids, admin = site
    token = csrf_token(admin, f"/manage/people/{ids['citizen']}")
    done = admin.post(f"/manage/people/{ids['citizen']}/role?lang=en",
                      data={"csrf_token": token, "role-role": "editor", "role-reason": "hired"})
    assert done.status_code == 302
    assert _user(app, ids["citizen"]).role == "editor"
    own = admin.post(f"/manage/people/{ids['admin']}/role?lang=en",
                     data={"csrf_token": token, "role-role": "citizen"})
    assert own.status_code == 409 and "your own administrator role" in own.get_data(as_text=True)
    assert _user(app, ids["admin"]).role == "admin"
    bad = admin.post(f"/manage/people/{ids['citizen']}/role",
                     data={"csrf_token": token, "role-role": "king"})
    assert bad.status_code == 400


def test_suspending_asks_for_a_reason_and_a_confirmation(app, site):
    ids, admin = site
    victim = app.test_client()
    sign_in(victim, "zhang@example.org")
    token = csrf_token(admin, f"/manage/people/{ids['citizen']}")
    url = f"/manage/people/{ids['citizen']}/suspend?lang=en"
    missing = admin.post(url, data={"csrf_token": token, "suspend-reason": " "})
    assert missing.status_code == 400 and "Please give a reason" in missing.get_data(as_text=True)
    asked = admin.post(url, data={"csrf_token": token, "suspend-reason": "spam"})
    assert asked.status_code == 200 and "Yes, suspend the account" in asked.get_data(as_text=True)
    assert not _user(app, ids["citizen"]).suspended  # nothing done before the confirmation
    assert victim.get("/account").status_code == 200
    done = admin.post(url, data={"csrf_token": token, "suspend-reason": "spam",
                                 "suspend-confirm": "yes"})
    assert done.status_code == 302
    user = _user(app, ids["citizen"])
    assert user.suspended and user.suspended_reason == "spam"
    assert victim.get("/account").status_code == 302
    page = admin.get(f"/manage/people/{ids['citizen']}?lang=en").get_data(as_text=True)
    assert "Suspended" in page and "Restore the account" in page
    listed = admin.get("/manage/people?lang=en").get_data(as_text=True)
    assert "badge-warn" in listed
    restored = admin.post(f"/manage/people/{ids['citizen']}/restore",
                          data={"csrf_token": token, "restore-reason": "sorted out"})
    assert restored.status_code == 302 and not _user(app, ids["citizen"]).suspended
    yourself = admin.post(f"/manage/people/{ids['admin']}/suspend?lang=en", data={
        "csrf_token": token, "suspend-reason": "x", "suspend-confirm": "yes"})
    assert yourself.status_code == 409 and not _user(app, ids["admin"]).suspended


def test_an_admin_has_a_reset_link_mailed(app, site):
    ids, admin = site
    token = csrf_token(admin, f"/manage/people/{ids['citizen']}")
    sent = admin.post(f"/manage/people/{ids['citizen']}/reset?lang=en",
                      data={"csrf_token": token}, follow_redirects=True)
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200 and "is being mailed to zhang@example.org" in html
    assert "/password/reset/" not in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == "accounts.reset_mail")) == 1
