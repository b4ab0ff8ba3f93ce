"""Rate limits (issue 12, item 4): each limit refuses past its count with 429, ``Retry-After``
and a translated message; reset mails are capped per target address without the answer
changing; in-memory counts are per app (per process), Redis counts are shared by every app
(worker) using the same server; the API's 429 is its JSON error."""

from __future__ import annotations

import pytest
import redis

from portal.extensions import db
from portal.jobs.models import Job
from tests.conftest import PASSWORD, csrf_token, make_user, sign_in

ZH = "请求过于频繁，请稍候再试。"
EN = "Too many requests. Please wait a moment and try again."
REDIS_URL = "redis://127.0.0.1:6379/15"


def _limited(make_app, **limits):
    return make_app(RATELIMIT_ENABLED=True, **limits)


def _refused(response, lang: str = "zh") -> None:
    assert response.status_code == 429, response.status_code
    assert 0 < int(response.headers["Retry-After"]) <= 86400
    text = response.get_data(as_text=True)
    assert (ZH if lang == "zh" else EN) in text


def _post(client, path: str, data: dict, form: str | None = None, address="10.0.0.1",
          lang: str | None = None):
    data = {**data, "csrf_token": csrf_token(client, form or path)}
    return client.post(path + (f"?lang={lang}" if lang else ""), data=data,
                       environ_base={"REMOTE_ADDR": address})


WRONG = "wrong password!!"  # noqa: S105 (a test value)


def _login(email: str, password: str = WRONG) -> dict:
    return {"email": email, "password": password}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_in_is_limited_per_client_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_LOGIN="3 per hour")
    client = app.test_client()
    for i in range(3):  # different accounts, one address
        assert _post(client, "/login", _login(f"u{i}@example.org")).status_code == 401
    _refused(_post(client, "/login", _login("u9@example.org"), lang=lang), lang)
    # another address is not affected
    assert _post(client, "/login", _login("u9@example.org"), address="10.0.0.2").status_code \
        == 401


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_in_is_limited_per_target_account_whatever_the_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_LOGIN_ACCOUNT="3 per hour")
    make_user(app, email="user@example.org")
    client = app.test_client()
    for i in range(3):  # one account, different addresses
        response = _post(client, "/login", _login(" User@example.org"), address=f"10.0.1.{i}")
        assert response.status_code == 401
    _refused(_post(client, "/login", _login("user@example.org", PASSWORD),
                   address="10.0.1.9", lang=lang), lang)
    # another account from the same address is not affected
    assert _post(client, "/login", _login("other@example.org"), address="10.0.1.9"
                 ).status_code == 401


def test_the_limit_counts_only_posts(make_app):
    app = _limited(make_app, RATELIMIT_LOGIN="1 per hour")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/login").status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_registration_is_limited_per_client_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_REGISTER="2 per hour")
    client = app.test_client()

    def register(i, lang=None):
        return _post(client, "/register", {
            "email": f"new{i}@example.org", "display_name": f"新用户{i}", "password": PASSWORD,
            "confirm": PASSWORD, "consent": "y"}, lang=lang)

    for i in range(2):  # registering signs nobody in: the next form is the same page
        assert register(i).status_code == 302
    _refused(register(3, lang), lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forgot_password_requests_are_limited_per_client_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_RESET_REQUEST="2 per hour")
    client = app.test_client()
    for i in range(2):
        assert _post(client, "/password/forgot", {"email": f"a{i}@example.org"}
                     ).status_code == 200
    _refused(_post(client, "/password/forgot", {"email": "a9@example.org"}, lang=lang), lang)


def _reset_jobs(app) -> list[dict]:
    with app.app_context():
        return [j.payload for j in db.session.query(Job).filter_by(kind="accounts.reset_mail")]


def test_at_most_three_reset_mails_per_address_per_hour_with_the_same_answer(make_app):
    app = _limited(make_app)  # the default: RATELIMIT_RESET_MAIL = "3 per hour"
    assert app.config["RATELIMIT_RESET_MAIL"] == "3 per hour"
    make_user(app, email="user@example.org")
    answers = []
    for i in range(4):  # from four addresses, so that only the per-target limit applies
        client = app.test_client()
        response = _post(client, "/password/forgot", {"email": "User@example.org"},
                         address=f"10.0.2.{i}")
        answers.append((response.status_code, response.get_data(as_text=True)))
    assert [status for status, _ in answers] == [200] * 4
    assert len({body for _, body in answers}) == 1  # the 4th answer looks like the others
    assert _reset_jobs(app) == [{"email": "user@example.org"}] * 3  # but queued no 4th job
    # another address still gets its mail
    _post(app.test_client(), "/password/forgot", {"email": "other@example.org"})
    assert _reset_jobs(app)[-1] == {"email": "other@example.org"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_editor_invitations_are_limited_per_client_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_INVITE="2 per hour")
    make_user(app, email="user@example.org")
    client = app.test_client()
    sign_in(client)
    # The limit is checked before the view looks for the school and the right to invite.
    for i in range(2):
        assert _post(client, "/schools/none/editors", {"email": f"e{i}@example.org"},
                     form="/account").status_code != 429
    _refused(_post(client, "/schools/none/editors", {"email": "e9@example.org"},
                   form="/account", lang=lang), lang)


