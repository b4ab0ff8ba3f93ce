"""axe-core finds no accessibility violations on the main pages, in Chinese and in English.

axe is injected with ``page.evaluate``, which runs through the DevTools protocol and is not
subject to the page's Content-Security-Policy (``script-src 'self'``), so the contexts keep the
real CSP (no ``bypass_csp``): the check also sees the page exactly as a visitor does, and any
CSP violation the page itself causes shows up as a console error below.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from portal.jobs.services import work as _work
from tests.browser.conftest import login
from tests.conftest import make_user, outbox

pytestmark = pytest.mark.browser

HTML_LANG = {"zh": "zh-CN", "en": "en"}
PUBLIC_PAGES = ["/", "/login", "/register", "/register/sent", "/privacy"]

_axe = Axe()


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}"
                         .replace("\n", " / "))
    return "\n".join(lines)


def check_page(page, url: str, lang: str) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    assert urlsplit(page.url).path == urlsplit(url).path, f"{url} redirected to {page.url}"
    assert page.locator("html").get_attribute("lang") == HTML_LANG[lang], url

    results = _axe.run(page)
    violations = results.response["violations"]
    assert not violations, (f"{len(violations)} accessibility violation(s) on {url}:\n"
                            + describe(violations))
    assert not errors, f"console errors on {url} (CSP violations?): {errors}"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_is_accessible(live_server, page, path, lang):
    check_page(page, f"{live_server}{path}?lang={lang}", lang)


LIBRARY_PAGES = ["/learn", "/learn/waste-sorting", "/learn/topics/water", "/observances",
                 "/observances/urban-water-saving-week", "/search?q=节水+recycling"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", LIBRARY_PAGES)
def test_library_and_search_pages_are_accessible(library_server, page, path, lang):
    joiner = "&" if "?" in path else "?"
    check_page(page, f"{library_server}{path}{joiner}lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_my_data_page_is_accessible(live_server, page, user, sign_in_form, lang):
    sign_in_form(page, user["email"], user["password"])
    check_page(page, f"{live_server}/account/data?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unverified_account_and_confirmation_pages_are_accessible(app, live_server, page,
                                                                  sign_in_form, lang):
    """The account page with its "confirm your address" notice, and the mailed link's page."""
    make_user(app, email="new@example.org", verified=False)
    sign_in_form(page, "new@example.org")
    check_page(page, f"{live_server}/account?lang={lang}", lang)
    page.locator("#verify-notice [type=submit]").click()
    [mail] = [m for m in outbox(app) if m["To"] == "new@example.org"]
    link = re.search(r"https?://[^/\s]+(/verify/\S+)", mail.get_body().get_content()).group(1)
    check_page(page, f"{live_server}{link}?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_form_with_errors_is_accessible(live_server, page, lang):
    """Errors are announced and tied to their fields (aria-invalid, aria-describedby)."""
    page.goto(f"{live_server}/register?lang={lang}")
    page.locator("#email").fill("not an e-mail address")
    with page.expect_navigation() as nav:
        page.locator("form.form [type=submit]").click()
    assert nav.value.status == 400
    for field in ("email", "display_name", "password", "consent"):
        control = page.locator(f"#{field}")
        assert control.get_attribute("aria-invalid") == "true", field
        assert f"{field}-error" in (control.get_attribute("aria-describedby") or "").split()
        assert page.locator(f"#{field}-error").inner_text().strip(), field
    violations = _axe.run(page).response["violations"]
    assert not violations, f"{len(violations)} violation(s):\n" + describe(violations)


@pytest.fixture
def event_on_library(library):
    from datetime import datetime, timedelta

    from portal.accounts.models import User
    from portal.events import services
    from portal.extensions import db
    from tests.conftest import make_user

    organizer = make_user(library, email="org@example.org", role="organizer")
    with library.app_context():
        tz = services.zone()
        start = (datetime.now(tz) + timedelta(days=5)).replace(hour=9, minute=0, second=0,
                                                               microsecond=0)
        event = services.create_event(db.session.get(User, organizer), services.EventInput(
            title_zh="世界环境日河道清洁", title_en="River clean-up",
            description_zh="一起清理河道。",
            starts_at=start, ends_at=start + timedelta(hours=3), place="南湖北门",
            district="nanhu", capacity=10, observance_slug="world-environment-day"),
            publish=True)
        return event.id, start


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_event_pages_are_accessible(library_server, page, event_on_library, lang):
    event_id, start = event_on_library
    for path in ["/events", f"/events/calendar?year={start.year}&month={start.month}",
                 f"/events/{event_id}"]:
        joiner = "&" if "?" in path else "?"
        check_page(page, f"{library_server}{path}{joiner}lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_volunteer_pages_are_accessible(library, library_server, page, event_on_library, lang):
    from tests.conftest import make_user

    event_id, _start = event_on_library
    make_user(library, email="v@example.org")
    login(page, library_server, "v@example.org")
    page.goto(f"{library_server}/events/{event_id}")
    page.locator(".signup-box form button").click()
    for path in ["/my/events", "/my/hours", f"/events/{event_id}"]:
        check_page(page, f"{library_server}{path}?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_household_pages_are_accessible(library, library_server, page, lang):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.households import services as hh
    from tests.conftest import make_user

    uid = make_user(library, email="family@example.org")
    make_user(library, email="staff@example.org", role="organizer")
    login(page, library_server, "family@example.org")
    check_page(page, f"{library_server}/household?lang={lang}", lang)  # registration form
    with library.app_context():
        household = hh.register(db.session.get(User, uid), hh.HouseholdInput(
            name="王家", district="nanhu", members=3, show_on_wall=True))
        hh.set_pledges(household, ["sort-kitchen-waste", "standby-power-off"])
        hh.report(household, hh.reportable_months()[0], ["sort-kitchen-waste"])
    for path in ["/household", "/households", "/verify?code=NOSUCHCODE"]:
        page.goto(f"{library_server}{path}{'&' if '?' in path else '?'}lang={lang}")
        results = _axe.run(page)
        assert not results.response["violations"], describe(results.response["violations"])
    page.locator("header form button.link-button").click()
    login(page, library_server, "staff@example.org")
    check_page(page, f"{library_server}/manage/households?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_school_pages_are_accessible(library, library_server, page, lang):
    from datetime import date

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.schools import services as sc
    from tests.conftest import make_user

    teacher = make_user(library, email="teacher@example.org")
    admin = make_user(library, email="admin@example.org", role="admin")
    with library.app_context():
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, db.session.get(User, admin))
        post = sc.save_activity(db.session.get(User, teacher), school, sc.ActivityInput(
            "湿地观鸟", "我们在湘家荡观察白鹭。", date(2026, 11, 20), ["nature"]))
        sc.submit(db.session.get(User, teacher), post.id, True)
        sc.approve(post.id, db.session.get(User, admin))
        run_due_jobs()
        post_id, slug = post.id, school.slug
    for path in ["/schools", f"/schools/{slug}", f"/activities/{post_id}"]:
        check_page(page, f"{library_server}{path}?lang={lang}", lang)
    login(page, library_server, "teacher@example.org")
    for path in ["/schools/apply", "/schools/mine", f"/schools/{slug}/activities/new",
                 f"/activities/{post_id}/edit"]:
        check_page(page, f"{library_server}{path}?lang={lang}", lang)
    page.locator("header form button.link-button").click()
    login(page, library_server, "admin@example.org")
    for path in ["/manage/schools", "/manage/moderation", f"/manage/moderation/{post_id}",
                 "/manage/audit"]:
        check_page(page, f"{library_server}{path}?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_and_open_data_are_accessible(library, library_server, page, lang):
    from tests.conftest import make_user

    for path in ["/dashboard", "/open-data"]:
        check_page(page, f"{library_server}{path}?lang={lang}", lang)
    make_user(library, email="org@example.org", role="organizer")
    login(page, library_server, "org@example.org")
    check_page(page, f"{library_server}/dashboard/staff?lang={lang}", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_background_jobs_page_is_accessible(library, library_server, page, lang):
    from portal.db import writing
    from portal.jobs import services as jobs
    from portal.jobs.models import DEAD, Job
    from tests.conftest import make_user

    with library.app_context():
        with writing():
            jobs.enqueue("search.index", {"kind": "article", "id": "missing"})
        from portal.extensions import db

        with writing():
            db.session.execute(db.update(Job).values(state=DEAD, attempts=8,
                                                     last_error="OSError: disk full"))
    make_user(library, email="admin@example.org", role="admin")
    login(page, library_server, "admin@example.org")
    check_page(page, f"{library_server}/dashboard/staff?lang={lang}", lang)
    check_page(page, f"{library_server}/manage/jobs?lang={lang}", lang)
    assert "disk full" in page.content()


def run_due_jobs():
    """What the job worker does, inside the caller's app context."""
    return _work(burst=True, schedule=False)
