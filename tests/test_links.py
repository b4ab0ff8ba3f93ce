"""Absolute links come from the configured base URL, never from a forged Host header."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.events import services as events
from portal.extensions import db
from tests.conftest import CSRF_RE, PASSWORD, make_user, outbox
from tests.events.conftest import make_event

EVIL = "http://evil.example"


def _token(client, path: str, base_url: str) -> str:
    page = client.get(path, base_url=base_url)
    assert page.status_code == 200, path
    return next(g for g in CSRF_RE.search(page.get_data(as_text=True)).groups() if g)


def _forgot(client, base_url: str):
    return client.post("/password/forgot", base_url=base_url, data={
        "email": "user@example.org", "csrf_token": _token(client, "/password/forgot", base_url)})


def _bodies(app) -> str:
    return "\n".join(m.get_body(("plain",)).get_content() for m in outbox(app))


def test_a_forged_host_never_reaches_a_reset_mail(make_app):
    app = make_app()  # neither BASE_URL nor TRUSTED_HOSTS: the request's host is not believed
    make_user(app)
    client = app.test_client()
    assert _forgot(client, EVIL).status_code == 200
    bodies = _bodies(app)
    assert "/password/reset/" in bodies
    assert "evil.example" not in bodies
    assert "http://localhost:5000/password/reset/" in bodies


def test_reset_mail_uses_the_trusted_host_and_other_hosts_get_400(make_app):
    app = make_app(TRUSTED_HOSTS=["green.example"])
    make_user(app)
    client = app.test_client()
    refused = client.post("/password/forgot", base_url=EVIL, data={"email": "user@example.org"})
    assert refused.status_code == 400
    assert outbox(app) == []
    assert _forgot(client, "http://green.example").status_code == 200
    # The worker has no request: it uses the first trusted name.
    assert "http://green.example/password/reset/" in _bodies(app)


def test_an_untrusted_host_gets_our_400_page_and_json(make_app, caplog):
    app = make_app(TRUSTED_HOSTS=["green.example", ".jiaxing.example"])
    client = app.test_client()
    page = client.get("/?lang=en", base_url=EVIL)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "The request could not be understood" in html
    assert "Back to the home page" in html and 'href="/privacy"' in html  # the whole page
    assert "evil.example" not in html
    assert "could not be rendered" not in caplog.text
    api = client.get("/api/v1/events", base_url=EVIL)
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "bad_request"
    assert client.get("/", base_url="http://green.example").status_code == 200
    assert client.get("/", base_url="http://www.jiaxing.example").status_code == 200


def test_pages_and_calendar_files_never_carry_a_forged_host(make_app):
    app = make_app()
    organizer = make_user(app, email="org@example.org", role="organizer", name="组织者")
    event_id = make_event(app, organizer)
    client = app.test_client()
    for path in ("/events", "/events/calendar", "/calendar.ics", f"/events/{event_id}.ics"):
        response = client.get(path, base_url=EVIL)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert "evil.example" not in body, path
        assert "localhost:5000" in body, path


def _promotion(make_app, base_url, **config):
    app = make_app(**config)
    organizer = make_user(app, email="org@example.org", role="organizer", name="组织者")
    event_id = make_event(app, organizer, capacity=1)
    first = make_user(app, email="first@example.org", name="先到")
    second = make_user(app, email="second@example.org", name="后到")
    with app.app_context():
        for uid in (first, second):
            events.sign_up(db.session.get(User, uid), event_id)
    already = len(outbox(app))  # the confirmation and the waiting-list place
    client = app.test_client()
    # The cancellation that moves the second person up comes with a forged Host.
    client.post("/login", base_url=base_url, data={
        "email": "first@example.org", "password": PASSWORD,
        "csrf_token": _token(client, "/login", base_url)})
    response = client.post(f"/events/{event_id}/cancel-signup", base_url=base_url, data={
        "csrf_token": _token(client, f"/events/{event_id}", base_url)})
    mails = [m for m in outbox(app)[already:] if m["To"] == "second@example.org"]
    return response, mails, event_id


def test_a_promotion_mail_carries_the_configured_base(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_BASE_URL", "https://green.example.gov.cn/portal/")
    response, mails, event_id = _promotion(make_app, EVIL)
    assert response.status_code == 302
    assert len(mails) == 1
    text = mails[0].get_body(("plain",)).get_content()
    attachment = next(mails[0].iter_attachments()).get_content()
    assert "evil.example" not in text + attachment
    assert f"https://green.example.gov.cn/portal/events/{event_id}" in text
    assert f"https://green.example.gov.cn/portal/events/{event_id}" in attachment.replace(
        "\r\n ", "")


def test_https_makes_every_link_https(make_app):
    app = make_app(BASE_URL="http://green.example.gov.cn", HTTPS=True)
    with app.app_context():
        from portal import links

        assert links.absolute("events.upcoming") == "https://green.example.gov.cn/events"


@pytest.mark.parametrize("enabled", [False, True])
def test_proxy_fix_believes_forwarded_headers_only_when_enabled(make_app, enabled):
    app = make_app(TRUSTED_HOSTS=["green.example", "127.0.0.1"], PROXY_FIX=1 if enabled else 0)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "green.example",
                 "X-Forwarded-For": "203.0.113.9"}
    body = client.get("/events", base_url="http://127.0.0.1:8000",
                      headers=forwarded).get_data(as_text=True)
    if enabled:
        assert "https://green.example/calendar.ics" in body
        assert "127.0.0.1" not in body
    else:
        assert "http://127.0.0.1:8000/calendar.ics" in body
        assert "green.example" not in body


def test_proxy_fix_and_trusted_hosts_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("PORTAL_PROXY_FIX", "1")
    monkeypatch.setenv("PORTAL_TRUSTED_HOSTS", "green.example, localhost")
    app = make_app()
    assert app.config["TRUSTED_HOSTS"] == ["green.example", "localhost"]
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    assert app.test_client().get("/", base_url=EVIL).status_code == 400
