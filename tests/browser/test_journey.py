"""A visitor's path through the portal in a real browser: language, registration and the
mailed confirmation link, sign-out, sign-in, keyboard access and a failed sign-in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import outbox

pytestmark = pytest.mark.browser

EMAIL = "wang.xiaoming@example.org"
NAME = "王小明"
STRONG_PASSWORD = "lotus pond morning drizzle"


def html_lang(page) -> str | None:
    return page.locator("html").get_attribute("lang")


def lang_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "lang"), None)


def test_keyboard_user_reaches_skip_link_first(live_server, page):
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_count(1)
    assert focused.evaluate("el => el.matches('a.skip-link')"), \
        "first Tab stop is " + focused.evaluate("el => el.outerHTML")
    expect(focused).to_have_attribute("href", "#main")
    expect(focused).to_be_visible()  # it slides into view on focus
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_language_register_sign_out_and_in(app, live_server, new_context):
    context = new_context()
    page = context.new_page()

    # Chinese by default; the header's language control switches to English …
    page.goto(f"{live_server}/")
    assert html_lang(page) == "zh-CN"
    switch = page.get_by_role("navigation", name="语言").get_by_role("link")
    expect(switch).to_have_text("English")
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert lang_cookie(context) == "en"
    # … and the choice is kept (cookie) on the next page load without ?lang=.
    page.goto(f"{live_server}/privacy")
    assert html_lang(page) == "en"
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    # Back to Chinese, which is kept as well.
    switch = page.get_by_role("navigation", name="Language").get_by_role("link")
    expect(switch).to_have_text("中文")
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert lang_cookie(context) == "zh"
    page.goto(f"{live_server}/")
    assert html_lang(page) == "zh-CN"

    # Register, in Chinese, from the main navigation.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="注册").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    page.get_by_label("电子邮箱").fill(EMAIL)
    page.get_by_label("显示名称").fill(NAME)
    page.get_by_label("密码").fill(STRONG_PASSWORD)
    consent = page.locator("#consent")
    expect(consent).not_to_be_checked()
    consent.check()
    page.get_by_role("button", name="创建账号").click()

    # Not signed in yet: the answer says to look for the mail (the same answer whether or not
    # the address had an account).
    expect(page).to_have_url(re.compile(r"/register/sent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("请查收邮件")
    expect(page.get_by_role("status")).to_contain_text(EMAIL)
    expect(page.get_by_role("banner").get_by_role("button", name="退出登录")).to_have_count(0)

    # The mailed link shows a page with a button; confirming asks for the password and signs
    # in, on "my account".
    [mail] = [m for m in outbox(app) if m["To"] == EMAIL]
    link = re.search(r"https?://[^/\s]+(/verify/\S+)", mail.get_body().get_content()).group(1)
    page.goto(f"{live_server}{link}")
    expect(page.get_by_role("main")).to_contain_text(EMAIL)
    page.locator("#password").fill(STRONG_PASSWORD)
    page.locator("form.form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的账号")
    expect(page.locator("dl.facts")).to_contain_text(EMAIL)
    expect(page.locator("dl.facts")).to_contain_text(NAME)
    expect(page.locator("#verify-notice")).to_have_count(0)  # the address is confirmed
    assert html_lang(page) == "zh-CN"

    # Sign out with the header button.
    page.get_by_role("banner").get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_contain_text("你已退出登录")
    expect(page.get_by_role("banner").get_by_role("button", name="退出登录")).to_have_count(0)
    page.goto(f"{live_server}/account")
    expect(page).to_have_url(re.compile(r"/login\?next="))

    # Sign in again with the login form (it returns to /account, the page asked for).
    page.get_by_label("电子邮箱").fill(EMAIL)
    page.locator("#password").fill(STRONG_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("status")).to_contain_text("你已登录。")
    expect(page.locator("dl.facts")).to_contain_text(EMAIL)
    expect(page.get_by_role("banner").get_by_role("button", name="退出登录")).to_be_visible()


def test_failed_sign_in_shows_error(live_server, page, user):
    page.goto(f"{live_server}/login")
    assert html_lang(page) == "zh-CN"
    page.locator("#email").fill(user["email"])
    page.locator("#password").fill("not the right password")
    with page.expect_navigation() as nav:
        page.get_by_role("main").get_by_role("button", name="登录").click()
    assert nav.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("电子邮箱或密码不正确。")
    expect(page.locator("#email")).to_have_value(user["email"])
    expect(page.locator("#password")).to_have_value("")  # a password is never sent back
    expect(page.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()
