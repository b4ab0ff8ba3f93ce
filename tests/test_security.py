"""Access rules, CSRF, cookies and the headers on every response."""

import re

import pytest

from portal import security
from tests.conftest import PASSWORD, make_user, sign_in


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(security.ACCESS) == set()
    assert set(security.ACCESS) - endpoints == set()  # no stale rules


def test_a_route_without_a_rule_is_refused(make_app):
    app = make_app()
    app.add_url_rule("/unruled", "unruled", lambda: "secret")
    assert app.test_client().get("/unruled").status_code == 403


def test_role_rules(make_app):
    app = make_app()
    security.ACCESS["staff_only"] = security.STAFF
    try:
        app.add_url_rule("/staff-only", "staff_only", lambda: "for staff")
        make_user(app)
        make_user(app, email="staff@example.org", role="organizer")
        make_user(app, email="admin@example.org", role="admin")
        anonymous = app.test_client().get("/staff-only")
        assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
        citizen = app.test_client()
        sign_in(citizen)
        assert citizen.get("/staff-only").status_code == 403
        for email in ["staff@example.org", "admin@example.org"]:
            staff = app.test_client()
            sign_in(staff, email=email)
            assert staff.get("/staff-only").get_data(as_text=True) == "for staff"
    finally:
        del security.ACCESS["staff_only"]


def test_unknown_roles_cannot_be_named():
    with pytest.raises(ValueError):
        security.roles("king")


def test_signed_in_pages_send_anonymous_visitors_to_login(client):
    for path in ["/account", "/account/data", "/account/data.json", "/account/delete",
                 "/account/password"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")


def _post_forms(html: str) -> list[str]:
    return re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, flags=re.S)


def test_every_html_form_carries_a_csrf_token(app, client):
    make_user(app)
    pages = ["/register", "/login", "/password/forgot"]
    for path in pages:
        forms = _post_forms(client.get(path).get_data(as_text=True))
        assert forms and all('name="csrf_token"' in f for f in forms), path
    sign_in(client)
    for path in ["/", "/account", "/account/password", "/account/delete"]:
        forms = _post_forms(client.get(path).get_data(as_text=True))
        assert forms and all('name="csrf_token"' in f for f in forms), path


@pytest.mark.parametrize("path", ["/register", "/login", "/password/forgot", "/logout",
                                  "/account/password", "/account/tokens", "/account/delete",
                                  "/account/tokens/1/revoke"])
def test_post_without_csrf_token_gets_400(app, client, path):
    make_user(app)
    sign_in(client)
    response = client.post(path, data={"password": "x", "email": "user@example.org"})
    assert response.status_code == 400, path
    assert client.get("/account").status_code == 200  # nothing happened: still signed in


def test_session_cookie_flags(app, client):
    make_user(app)
    response = sign_in(client, remember=True)
    cookies = {h.split("=")[0]: h for h in response.headers.getlist("Set-Cookie")}
    for name in ["portal_session", "portal_remember"]:
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert "Secure" not in cookies[name]


def test_cookies_are_secure_with_https(make_app):
    app = make_app(HTTPS=True)
    make_user(app)
    client = app.test_client()
    https = "https://localhost"  # the test client returns Secure cookies only over https
    page = client.get("/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    # Over https Flask-WTF also checks that the Referer is this site, as browsers send it.
    response = client.post("/login", base_url=https, headers={"Referer": https + "/login"}, data={
        "email": "user@example.org", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert response.status_code == 302
    cookies = {h.split("=")[0]: h for h in response.headers.getlist("Set-Cookie")}
    assert "Secure" in cookies["portal_session"] and "Secure" in cookies["portal_remember"]
    assert "Secure" in client.get("/?lang=en", base_url=https).headers["Set-Cookie"]
    assert "max-age" in client.get("/", base_url=https).headers["Strict-Transport-Security"]


def _check_headers(response):
    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_security_headers_on_pages_errors_static_and_api(app, client):
    for path in ["/", "/privacy", "/nowhere", "/static/css/site.css", "/api/v1/me",
                 "/api/v1/nowhere", "/healthz"]:
        with client.get(path) as response:
            _check_headers(response)
    _check_headers(client.post("/login", data={}))  # CSRF error page


def test_crash_headers_and_generic_page_in_production(make_app):
    app = make_app(TESTING=False, DEBUG=False)
    security.ACCESS["boom"] = security.PUBLIC
    try:
        def boom():
            raise RuntimeError("secret internals /work/main/portal")

        app.add_url_rule("/boom", "boom", boom)
        app.add_url_rule("/api/v1/boom", "api_boom", boom)
        security.ACCESS["api_boom"] = security.PUBLIC
        response = app.test_client().get("/boom")
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "我们这边出了问题" in html
        assert "Traceback" not in html and "secret internals" not in html
        _check_headers(response)
        api = app.test_client().get("/api/v1/boom")
        assert api.status_code == 500 and api.json["error"]["code"] == "internal_error"
    finally:
        security.ACCESS.pop("boom", None)
        security.ACCESS.pop("api_boom", None)


def test_pages_with_personal_data_are_not_stored(app, client):
    make_user(app)
    assert client.get("/").headers.get("Cache-Control") != "no-store"
    sign_in(client)
    for path in ["/", "/account", "/account/data", "/account/data.json"]:
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_user_display_names_are_escaped(app, client):
    make_user(app, name="<script>alert(1)</script>")
    sign_in(client)
    html = client.get("/account").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
