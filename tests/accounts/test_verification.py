"""Issue 12, items 5 and 11: registration answers the same whether or not the address has an
account (a job decides what to mail), the mailed link confirms the address once and expires,
unverified accounts can manage their own data but not report, sign up or publish, and the
other ways an address is proven (staff creating the account, a password reset, an editor
invitation) verify it too."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from portal.accounts import services as accounts
from portal.accounts.models import EmailVerification, User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.jobs.models import Job
from portal.schools import services as sc
from portal.schools.models import School
from tests.conftest import PASSWORD, csrf_token, make_user, outbox, run_jobs, sign_in
from tests.events.conftest import make_event

NEW, KNOWN = "new.person@example.org", "known.person@example.org"
LINK = re.compile(r"http://localhost(?::\d+)?(/verify/\S+)")
UNVERIFIED = ("Please confirm your e-mail address first: open the link we mailed you, or ask "
              "for a new one on your account page.")


def _in(app, locale: str, msgid: str) -> str:
    """``msgid`` as the application translates it into ``locale`` (its catalog)."""
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid)


def _register(client, email, lang=None, **fields):
    data = {"email": email, "display_name": "王小明", "password": PASSWORD, "consent": "y",
            "csrf_token": csrf_token(client, "/register"), **fields}
    return client.post("/register" + (f"?lang={lang}" if lang else ""), data=data)


def _user(email) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _mails_to(app, email):
    return [m for m in outbox(app) if m["To"] == email]


def _link(app, email) -> str:
    body = _mails_to(app, email)[-1].get_body(("plain",)).get_content()
    return LINK.search(body).group(1)


def _page_without_secrets(html: str, email: str) -> str:
    html = re.sub(r'name="csrf_token"[^>]*value="[^"]+"|value="[^"]+"[^>]*name="csrf_token"',
                  "CSRF", html)
    return html.replace(email, "EMAIL")


# -- registration reveals nothing --------------------------------------------------------------

def test_registration_answers_the_same_for_a_new_and_an_existing_address(app):
    make_user(app, email=KNOWN, name="老会员")
    answers = []
    for email in (NEW, KNOWN):
        client = app.test_client()
        with app.app_context():
            users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        response = _register(client, email)
        page = client.get(response.location)
        answers.append((response.status_code, response.location, page.status_code,
                        _page_without_secrets(page.get_data(as_text=True), email),
                        client.get("/account").status_code))
        with app.app_context():  # the same work: one job naming the address, nothing else
            assert [j.kind for j in db.session.scalars(sa.select(Job).where(
                Job.state == "pending"))] == ["accounts.register"]
            assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users
        run_jobs(app)
    assert answers[0] == answers[1]
    status, location, page_status, page, account = answers[0]
    assert (status, page_status, account) == (302, 200, 302)  # nobody is signed in
    assert location.endswith("/register/sent")
    assert "EMAIL" in page  # the flash names the address typed, the same words for both

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
        new, known = _user(NEW), _user(KNOWN)
        assert new.email_verified_at is None and new.display_name == "王小明"
        assert known.display_name == "老会员" and known.email_verified_at is not None
        assert accounts.authenticate(KNOWN, PASSWORD)  # the owner's password is unchanged
        # the register jobs forgot what they held (the password's hash, the address)
        assert [j.payload for j in db.session.scalars(sa.select(Job).where(
            Job.kind == "accounts.register"))] == [{}, {}]
    [to_new] = _mails_to(app, NEW)
    assert LINK.search(to_new.get_body(("plain",)).get_content())
    [to_known] = _mails_to(app, KNOWN)
    text = to_known.get_body(("plain",)).get_content()
    assert not LINK.search(text)
    assert re.search(r"http://localhost(:\d+)?/login\b", text)
    assert re.search(r"http://localhost(:\d+)?/password/forgot\b", text)
    assert "老会员" in text


def test_form_errors_are_answered_as_before_and_queue_nothing(app, client):
    make_user(app, email=KNOWN)
    weak = _register(client, KNOWN, password="short")
    assert weak.status_code == 400 and "至少使用 12 个字符。" in weak.get_data(as_text=True)
    no_consent = _register(client, NEW, consent=None)
    assert no_consent.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_registration_mails_to_one_address_are_capped_with_the_same_answer(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RESET_MAIL="2 per hour")
    for i in range(4):
        client = app.test_client()
        response = client.post("/register", data={
            "email": KNOWN, "display_name": "王", "password": PASSWORD, "consent": "y",
            "csrf_token": csrf_token(client, "/register")},
            environ_base={"REMOTE_ADDR": f"10.0.3.{i}"})
        assert response.status_code == 302 and response.location.endswith("/register/sent")
    run_jobs(app)
    assert len(_mails_to(app, KNOWN)) == 2


# -- the link ----------------------------------------------------------------------------------

def test_the_link_needs_the_password_confirms_once_and_signs_in(app):
    _register(app.test_client(), NEW)
    link = _link(app, NEW)
    client = app.test_client()
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="password"' in html and NEW in html
    with app.app_context():  # opening the page (as a mail scanner does) confirms nothing
        assert _user(NEW).email_verified_at is None
    # The link alone is not enough (someone who registered another person's address must
    # not get it confirmed by the owner opening the mail).
    token = csrf_token(client, link)
    refused = client.post(link, data={"csrf_token": token, "password": ""})
    assert refused.status_code == 401 and "密码不正确" in refused.get_data(as_text=True)
    wrong = client.post(link, data={"csrf_token": token, "password": "not the password!"})
    assert wrong.status_code == 401
    with app.app_context():
        assert _user(NEW).email_verified_at is None
    done = client.post(link, data={"csrf_token": token, "password": PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/account")
    account = client.get("/account").get_data(as_text=True)  # signed in
    assert NEW in account and 'id="verify-notice"' not in account
    with app.app_context():
        assert _user(NEW).email_verified_at is not None
        row = db.session.scalars(sa.select(EmailVerification)).one()
        assert row.used_at is not None and len(row.token_hash) == 64
        assert link.rsplit("/", 1)[1] not in row.token_hash  # only the hash is kept
    again = app.test_client().get(link + "?lang=en")  # once only
    assert again.status_code == 404
    assert "has already been used" in again.get_data(as_text=True)
    assert client.post(link, data={"csrf_token": csrf_token(client, "/account"),
                                   "password": PASSWORD}).status_code == 404


def test_signed_in_as_the_account_the_button_is_enough(app):
    _register(app.test_client(), NEW)
    link = _link(app, NEW)
    client = app.test_client()
    sign_in(client, NEW)
    html = client.get(link).get_data(as_text=True)
    assert 'name="password"' not in html
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.status_code == 302
    with app.app_context():
        assert _user(NEW).email_verified_at is not None


def test_the_link_expires(app):
    _register(app.test_client(), NEW)
    link = _link(app, NEW)
    with app.app_context(), writing():
        row = db.session.scalars(sa.select(EmailVerification)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    client = app.test_client()
    response = client.get(link + "?lang=en")
    assert response.status_code == 404
    assert "invalid, has expired or has already been used" in response.get_data(as_text=True)
    with app.app_context():
        assert _user(NEW).email_verified_at is None


def test_an_unverified_person_can_ask_for_a_new_link_which_replaces_the_old(app):
    _register(app.test_client(), NEW)
    first = _link(app, NEW)
    client = app.test_client()
    sign_in(client, NEW)
    account = client.get("/account").get_data(as_text=True)
    assert 'id="verify-notice"' in account and 'action="/account/verify"' in account
    response = client.post("/account/verify", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    second = _link(app, NEW)
    assert second != first and len(_mails_to(app, NEW)) == 2
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_asking_for_links_again_is_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RESET_MAIL="2 per hour")
    make_user(app, email=NEW, verified=False)
    client = app.test_client()
    sign_in(client, NEW, lang="en")
    for _ in range(3):
        client.post("/account/verify", data={"csrf_token": csrf_token(client, "/account")})
    html = client.get("/account").get_data(as_text=True)
    assert "You have asked for several links in a short time" in html
    run_jobs(app)
    assert len(_mails_to(app, NEW)) == 2


# -- what unverified accounts can and cannot do ------------------------------------------------

@pytest.fixture
def newcomer(library):
    uid = make_user(library, email=NEW, verified=False)
    organizer = make_user(library, email="org@example.org", role="organizer")
    teacher = make_user(library, email="teacher@example.org")
    event = make_event(library, organizer, capacity=5)
    with library.app_context():
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, db.session.get(User, organizer))
        post = sc.save_activity(db.session.get(User, teacher), school, sc.ActivityInput(
            "植树", "种了十棵树。", date(2026, 3, 12), ["nature"]))
        sc.submit(db.session.get(User, teacher), post.id, True)
        sc.approve(post.id, db.session.get(User, organizer))
        # the newcomer is made an editor of the school too (say, by staff's CSV import)
        sc._make_editor(db.session.get(School, school.id), db.session.get(User, uid))
        db.session.commit()
        return {"uid": uid, "event": event, "post": post.id, "slug": school.slug}


def test_unverified_accounts_cannot_report_sign_up_or_publish(library, newcomer):
    client = library.test_client()
    sign_in(client, NEW)
    event, post = newcomer["event"], newcomer["post"]
    signup = client.post(f"/events/{event}/signup",
                         data={"csrf_token": csrf_token(client, f"/events/{event}")})
    assert signup.status_code == 302
    assert _in(library, "zh", UNVERIFIED) in client.get(signup.location).get_data(as_text=True)
    report = client.post(f"/activities/{post}/report", data={
        "reason": "不实", "csrf_token": csrf_token(client, f"/activities/{post}")})
    assert report.status_code == 302
    assert _in(library, "zh", UNVERIFIED) in client.get(report.location).get_data(as_text=True)
    form = client.get(f"/schools/{newcomer['slug']}/activities/new?lang=en")
    assert form.status_code == 200
    with library.app_context():
        user = db.session.get(User, newcomer["uid"])
        for attempt in (lambda: sc.report(user, post, "不实"),
                        lambda: sc.submit(user, post, True),
                        lambda: sc.save_activity(user, db.session.get(School, 1),
                                                 sc.ActivityInput("t", "b", date(2026, 1, 1)))):
            with pytest.raises(Exception) as refused:
                attempt()
            assert getattr(refused.value, "code", None) == "unverified"
            assert refused.value.status == 403
        assert db.session.execute(sa.text("SELECT count(*) FROM signups")).scalar() == 0
        assert db.session.execute(sa.text("SELECT count(*) FROM activity_reports")).scalar() == 0
        token = accounts.create_api_token(user, "t")[1]
    api = library.test_client()
    answer = api.post(f"/api/v1/events/{event}/signup?lang=en",
                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "unverified"
    assert answer.json["error"]["message"] == UNVERIFIED
    posted = api.post(f"/api/v1/schools/{newcomer['slug']}/activities",
                      headers={"Authorization": f"Bearer {token}"},
                      json={"title": "新闻", "body": "正文", "activity_date": "2026-03-12"})
    assert posted.status_code == 403 and posted.json["error"]["code"] == "unverified"


def test_unverified_accounts_manage_their_own_data(library, newcomer):
    client = library.test_client()
    sign_in(client, NEW)
    assert client.get("/account").status_code == 200
    assert client.get("/account/data").status_code == 200
    assert client.get("/account/data.json").json["account"]["email_verified_at"] is None
    assert client.get("/my/events").status_code == 200
    assert client.post("/account/delete", data={
        "password": PASSWORD, "csrf_token": csrf_token(client, "/account/delete")}
    ).status_code == 302
    with library.app_context():
        assert _user(NEW) is None


# -- other proofs of the address ---------------------------------------------------------------

def test_accounts_made_with_flask_users_create_are_verified(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "staff@example.org",
                                                "--role", "organizer", "--password-stdin"],
                                          input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _user("staff@example.org").email_verified_at is not None


def test_a_password_reset_from_the_mail_verifies_the_address(app):
    make_user(app, email=NEW, verified=False)
    client = app.test_client()
    client.post("/password/forgot", data={
        "email": NEW, "csrf_token": csrf_token(client, "/password/forgot")})
    body = _mails_to(app, NEW)[-1].get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(?::\d+)?(/password/reset/\S+)", body).group(1)
    response = client.post(link, data={"password": "a brand new long secret",
                                       "csrf_token": csrf_token(client, link)})
    assert response.status_code == 302
    with app.app_context():
        assert _user(NEW).email_verified_at is not None


def test_accepting_an_editor_invitation_from_the_mail_verifies_the_address(library):
    teacher = make_user(library, email="teacher@example.org")
    admin = make_user(library, email="admin@example.org", role="admin")
    make_user(library, email=NEW, verified=False)
    with library.app_context():
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖小学", "", "nanhu", "primary", "", "李老师"))
        sc.verify_school(school.id, db.session.get(User, admin))
        sc.invite_editor(db.session.get(School, school.id), db.session.get(User, teacher), NEW)
    body = _mails_to(library, NEW)[-1].get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(?::\d+)?(/schools/invites/\S+)", body).group(1)
    client = library.test_client()
    sign_in(client, NEW)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 302
    with library.app_context():
        assert _user(NEW).email_verified_at is not None