def test_editor_invitations_are_limited_per_invited_address(make_app):
    app = _limited(make_app, RATELIMIT_INVITE_EMAIL="2 per day")
    make_user(app, email="user@example.org")
    client = app.test_client()
    sign_in(client)
    for i in range(2):
        assert _post(client, "/schools/none/editors", {"email": "same@example.org"},
                     form="/account", address=f"10.0.3.{i}").status_code != 429
    _refused(_post(client, "/schools/none/editors", {"email": "same@example.org"},
                   form="/account", address="10.0.3.9"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_post_reports_are_limited_per_client_address(make_app, lang):
    app = _limited(make_app, RATELIMIT_REPORT="2 per hour")
    make_user(app, email="user@example.org")
    client = app.test_client()
    sign_in(client)
    for i in range(2):
        assert _post(client, f"/activities/{900 + i}/report", {"reason": "不实"},
                     form="/account").status_code != 429
    _refused(_post(client, "/activities/999/report", {"reason": "不实"}, form="/account",
                   lang=lang), lang)


def _token(app, email: str) -> str:
    from portal.accounts import services

    make_user(app, email=email)
    with app.app_context():
        return services.create_api_token(services.get_by_email(email), "tests")[1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_api_writes_are_limited_per_token_and_answer_json(make_app, lang):
    app = _limited(make_app, RATELIMIT_API_WRITE="3 per hour")
    token, other = _token(app, "a@example.org"), _token(app, "b@example.org")
    client = app.test_client()

    def signup(tok, method="POST", lang=None):
        return client.open("/api/v1/events/999/signup" + (f"?lang={lang}" if lang else ""),
                           method=method, headers={"Authorization": f"Bearer {tok}"},
                           environ_base={"REMOTE_ADDR": "10.0.4.1"})

    assert [signup(token, m).status_code for m in ("POST", "DELETE", "POST")] == [404] * 3
    for _ in range(5):  # reading is not limited
        assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"},
                          environ_base={"REMOTE_ADDR": "10.0.4.1"}).status_code == 200
    response = signup(token, lang=lang)
    assert response.status_code == 429
    assert response.is_json
    assert response.json["error"]["code"] == "too_many_requests"
    assert response.json["error"]["message"] == (ZH if lang == "zh" else EN)
    assert 0 < int(response.headers["Retry-After"]) <= 86400
    # every write operation counts together, per token: another token from the same address
    # is not affected
    assert signup(other).status_code == 404


def test_the_api_description_lists_429_for_writes_only(app):
    from tests.api.test_openapi import _operations, spec_for

    doc = spec_for(app)
    for path, method, _item, op in _operations(doc):
        limited = method.upper() in ("POST", "PUT", "PATCH", "DELETE")
        assert ("429" in op["responses"]) == limited, (method, path)
        if limited:
            assert "too_many_requests" in op["responses"]["429"]["description"]
            assert "Retry-After" in op["responses"]["429"]["headers"]


def test_in_memory_counts_are_per_app(make_app):
    """Two app objects (two workers) with in-memory storage count separately."""
    first = _limited(make_app, RATELIMIT_LOGIN="2 per hour")
    second = _limited(make_app, RATELIMIT_LOGIN="2 per hour")
    client = first.test_client()
    for _ in range(2):
        _post(client, "/login", _login("x@example.org"))
    _refused(_post(client, "/login", _login("x@example.org")))
    assert _post(second.test_client(), "/login", _login("x@example.org")).status_code == 401


@pytest.fixture
def redis_db():
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


def test_redis_counts_are_shared_by_every_app(make_app, redis_db):
    """Two app objects (two workers, or two servers) with one Redis share their counts."""
    limits = {"RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_LOGIN": "3 per hour",
              "RATELIMIT_RESET_MAIL": "2 per hour"}
    first, second = _limited(make_app, **limits), _limited(make_app, **limits)
    assert first.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    for app in (first, second, first):
        assert _post(app.test_client(), "/login", _login("x@example.org")).status_code == 401
    _refused(_post(second.test_client(), "/login", _login("x@example.org")))
    assert redis_db.dbsize() > 0  # the counts are in Redis

    for app in (first, second, first, second):
        _post(app.test_client(), "/password/forgot", {"email": "user@example.org"},
              address="10.0.5.1")
    assert len(_reset_jobs(first)) == 2


def test_limits_are_off_when_disabled(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN="1 per hour")
    client = app.test_client()
    for _ in range(3):
        assert _post(client, "/login", _login("x@example.org")).status_code == 401


def test_a_limit_that_does_not_parse_stops_start_up(make_app):
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_RATELIMIT_LOGIN"):
        _limited(make_app, RATELIMIT_LOGIN="many per moment")
