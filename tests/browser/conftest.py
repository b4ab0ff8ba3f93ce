"""Fixtures for the browser tests: a real Chromium (Debian's) driven by Playwright's sync API,
and the portal served over HTTP by a werkzeug server in a background thread.

Chromium is found through ``PORTAL_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on the
PATH.  Without it the browser tests are skipped, unless ``PORTAL_REQUIRE_BROWSER=1`` (CI), in
which case they fail.  Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import PASSWORD, make_user

MISSING = "Chromium not found: install Debian's chromium package or set PORTAL_CHROMIUM"

# We run as root (hence --no-sandbox) on a closed network: the last four flags stop Chromium
# from phoning home (updates, sync, field trials), which would only stall or log errors.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# A person whose browser asks for Chinese, the portal's default language.
BROWSER_LOCALE = "zh-CN"
TIMEOUT_MS = 10_000


def find_chromium() -> str | None:
    configured = os.environ.get("PORTAL_CHROMIUM")
    if configured:
        path = shutil.which(configured)  # an absolute path or a name on the PATH
        return path if path else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str):
    if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        configured = os.environ.get("PORTAL_CHROMIUM")
        _unavailable(MISSING + (f" (PORTAL_CHROMIUM={configured!r} is not an executable)"
                                if configured else ""))
    return path


@pytest.fixture(scope="session", autouse=True)
def _chromium_first(chromium_path):
    """Skip (or fail) before any app or database is built for a test that cannot run."""


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover - depends on the environment
        _unavailable(f"Playwright is not installed ({err}): pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (each a fresh profile: no cookies); all closed after the test."""
    contexts = []

    def factory(**options):
        options.setdefault("locale", BROWSER_LOCALE)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a new context of its own."""
    return new_context().new_page()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test output readable
        pass


@contextmanager
def _serve(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's app (fresh database and search index) served on 127.0.0.1; yields its URL."""
    with _serve(app) as url:
        yield url


@pytest.fixture
def library_server(library) -> Iterator[str]:
    """Like ``live_server``, with the real library loaded and indexed."""
    with _serve(library) as url:
        yield url


@pytest.fixture
def user(app) -> dict:
    """A registered citizen to sign in with."""
    email = "citizen@example.org"
    make_user(app, email=email, name="测试用户")
    return {"email": email, "password": PASSWORD}


@pytest.fixture
def sign_in_form(live_server):
    """Sign in through the login form, as a person would; ``page`` ends on the next page."""

    def do(page, email: str, password: str = PASSWORD, lang: str | None = None) -> None:
        page.goto(f"{live_server}/login" + (f"?lang={lang}" if lang else ""))
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        with page.expect_navigation():
            page.locator("form.form [type=submit]").click()

    return do


def login(page, base: str, email: str, password: str = PASSWORD, lang: str | None = None):
    """Sign in through the real login form of the server at ``base``."""
    page.goto(f"{base}/login" + (f"?lang={lang}" if lang else ""))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form.form [type=submit]").click()
