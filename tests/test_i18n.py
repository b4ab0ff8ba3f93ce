"""Languages: zh by default, Accept-Language, ?lang= with a cookie, the account's choice."""

from datetime import UTC, datetime

from tests.conftest import make_user, sign_in


def test_default_language_is_simplified_chinese(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "跳到主要内容" in html


def test_accept_language_is_followed(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Skip to main content" in html
    html = client.get("/", headers={"Accept-Language": "fr,zh-TW;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html


def test_lang_parameter_switches_and_persists_in_a_cookie(client):
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The next request without ?lang keeps English, whatever the browser prefers.
    html = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Privacy notice" in html
    assert '<html lang="zh-CN">' in client.get("/?lang=zh").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)


def test_unknown_lang_parameter_is_ignored(client):
    response = client.get("/?lang=xx")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_every_page_offers_the_other_language(client):
    for path in ["/", "/login", "/register", "/privacy", "/password/forgot", "/nowhere"]:
        zh = client.get(path + "?lang=zh").get_data(as_text=True)
        assert 'href="' + path + '?lang=en"' in zh, path
        en = client.get(path + "?lang=en").get_data(as_text=True)
        assert 'href="' + path + '?lang=zh"' in en, path


def test_switch_keeps_other_query_arguments(client):
    html = client.get("/login?next=%2Faccount").get_data(as_text=True)
    assert 'href="/login?next=%2Faccount&amp;lang=en"' in html


def test_signed_in_users_choice_is_remembered_on_the_account(app):
    from portal.accounts.models import User
    from portal.extensions import db

    uid = make_user(app)
    browser_one = app.test_client()
    sign_in(browser_one)
    browser_one.get("/account?lang=en")
    with app.app_context():
        assert db.session.get(User, uid).locale == "en"
    # A second device with no cookie and a Chinese browser gets English once signed in.
    browser_two = app.test_client()
    sign_in(browser_two)
    html = browser_two.get("/account", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert '<html lang="en">' in html


def test_dates_are_formatted_per_locale_in_the_site_zone(ctx):
    from flask_babel import force_locale

    from portal.i18n import format_datetime

    moment = datetime(2026, 6, 4, 16, 30, tzinfo=UTC)  # 00:30 on 5 June in Shanghai
    with ctx.test_request_context("/"):
        with force_locale("zh"):
            zh = format_datetime(moment, "medium")
        with force_locale("en"):
            en = format_datetime(moment, "medium")
    assert "2026年6月5日" in zh and "00:30" in zh
    assert "Jun 5, 2026" in en and "12:30" in en
