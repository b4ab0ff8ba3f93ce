"""Configuration: defaults here, then ``instance/config.py``, then ``PORTAL_*`` variables.

Only this module reads the environment.  ``load_config`` is called once by ``create_app``.
"""

from __future__ import annotations

import os
import secrets
import types
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # Paths
    CONTENT_DIR = str(ROOT / "content")
    # Database: None means "portal.sqlite3 in the instance folder".
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 10_000

    # Languages and time
    LANGUAGES = ("zh", "en")
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANG_COOKIE_NAME = "lang"

    # Sessions and cookies
    HTTPS = False
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_NAME = "portal_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    # A sign-in without "remember me" ends server-side after this long.
    SESSION_LIFETIME = timedelta(hours=12)

    # Accounts
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 128
    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_LOCKOUT = timedelta(minutes=15)
    PASSWORD_RESET_VALID_FOR = timedelta(hours=1)
    # A registration's e-mail verification link is valid this long (a new one can be asked for).
    EMAIL_VERIFY_VALID_FOR = timedelta(days=3)
    # Reports about a school post count towards hiding it only from verified accounts at least
    # this old (SCHOOLS_REPORTS_TO_HIDE says how many such reports hide it).
    REPORTS_MIN_ACCOUNT_AGE = timedelta(days=7)
    # Argon2id cost; tests lower it to stay fast (see tests/conftest.py).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    # Mail: SMTP when MAIL_SMTP_HOST is set, else files in instance/outbox/.
    MAIL_SENDER = "Green Jiaxing <no-reply@localhost>"
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 587
    MAIL_SMTP_USER: str | None = None
    MAIL_SMTP_PASSWORD: str | None = None
    MAIL_SMTP_STARTTLS = True
    MAIL_SMTP_TIMEOUT = 20  # seconds; only the job worker ever waits for it
    # The site's public address (https://green.example.gov.cn): every absolute link in mail,
    # feeds and calendar files is built from it (portal/links.py).
    BASE_URL: str | None = None
    # Host names requests may carry (Flask's TRUSTED_HOSTS: any other Host header gets 400;
    # ".example.org" allows its subdomains). Without BASE_URL, links use the request's host
    # only when this is set, and the job worker the first name listed.
    TRUSTED_HOSTS: list | None = None
    # Reverse proxies in front (nginx: 1): X-Forwarded-For/-Proto/-Host are believed from this
    # many hops (Werkzeug's ProxyFix); 0 believes none of them.
    PROXY_FIX = 0

    # Jobs (portal/jobs): the worker's batch, lease, retries and retention.
    JOBS_BATCH_SIZE = 20
    JOBS_POLL_SECONDS = 1.0
    JOBS_LEASE_SECONDS = 300  # a job whose worker died is claimable again after this
    JOBS_MAX_ATTEMPTS = 8  # then the job is dead and listed for admins
    JOBS_BACKOFF_SECONDS = 30  # first retry after 15–30 s, doubling each time …
    JOBS_BACKOFF_MAX_SECONDS = 6 * 3600  # … up to 3–6 hours
    JOBS_KEEP_DONE_DAYS = 7
    JOBS_CLAIM_LOCKING = True  # False only for the control test: workers may collide
    # Reminders for tomorrow's events are mailed from this hour (site time) on.
    EVENTS_REMINDER_HOUR = 10

    # Rate limits (portal/limits.py): counts in memory, per process, unless a Redis address is
    # given (redis://127.0.0.1:6379/0), whose counts all workers share.  Limits are strings
    # such as "10 per minute;50 per hour".
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URL: str | None = None
    RATELIMIT_LOGIN = "30 per minute;300 per hour"  # sign-in per client address
    RATELIMIT_LOGIN_ACCOUNT = "10 per minute;60 per hour"  # sign-in per e-mail in the form
    RATELIMIT_REGISTER = "10 per hour;50 per day"
    RATELIMIT_RESET_REQUEST = "10 per hour"  # forgot-password forms per client address
    RATELIMIT_RESET_MAIL = "3 per hour"  # reset mails per target address (silently dropped)
    RATELIMIT_INVITE = "30 per hour"  # editor invitations per client address
    RATELIMIT_INVITE_EMAIL = "5 per day"  # ... and per invited e-mail
    RATELIMIT_REPORT = "10 per hour;30 per day"  # post reports per client address
    RATELIMIT_API_WRITE = "60 per minute;1000 per hour"  # API writes per token (or address)

    # Markdown typed by people (event descriptions, school posts) is rendered once, when it is
    # saved, in a separate process that is stopped after this many seconds: text that takes
    # longer (or breaks the renderer) is refused with a message and nothing is saved.
    MARKDOWN_BUDGET = 1.0

    # Anonymous pages (portal/pagecache.py): kept rendered until a unit of work changes a table
    # they show, and at most this many seconds; in this process's memory, or in Redis
    # (redis://127.0.0.1:6379/1) shared by every app server.
    PAGE_CACHE_ENABLED = True
    PAGE_CACHE_SECONDS = 60
    PAGE_CACHE_REDIS_URL: str | None = None
    # How long a process reuses the change counters it read (0: read them for every page): a
    # change made through another process shows at most this much later (this process's own
    # changes at once).
    PAGE_CACHE_CHECK_SECONDS = 1.0

    # Where the search index lives: "whoosh" (files in the instance folder, one server) or
    # "postgresql" (tables in the site's PostgreSQL database, shared by every app server).
    SEARCH_BACKEND = "whoosh"

    # The editorial back office: when on, the person who saved an article's last revision
    # cannot publish it (a second person reviews).
    EDITORIAL_SECOND_REVIEW = False

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024


