"""The audit log page in a real Chromium: axe finds no violations in Chinese and English (with
entries, and with a bad date's error), and it fits a phone's width (390 px)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.audit.models import AuditEntry
from portal.db import writing
from portal.extensions import db
from tests.browser.conftest import login
from tests.browser.test_accessibility import _axe, check_page, describe
from tests.conftest import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(app) -> str:
    email = "admin@example.org"
    uid = make_user(app, email=email, role="admin", name="王敏")
    with app.app_context(), writing():
        db.session.add(AuditEntry(actor_id=None, action="hidden_by_reports",
                                  target="activity:3", data={"reports": 3}))
        db.session.add(AuditEntry(actor_id=uid, action="hidden", target="activity:3",
                                  label="Tree planting 植树活动", reason="含有学生姓名",
                                  data={"reports": 3},
                                  created_at=datetime(2026, 12, 1, 2, tzinfo=UTC)))
    return email


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_audit_log_is_accessible(live_server, page, admin, lang):  # noqa: F811
    login(page, live_server, admin)
    page.wait_for_load_state()
    check_page(page, f"{live_server}/manage/audit?lang={lang}", lang)
    assert page.locator(".audit-list li").count() == 2
    page.goto(f"{live_server}/manage/audit?lang={lang}&from=2026-13-01")
    violations = _axe.run(page).response["violations"]
    assert not violations, describe(violations)
    assert page.locator("#from").get_attribute("aria-invalid") == "true"


def test_the_audit_log_fits_a_phone(live_server, new_context, admin):  # noqa: F811
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    login(phone, live_server, admin)
    phone.wait_for_load_state()
    phone.goto(f"{live_server}/manage/audit?lang=en")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
