from portal.accounts.models import ApiToken
from portal.extensions import db
from tests.conftest import csrf_token, make_user, sign_in


def _cli_token(app, email="user@example.org") -> str:
    result = app.test_cli_runner().invoke(args=["users", "token", email])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_cli_token_is_accepted_by_the_api(app, client):
    make_user(app, name="王小明")
    token = _cli_token(app)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json == {"email": "user@example.org", "display_name": "王小明",
                             "role": "citizen", "locale": "zh"}
    assert "王小明" in response.get_data(as_text=True)  # not \\u escapes
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        stored = db.session.query(ApiToken).one()
        assert token not in (stored.token_hash, stored.prefix)
        assert stored.last_used_at is not None


def test_wrong_or_missing_token_gets_401_json(app, client):
    make_user(app)
    _cli_token(app)
    for headers in [{}, {"Authorization": "Bearer gj_wrong"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer"}]:
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json["error"]["code"] == "unauthorized"
        assert response.json["error"]["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_cookies_are_not_accepted_by_the_api(app, client):
    make_user(app)
    sign_in(client)
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_api_errors_are_json_and_localised(app, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"] == "找不到该页面。它可能已被移动，或从未存在。"
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert response.json["error"]["message"].startswith("We could not find")
    response = client.post("/api/v1/me")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


def test_api_needs_no_csrf_token(app, client):
    # POST to an API address without a CSRF token is judged by the API (405 here), not CSRF.
    response = client.post("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert response.status_code in (401, 405)
    assert "error" in response.json


def test_tokens_are_created_shown_once_and_revoked_on_the_account_page(app, client):
    make_user(app)
    sign_in(client)
    response = client.post("/account/tokens", data={
        "name": "我的脚本", "csrf_token": csrf_token(client, "/account")})
    html = response.get_data(as_text=True)
    token = html.split('<code class="token">')[1].split("</code>")[0]
    assert token.startswith("gj_")
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    client.post(f"/account/tokens/{token_id}/revoke",
                data={"csrf_token": csrf_token(client, "/account")})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_nobody_can_revoke_someone_elses_token(app, client):
    make_user(app)
    make_user(app, email="other@example.org")
    _cli_token(app, "other@example.org")
    sign_in(client)
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    client.post(f"/account/tokens/{token_id}/revoke",
                data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        assert db.session.query(ApiToken).count() == 1


def test_users_cli_create_and_set_role(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "staff@example.org", "--role", "organizer",
                                 "--password-stdin"], input="a long organiser password\n")
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), "staff@example.org",
                   "a long organiser password").status_code == 302
    result = runner.invoke(args=["users", "set-role", "staff@example.org", "admin"])
    assert result.exit_code == 0 and "admin" in result.output
    token = _cli_token(app, "staff@example.org")
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["role"] == "admin"
    bad = runner.invoke(args=["users", "create", "x@example.org", "--password-stdin"],
                        input="short\n")
    assert bad.exit_code != 0
    assert runner.invoke(args=["users", "set-role", "nobody@example.org", "admin"]).exit_code != 0
    assert runner.invoke(args=["users", "set-role", "staff@example.org", "king"]).exit_code != 0