class ConfigError(RuntimeError):
    """A ``PORTAL_*`` value that does not fit its setting's type (raised at start-up)."""


# Every setting that can come from the environment, with its one type.  ``str | None`` and
# ``int | None``: an empty value means None.  ``timedelta``: seconds (``900``) or ISO 8601
# (``PT15M``, ``P1D``).  ``list``: comma-separated.  ``dict``: a JSON object.
# tests/test_config.py checks that every default is listed here and parses its string form.
SETTINGS: dict[str, object] = {
    "INSTANCE_PATH": str,
    "SECRET_KEY": str,
    "CONTENT_DIR": str,
    "DATABASE_URL": str | None,
    "SQLALCHEMY_ENGINE_OPTIONS": dict,
    "SQLITE_BUSY_TIMEOUT_MS": int,
    "LANGUAGES": list,
    "BABEL_DEFAULT_LOCALE": str,
    "BABEL_DEFAULT_TIMEZONE": str,
    "BABEL_TRANSLATION_DIRECTORIES": str,
    "LANG_COOKIE_NAME": str,
    "HTTPS": bool,
    "SESSION_COOKIE_NAME": str,
    "SESSION_COOKIE_HTTPONLY": bool,
    "SESSION_COOKIE_SAMESITE": str,
    "REMEMBER_COOKIE_NAME": str,
    "REMEMBER_COOKIE_HTTPONLY": bool,
    "REMEMBER_COOKIE_SAMESITE": str,
    "REMEMBER_COOKIE_DURATION": timedelta,
    "SESSION_LIFETIME": timedelta,
    "PASSWORD_MIN_LENGTH": int,
    "PASSWORD_MAX_LENGTH": int,
    "LOGIN_MAX_FAILURES": int,
    "LOGIN_FAILURE_WINDOW": timedelta,
    "LOGIN_LOCKOUT": timedelta,
    "PASSWORD_RESET_VALID_FOR": timedelta,
    "EMAIL_VERIFY_VALID_FOR": timedelta,
    "REPORTS_MIN_ACCOUNT_AGE": timedelta,
    "ARGON2_TIME_COST": int,
    "ARGON2_MEMORY_COST": int,
    "ARGON2_PARALLELISM": int,
    "MAIL_SENDER": str,
    "MAIL_SMTP_HOST": str | None,
    "MAIL_SMTP_PORT": int,
    "MAIL_SMTP_USER": str | None,
    "MAIL_SMTP_PASSWORD": str | None,
    "MAIL_SMTP_STARTTLS": bool,
    "MAIL_SMTP_TIMEOUT": float,
    "BASE_URL": str | None,
    "TRUSTED_HOSTS": list | None,
    "PROXY_FIX": int,
    "JOBS_BATCH_SIZE": int,
    "JOBS_POLL_SECONDS": float,
    "JOBS_LEASE_SECONDS": int,
    "JOBS_MAX_ATTEMPTS": int,
    "JOBS_BACKOFF_SECONDS": int,
    "JOBS_BACKOFF_MAX_SECONDS": int,
    "JOBS_KEEP_DONE_DAYS": int,
    "JOBS_CLAIM_LOCKING": bool,
    "EVENTS_REMINDER_HOUR": int,
    "RATELIMIT_ENABLED": bool,
    "RATELIMIT_STORAGE_URL": str | None,
    "RATELIMIT_LOGIN": str,
    "RATELIMIT_LOGIN_ACCOUNT": str,
    "RATELIMIT_REGISTER": str,
    "RATELIMIT_RESET_REQUEST": str,
    "RATELIMIT_RESET_MAIL": str,
    "RATELIMIT_INVITE": str,
    "RATELIMIT_INVITE_EMAIL": str,
    "RATELIMIT_REPORT": str,
    "RATELIMIT_API_WRITE": str,
    "MARKDOWN_BUDGET": float,
    "PAGE_CACHE_ENABLED": bool,
    "PAGE_CACHE_SECONDS": int,
    "PAGE_CACHE_REDIS_URL": str | None,
    "PAGE_CACHE_CHECK_SECONDS": float,
    "SEARCH_BACKEND": str,
    "EDITORIAL_SECOND_REVIEW": bool,
    "WTF_CSRF_TIME_LIMIT": int | None,
    "MAX_CONTENT_LENGTH": int,
    # Defaults set by features (their init_app):
    "EVENTS_SIGNUP_LOCKING": bool,
    "SCHOOLS_REPORTS_TO_HIDE": int,
    "SCHOOLS_INVITE_DAYS": int,
    "SCHOOLS_UPLOAD_MAX_PIXELS": int,
    "LOGIN_ACCOUNT_MAX_FAILURES": int,
    "SEARCH_DIR": str | None,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _seconds_or_iso(text: str) -> timedelta:
    try:
        seconds = float(text)
    except ValueError:
        if not text.upper().startswith("P"):
            raise ValueError("not a duration") from None
        value = TypeAdapter(timedelta).validate_python(text.upper())
    else:
        value = timedelta(seconds=seconds)
    if value < timedelta(0):
        raise ValueError("negative duration")
    return value


_EXPECTED = {
    bool: "1/0, true/false, yes/no or on/off",
    int: "a whole number",
    float: "a number",
    timedelta: "a duration in seconds (900) or ISO 8601 (PT15M)",
    dict: "a JSON object",
}


def parse_setting(name: str, raw: str):
    """The typed value of ``PORTAL_<name>=raw``; ``ConfigError`` naming the variable if it
    does not fit.  Names not in ``SETTINGS`` stay strings (nothing is guessed)."""
    kind = SETTINGS.get(name, str)
    text = raw.strip()
    if isinstance(kind, types.UnionType):  # "X | None"
        if not text:
            return None
        kind = next(k for k in kind.__args__ if k is not type(None))
    try:
        if kind is str:
            return raw
        if kind is list:
            return [item.strip() for item in raw.split(",") if item.strip()]
        if kind is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError("not a boolean")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is timedelta:
            return _seconds_or_iso(text)
        if kind is dict:
            return TypeAdapter(dict).validate_json(text)
    except (ValueError, ValidationError):
        raise ConfigError(f"PORTAL_{name}={raw!r} is not valid: expected {_EXPECTED[kind]}."
                          ) from None
    raise AssertionError(f"unknown setting type {kind!r} for {name}")


def environment_overrides(environ=os.environ) -> dict:
    out = {}
    for key, value in environ.items():
        if not key.startswith("PORTAL_") or key.startswith("PORTAL_TEST_"):
            continue
        name = key[len("PORTAL_"):]
        out[name] = parse_setting(name, value)
    return out


def instance_path_from_env(environ=os.environ) -> str:
    return os.path.abspath(environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")


def load_config(app, overrides: dict | None = None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(environment_overrides())
    if overrides:
        app.config.update(overrides)
    cfg = app.config

    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = ensure_secret_key(app.instance_path)

    url = cfg.get("DATABASE_URL") or "sqlite:///" + os.path.join(app.instance_path,
                                                                 "portal.sqlite3")
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True,
                                            **cfg["SQLALCHEMY_ENGINE_OPTIONS"]}

    base = cfg.get("BASE_URL")
    if base and (urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc):
        raise ConfigError(f"PORTAL_BASE_URL={base!r} is not valid: expected an address such as "
                          "https://green.example.gov.cn.")
    if cfg.get("PROXY_FIX", 0) < 0:
        raise ConfigError(f"PORTAL_PROXY_FIX={cfg['PROXY_FIX']!r} is not valid: expected 0 or "
                          "the number of proxies in front.")

    https = bool(cfg.get("HTTPS"))
    cfg["SESSION_COOKIE_SECURE"] = https
    cfg["REMEMBER_COOKIE_SECURE"] = https
    cfg["PREFERRED_URL_SCHEME"] = "https" if https else "http"
    if cfg["REMEMBER_COOKIE_DURATION"] > timedelta(days=14):
        cfg["REMEMBER_COOKIE_DURATION"] = timedelta(days=14)
    cfg["PERMANENT_SESSION_LIFETIME"] = cfg["REMEMBER_COOKIE_DURATION"]


def ensure_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it once (atomically) if it does not exist.

    The key never lives in the repository; two processes starting together agree on one key.
    """
    path = os.path.join(instance_path, "secret_key")
    os.makedirs(instance_path, exist_ok=True)
    if not os.path.exists(path):
        # Write a complete file under a temporary name, then link it into place: the link
        # fails if another process won the race, and nobody ever reads a half-written key.
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path) as fh:
        key = fh.read().strip()
    if len(key) < 32:
        raise RuntimeError(f"The secret key in {path} is too short; delete the file to renew it.")
    return key
