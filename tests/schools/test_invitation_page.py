"""Issue 12: the page of an expired (or someone else's) editor invitation says so clearly and
offers no "Accept" button; a valid one names the school and has the button."""

import re
from datetime import timedelta

import pytest

from portal.accounts.models import User
from portal.db import writing
from portal.extensions import db
from portal.schools import services as sc
from portal.schools.models import EditorInvite, School
from tests.conftest import make_user, outbox, sign_in

ACCEPT = re.compile(r'<button type="submit"[^>]*>\s*(接受|Accept)\s*</button>')


@pytest.fixture
def invited(library):
    teacher = make_user(library, email="teacher@example.org")
    admin = make_user(library, email="admin@example.org", role="admin")
    make_user(library, email="invited@example.org")
    make_user(library, email="someone@example.org")
    with library.app_context():
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "", "李老师"))
        sc.verify_school(school.id, db.session.get(User, admin))
        sc.invite_editor(db.session.get(School, school.id), db.session.get(User, teacher),
                         "invited@example.org")
    [mail] = [m for m in outbox(library) if m["To"] == "invited@example.org"]
    return re.search(r"https?://[^/\s]+(/schools/invites/\S+)",
                     mail.get_body().get_content()).group(1)


def _page(library, link, email):
    client = library.test_client()
    sign_in(client, email)
    return client.get(link + "?lang=en")


def test_a_valid_invitation_names_the_school_and_has_the_button(library, invited):
    page = _page(library, invited, "invited@example.org")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ACCEPT.search(html) and "南湖实验小学" in html


def test_an_expired_invitation_shows_why_and_no_button(library, invited):
    with library.app_context(), writing():
        invite = db.session.query(EditorInvite).one()
        invite.created_at -= timedelta(days=7, seconds=1)
    page = _page(library, invited, "invited@example.org")
    html = page.get_data(as_text=True)
    assert page.status_code == 410
    assert "This invitation has expired. Ask an editor of the school to invite you again." in html
    assert not ACCEPT.search(html) and f'action="{invited}"' not in html


def test_someone_elses_invitation_shows_why_and_no_button(library, invited):
    page = _page(library, invited, "someone@example.org")
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "This invitation is not valid for your account." in html
    assert not ACCEPT.search(html) and f'action="{invited}"' not in html
