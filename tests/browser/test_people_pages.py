"""Issue 14, people: the administrators' pages have no accessibility violations (axe) in
Chinese and English, on a phone-sized screen too, and suspending goes through its
confirmation page in a real browser."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.browser.test_accessibility import _axe, check_page, describe
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts(app):
    make_user(app, email="admin@example.org", role="admin", name="王敏")
    return make_user(app, email="zhang@example.org", name="张伟")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_people_pages_are_accessible(app, live_server, page, sign_in_form, accounts, lang):
    sign_in_form(page, "admin@example.org")
    for path in ["/manage/people", "/manage/people?q=zhang", f"/manage/people/{accounts}"]:
        joiner = "&" if "?" in path else "?"
        check_page(page, f"{live_server}{path}{joiner}lang={lang}", lang)
    # the confirmation page, then the page of a suspended account
    page.locator("textarea[name='suspend-reason']").fill("垃圾信息")
    with page.expect_navigation():
        page.locator("form[action$='/suspend'] [type=submit]").click()
    assert page.locator("input[name='suspend-confirm'][value=yes]").count() == 1  # the confirmation
    violations = _axe.run(page).response["violations"]
    assert not violations, describe(violations)
    with page.expect_navigation():
        page.locator("form[action$='/suspend'] [type=submit]").click()
    with app.app_context():
        assert db.session.get(User, accounts).suspended_at is not None
    check_page(page, f"{live_server}/manage/people/{accounts}?lang={lang}", lang)


def test_people_pages_fit_a_phone(app, new_context, live_server, accounts):
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{live_server}/login")
    phone.locator("#email").fill("admin@example.org")
    phone.locator("#password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("form.form [type=submit]").click()
    for path in ["/manage/people", f"/manage/people/{accounts}"]:
        phone.goto(f"{live_server}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
