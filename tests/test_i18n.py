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


# -- bilingual fields: one way to read them, and the fallback marked in the page ---------------

def test_pick_reads_every_shape_and_reports_a_fallback(ctx):
    from dataclasses import dataclass

    from portal.i18n import Localized, pick

    @dataclass
    class Columns:
        title_zh: str
        title_en: str

    @dataclass
    class Named:
        zh: str
        en: str

    chinese_only = Columns("河道清洁", "")
    title = pick(chinese_only, "title", "en")
    assert isinstance(title, str) and isinstance(title, Localized)
    assert (title, title.lang, title.fallback) == ("河道清洁", "zh", True)
    same = pick(chinese_only, "title", "zh")
    assert (same, same.lang, same.fallback) == ("河道清洁", "zh", False)
    for source, field in [(Named("南湖区", "Nanhu"), None), ({"zh": "南湖区", "en": "Nanhu"}, None),
                          ({"label": {"zh": "南湖区", "en": "Nanhu"}}, "label"),
                          ({"name_zh": "南湖区", "name_en": "Nanhu"}, "name")]:
        text = pick(source, field, "en")
        assert (text, text.lang, text.fallback) == ("Nanhu", "en", False), source
    blank = pick({"zh": "  ", "en": "Only English"}, locale="zh")
    assert (blank, blank.lang, blank.fallback) == ("Only English", "en", True)
    nothing = pick({"zh": "", "en": None}, locale="en")
    assert (nothing, nothing.lang, nothing.fallback) == ("", "en", False)
    with ctx.test_request_context("/?lang=en"):
        assert pick(Named("南湖区", "Nanhu")) == "Nanhu"  # the current language by default


def test_lang_attr_marks_only_text_in_another_language(app):
    from portal.i18n import lang_attr, pick

    with app.test_request_context("/?lang=en"):
        assert lang_attr(pick({"zh": "河道清洁", "en": ""})) == ' lang="zh-CN"'
        assert lang_attr(pick({"zh": "河道清洁", "en": "River clean-up"})) == ""
        assert lang_attr("zh") == ' lang="zh-CN"' and lang_attr("en") == ""
    with app.test_request_context("/?lang=zh"):
        assert lang_attr(pick({"zh": "", "en": "River clean-up"})) == ' lang="en"'
        assert lang_attr(pick({"zh": "河道清洁", "en": "River clean-up"})) == ""


def test_an_english_page_marks_a_chinese_only_event_title(app):
    from tests.events.conftest import make_event

    organizer = make_user(app, email="org@example.org", role="organizer", name="组织者")
    chinese = make_event(app, organizer, title_zh="湿地观鸟", title_en="")
    both = make_event(app, organizer, title_zh="河道清洁", title_en="River clean-up", days=11)
    client = app.test_client()
    page = client.get(f"/events/{chinese}?lang=en").get_data(as_text=True)
    assert '<h1 lang="zh-CN">湿地观鸟</h1>' in page
    listing = client.get("/events?lang=en").get_data(as_text=True)
    assert f'href="/events/{chinese}" lang="zh-CN">湿地观鸟</a>' in listing
    assert f'href="/events/{both}">River clean-up</a>' in listing
    # In the page's own language nothing is marked.
    page = client.get(f"/events/{chinese}?lang=zh").get_data(as_text=True)
    assert "<h1>湿地观鸟</h1>" in page
    listing = client.get("/events?lang=zh").get_data(as_text=True)
    assert f'href="/events/{chinese}">湿地观鸟</a>' in listing
