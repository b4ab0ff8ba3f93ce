import re
import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from werkzeug.http import parse_cookie

from portal.accounts import services
from portal.accounts.models import LoginSession, LoginThrottle
from portal.db import utcnow
from portal.extensions import db
from portal.rules import RuleError
from tests.conftest import PASSWORD, csrf_token, make_user, sign_in

GENERIC = "电子邮箱或密码不正确。"
LOCKED = "登录失败次数过多"


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_sign_in_and_out(app, client):
    make_user(app)
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _signed_in(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert not _signed_in(client)


def test_wrong_password_and_unknown_email_get_the_same_message(app, client):
    make_user(app)
    wrong = sign_in(client, password="not the right one at all")
    unknown = sign_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)


def test_next_parameter_only_redirects_inside_the_site(app, client):
    make_user(app)
    token = csrf_token(client, "/login")
    data = {"email": "user@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login?next=/account", data=data).headers["Location"] == "/account"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        data["csrf_token"] = csrf_token(client, "/login")
        response = client.post("/login", query_string={"next": evil}, data=data)
        assert response.headers["Location"] == "/", evil
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})


def test_a_copy_of_the_session_cookie_is_useless_after_logout(app, client):
    make_user(app)
    sign_in(client)
    stolen = client.get_cookie("portal_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    thief = app.test_client()
    thief.set_cookie("portal_session", stolen)
    assert thief.get("/account").status_code == 302  # sent to the login page


def test_a_copy_of_the_remember_cookie_is_useless_after_logout(app, client):
    make_user(app)
    sign_in(client, remember=True)
    remember = client.get_cookie("portal_remember").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    thief = app.test_client()
    thief.set_cookie("portal_remember", remember)
    assert thief.get("/account").status_code == 302


def test_remember_me_lasts_at_most_14_days(app, client):
    make_user(app)
    response = sign_in(client, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("portal_remember="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header).group(1))
    assert timedelta(days=13) < expires - utcnow() <= timedelta(days=14)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    with app.app_context():
        row = db.session.query(LoginSession).one()
        assert row.remember and row.expires_at - row.created_at <= timedelta(days=14)


def test_without_remember_me_there_is_no_remember_cookie(app, client):
    make_user(app)
    response = sign_in(client)
    cookies = [parse_cookie(h) for h in response.headers.getlist("Set-Cookie")]
    assert not any("portal_remember" in c and c["portal_remember"] for c in cookies)


def test_an_expired_session_signs_nobody_in(app, client):
    make_user(app)
    sign_in(client)
    with app.app_context():
        db.session.query(LoginSession).update({"expires_at": utcnow() - timedelta(seconds=1)})
        db.session.commit()
    assert not _signed_in(client)


def test_ten_failures_lock_the_account_for_fifteen_minutes(app, client):
    make_user(app)
    for _ in range(10):
        assert GENERIC in sign_in(client, password="wrong password here").get_data(as_text=True)
    response = sign_in(client)  # the right password no longer helps
    assert response.status_code == 429
    assert LOCKED in response.get_data(as_text=True)
    assert not _signed_in(client)
    # Fifteen minutes later the account opens again.
    with app.app_context():
        row = _locked_rows()[0]  # this address's counter (the account's is far from its ceiling)
        assert timedelta(minutes=14) < row.locked_until - utcnow() <= timedelta(minutes=15)
        row.locked_until = utcnow() - timedelta(seconds=1)
        row.window_started_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    assert sign_in(client).status_code == 302
    with app.app_context():  # success forgets this address's failures
        assert [r.failures for r in db.session.query(LoginThrottle)] == [10]


def _locked_rows():
    return db.session.query(LoginThrottle).filter(LoginThrottle.locked_until.is_not(None)).all()


def test_someone_guessing_from_one_address_does_not_lock_the_owner_out(app):
    make_user(app)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(10):
        sign_in(attacker, password="wrong password here")
    assert sign_in(attacker).status_code == 429  # that address is locked, even with the password
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(owner).status_code == 302  # the owner, elsewhere, signs in


def test_guessing_spread_over_many_addresses_meets_the_account_ceiling(make_app):
    app = make_app(LOGIN_ACCOUNT_MAX_FAILURES=12)
    make_user(app)
    for i in range(12):  # two guesses from each of six addresses: no address reaches ten
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{i // 2}"
        sign_in(client, password="wrong password here")
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert sign_in(owner).status_code == 429


def test_failures_older_than_the_window_do_not_count(app, client):
    make_user(app)
    for _ in range(9):
        sign_in(client, password="wrong password here")
    with app.app_context():
        db.session.query(LoginThrottle).update(
            {"window_started_at": utcnow() - timedelta(minutes=16)})
        db.session.commit()
    sign_in(client, password="wrong password here")  # starts a new window: 1 failure
    assert sign_in(client).status_code == 302


def test_unknown_addresses_lock_the_same_way(app, client):
    for _ in range(10):
        sign_in(client, email="nobody@example.org", password="whatever it is")
    response = sign_in(client, email="nobody@example.org", password="whatever it is")
    assert response.status_code == 429 and LOCKED in response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.query(LoginThrottle).all()
        assert len(rows) == 2 and all("nobody" not in row.key for row in rows)  # keyed hashes


def test_the_counter_is_shared_between_worker_processes(make_app):
    # Two app objects with their own engines and pools over one database stand for two
    # gunicorn workers: failures seen by either count toward one lock.
    worker_a, worker_b = make_app(), make_app()
    make_user(worker_a)
    for i in range(10):
        sign_in((worker_a if i % 2 else worker_b).test_client(), password="wrong password!!")
    response = sign_in(worker_b.test_client())
    assert response.status_code == 429


def test_concurrent_failures_are_all_counted(make_app):
    """Ten failures at the same moment from several threads lock the account: none is lost."""
    apps = [make_app() for _ in range(2)]
    make_user(apps[0])
    barrier = threading.Barrier(10)
    errors = []

    def attempt(i):
        app = apps[i % 2]
        with app.app_context():
            barrier.wait()
            try:
                services.authenticate("user@example.org", "wrong password!!")
            except RuleError as err:
                if err.code != "invalid":
                    errors.append(err.code)
            except Exception as err:  # noqa: BLE001
                errors.append(repr(err))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with apps[0].app_context():
        rows = db.session.query(LoginThrottle).all()  # the address's and the account's
        assert [r.failures for r in rows] == [10, 10]
        assert len(_locked_rows()) == 1
        with pytest.raises(RuleError) as info:
            services.authenticate("user@example.org", PASSWORD)
        assert info.value.code == "locked"


def test_csrf_is_required_for_login(app, client):
    make_user(app)
    response = client.post("/login", data={"email": "user@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
