import json

from portal.accounts import services
from portal.accounts.models import ApiToken, LoginSession, LoginThrottle, PasswordReset, User
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_token, make_user, outbox, sign_in


def test_my_data_shows_everything_kept_and_is_never_cached(app, client):
    make_user(app, name="王小明")
    sign_in(client)
    response = client.get("/account/data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    for expected in ["user@example.org", "王小明", "2026-11-28", "已登录设备"]:
        assert expected in html


def test_my_data_downloads_as_json(app, client):
    make_user(app, name="王小明")
    sign_in(client, remember=True)
    client.post("/account/tokens", data={"name": "脚本", "csrf_token": csrf_token(client,
                                                                                  "/account")})
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "王小明" in response.get_data(as_text=True)  # readable Chinese
    data = json.loads(response.get_data(as_text=True))
    account = data["account"]
    assert account["email"] == "user@example.org"
    assert account["privacy_consent"]["notice_version"] == "2026-11-28"
    assert account["sign_in_sessions"][0]["remember_me"] is True
    assert account["api_tokens"][0]["name"] == "脚本"
    assert "password_hash" not in json.dumps(data) and "$argon2" not in json.dumps(data)


def test_deleting_needs_the_password(app, client):
    make_user(app)
    sign_in(client)
    response = client.post("/account/delete", data={
        "password": "not my password at all", "csrf_token": csrf_token(client,
                                                                       "/account/delete")})
    assert response.status_code == 400 and "密码不正确。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_deleting_removes_personal_data_everywhere(app, client):
    make_user(app)
    keep = make_user(app, email="other@example.org")
    sign_in(client, remember=True)
    client.post("/account/tokens", data={"name": "x", "csrf_token": csrf_token(client,
                                                                               "/account")})
    anon = app.test_client()
    anon.post("/password/forgot", data={"email": "user@example.org",
                                        "csrf_token": csrf_token(anon, "/password/forgot")})
    anon.post("/password/forgot", data={"email": "other@example.org",
                                        "csrf_token": csrf_token(anon, "/password/forgot")})
    sign_in(anon, password="a wrong password!")  # a throttle row for the address
    assert len(outbox(app)) == 2

    response = client.post("/account/delete", data={
        "password": PASSWORD, "csrf_token": csrf_token(client, "/account/delete")})
    assert response.status_code == 302
    with app.app_context():
        assert [u.id for u in db.session.query(User)] == [keep]
        assert db.session.query(LoginSession).count() == 0
        assert db.session.query(ApiToken).count() == 0
        assert db.session.query(PasswordReset).filter_by(user_id=keep).count() == 1
        assert db.session.query(PasswordReset).count() == 1
        assert db.session.query(LoginThrottle).count() == 0
    assert [m["To"] for m in outbox(app)] == ["other@example.org"]
    assert client.get("/account").status_code == 302  # signed out
    assert sign_in(app.test_client()).status_code == 401


def test_features_register_their_share_of_personal_data(ctx):
    seen = []
    services.register_personal_data("test-feature", lambda user: {"n": 1},
                                    lambda user: seen.append(user.email))
    try:
        uid = make_user(ctx)
        user = db.session.get(User, uid)
        assert services.export_data(user)["test-feature"] == {"n": 1}
        services.delete_account(user, PASSWORD)
        assert seen == ["user@example.org"]
    finally:
        services._PERSONAL_DATA[:] = [p for p in services._PERSONAL_DATA
                                      if p.name != "test-feature"]
