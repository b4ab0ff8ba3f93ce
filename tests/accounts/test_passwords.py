import re
from datetime import timedelta

from portal.accounts.models import PasswordReset, User
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_token, make_user, outbox, sign_in

NEW = "a new and much longer secret"


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_change_password_signs_out_other_sessions_but_not_this_one(app):
    make_user(app)
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone)
    sign_in(laptop, remember=True)
    response = phone.post("/account/password", data={
        "current": PASSWORD, "password": NEW,
        "csrf_token": csrf_token(phone, "/account/password")})
    assert response.status_code == 302
    assert _signed_in(phone)
    assert not _signed_in(laptop)
    fresh = app.test_client()
    assert sign_in(fresh, password=PASSWORD).status_code == 401
    assert sign_in(fresh, password=NEW).status_code == 302


def test_change_password_needs_the_current_one_and_a_strong_new_one(app, client):
    make_user(app)
    sign_in(client)
    token = csrf_token(client, "/account/password")
    wrong = client.post("/account/password", data={
        "current": "not my password at all", "password": NEW, "csrf_token": token})
    assert wrong.status_code == 400 and "当前密码不正确。" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={
        "current": PASSWORD, "password": "short", "csrf_token": token})
    assert weak.status_code == 400 and "至少使用 12 个字符。" in weak.get_data(as_text=True)
    assert sign_in(app.test_client()).status_code == 302  # unchanged


def _reset_link(app) -> str:
    [message] = outbox(app)[-1:]
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(?::\d+)?(/password/reset/\S+)", body).group(1)


def test_reset_link_by_mail_is_single_use(app, client):
    make_user(app, locale="en")
    other_device = app.test_client()
    sign_in(other_device)
    response = client.post("/password/forgot", data={
        "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    assert response.status_code == 200
    [message] = outbox(app)
    assert message["To"] == "user@example.org"
    assert message["Subject"] == "Reset your Green Jiaxing password"  # the user's language
    link = _reset_link(app)
    response = client.post(link, data={"password": NEW, "csrf_token": csrf_token(client, link)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sign_in(app.test_client(), password=NEW).status_code == 302
    assert not _signed_in(other_device)  # a reset signs out every session
    again = client.get(link)
    assert again.status_code == 400 and "该链接无效或已过期" in again.get_data(as_text=True)


def test_reset_link_expires(app, client):
    make_user(app)
    client.post("/password/forgot", data={
        "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    link = _reset_link(app)
    with app.app_context():
        db.session.query(PasswordReset).update({"expires_at": utcnow() - timedelta(seconds=1)})
        db.session.commit()
    assert client.get(link).status_code == 400
    response = client.post(link, data={"password": NEW, "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 400
    assert sign_in(app.test_client()).status_code == 302  # old password still works


def test_reset_request_says_the_same_for_unknown_addresses(app, client):
    make_user(app)
    known = client.post("/password/forgot", data={
        "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    unknown = client.post("/password/forgot", data={
        "email": "nobody@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    assert known.status_code == unknown.status_code == 200

    def main(r):
        html = r.get_data(as_text=True)
        return html[html.index("<main"):html.index("</main>")]

    assert main(known) == main(unknown)
    assert len(outbox(app)) == 1


def test_a_new_reset_request_replaces_the_old_link(app, client):
    make_user(app)
    for _ in range(2):
        client.post("/password/forgot", data={
            "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
        outbox(app)  # the worker sends each mail
    first, second = outbox(app)
    link_one = re.search(r"(/password/reset/\S+)", first.get_body().get_content()).group(1)
    assert client.get(link_one).status_code == 400
    assert client.get(_reset_link(app)).status_code == 200


def test_mail_failure_does_not_break_the_request(app, client, monkeypatch):
    from portal import mail

    make_user(app)

    def broken(_msg):
        raise OSError("disk full")

    monkeypatch.setattr(mail, "_write_outbox", broken)
    response = client.post("/password/forgot", data={
        "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    assert response.status_code == 200
    assert outbox(app) == []  # the worker tried and failed
    with app.app_context():
        assert db.session.query(PasswordReset).count() == 1  # the saved record stays
    monkeypatch.undo()
    assert app.test_cli_runner().invoke(args=["jobs", "retry"]).exit_code == 0
    [message] = outbox(app)  # the mail was not lost
    assert "/password/reset/" in message.get_body(("plain",)).get_content()


def test_production_hashing_is_argon2id_with_strong_parameters(make_app):
    from argon2 import extract_parameters

    from portal.accounts import services

    app = make_app(ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536, ARGON2_PARALLELISM=4)
    with app.app_context():
        hashed = services.hash_password(PASSWORD)
    params = extract_parameters(hashed)
    assert hashed.startswith("$argon2id$")
    assert params.time_cost >= 3 and params.memory_cost >= 65536


def test_weaker_stored_hashes_are_upgraded_on_sign_in(make_app):
    from argon2 import extract_parameters

    weak = make_app()
    make_user(weak)
    strong = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=16384)
    assert sign_in(strong.test_client()).status_code == 302
    with strong.app_context():
        assert extract_parameters(db.session.query(User).one().password_hash).time_cost == 2
