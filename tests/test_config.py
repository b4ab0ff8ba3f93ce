"""Every setting has one type; its environment form is parsed to it, or start-up fails."""

from __future__ import annotations

import re
import types
from datetime import timedelta

import pytest

from portal import create_app
from portal.config import ROOT, SETTINGS, ConfigError, Defaults, parse_setting
from tests.conftest import PASSWORD, csrf_token, make_user

# For each type: a string form a person would write, and the value it must give.
SAMPLES = {
    bool: [("1", True), ("0", False), ("yes", True), ("Off", False)],
    int: [("2525", 2525), (" 7 ", 7)],
    float: [("2.5", 2.5), ("3", 3.0)],
    str: [("some value", "some value")],
    timedelta: [("900", timedelta(seconds=900)), ("PT15M", timedelta(minutes=15)),
                ("P1DT2H", timedelta(days=1, hours=2))],
    list: [("zh, en", ["zh", "en"])],
    dict: [('{"pool_size": 5}', {"pool_size": 5})],
}

# Settings that need a particular value for the app to start.
BY_NAME = {"DATABASE_URL": [("sqlite://", "sqlite://")],
           "BASE_URL": [("https://green.example.gov.cn", "https://green.example.gov.cn")],
           "CONTENT_DIR": [(str(ROOT / "content"), str(ROOT / "content"))],
           "BABEL_DEFAULT_LOCALE": [("en", "en")],
           "BABEL_DEFAULT_TIMEZONE": [("Asia/Shanghai", "Asia/Shanghai")],
           "SESSION_COOKIE_SAMESITE": [("Strict", "Strict")],
           "REMEMBER_COOKIE_SAMESITE": [("Strict", "Strict")],
           "RATELIMIT_STORAGE_URL": [("memory://", "memory://")],
           "SEARCH_BACKEND": [("whoosh", "whoosh")],
           "PAGE_CACHE_REDIS_URL": [("redis://127.0.0.1:6379/1", "redis://127.0.0.1:6379/1")],
           **{f"RATELIMIT_{n}": [("5 per minute;50 per hour", "5 per minute;50 per hour")]
              for n in ("LOGIN", "LOGIN_ACCOUNT", "REGISTER", "RESET_REQUEST", "RESET_MAIL",
                        "INVITE", "INVITE_EMAIL", "REPORT", "API_WRITE")}}

# create_app() takes the instance folder from its argument here (the test's folder).
NOT_IN_APP = {"INSTANCE_PATH"}


def _cases():
    for name, kind in SETTINGS.items():
        optional = isinstance(kind, types.UnionType)
        base = next(k for k in kind.__args__ if k is not type(None)) if optional else kind
        for raw, value in BY_NAME.get(name, SAMPLES[base]):
            yield pytest.param(name, raw, value, id=f"{name}={raw}")
        if optional:
            yield pytest.param(name, "", None, id=f"{name}=empty")


def test_every_default_has_a_type():
    defaults = {k for k in vars(Defaults) if k.isupper()}
    assert defaults <= set(SETTINGS), defaults - set(SETTINGS)


def test_every_feature_default_has_a_type():
    # Features add their own defaults in init_app (app.config.setdefault) or read them with a
    # fallback (config.get("X", default)): those are settings too.
    pattern = re.compile(r'config\.(?:setdefault|get)\("([A-Z][A-Z0-9_]+)", ')
    names = {m for path in (ROOT / "portal").rglob("*.py")
             for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert names and names <= set(SETTINGS), names - set(SETTINGS)


@pytest.mark.parametrize(("name", "raw", "value"), list(_cases()))
def test_environment_form_of_every_setting(name, raw, value, tmp_path, monkeypatch):
    assert parse_setting(name, raw) == value
    assert type(parse_setting(name, raw)) is type(value)
    if name in NOT_IN_APP:
        return
    monkeypatch.setenv(f"PORTAL_{name}", raw)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config[name] == value


def test_typed_values_reach_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_LOGIN_LOCKOUT", "900")
    monkeypatch.setenv("PORTAL_SESSION_LIFETIME", "PT2H")
    monkeypatch.setenv("PORTAL_JOBS_CLAIM_LOCKING", "0")
    monkeypatch.setenv("PORTAL_JOBS_MAX_ATTEMPTS", "1")  # an int, not True
    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["LOGIN_LOCKOUT"] == timedelta(minutes=15)
    assert app.config["SESSION_LIFETIME"] == timedelta(hours=2)
    assert app.config["JOBS_CLAIM_LOCKING"] is False
    assert app.config["JOBS_MAX_ATTEMPTS"] == 1 and type(app.config["JOBS_MAX_ATTEMPTS"]) is int
    assert app.config["MAIL_SMTP_HOST"] is None


def test_unknown_names_stay_strings():
    assert parse_setting("SOMETHING_ELSE", "1") == "1"


@pytest.mark.parametrize(("name", "raw"), [
    ("LOGIN_LOCKOUT", "fifteen minutes"), ("LOGIN_LOCKOUT", "-5"), ("LOGIN_LOCKOUT", "15:00"),
    ("MAIL_SMTP_PORT", "25.5"), ("HTTPS", "maybe"), ("JOBS_POLL_SECONDS", ""),
    ("SQLALCHEMY_ENGINE_OPTIONS", "[1]"), ("BASE_URL", "green.example.gov.cn"),
    ("PROXY_FIX", "-1"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(name, raw, tmp_path, monkeypatch):
    monkeypatch.setenv(f"PORTAL_{name}", raw)
    with pytest.raises(ConfigError) as err:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert f"PORTAL_{name}=" in str(err.value) and "expected" in str(err.value)


def test_lockout_in_seconds_from_the_environment_works(make_app, monkeypatch):
    # Regression: PORTAL_LOGIN_LOCKOUT=900 used to arrive as the int 900, and every failed
    # sign-in then raised TypeError at ``now + LOGIN_LOCKOUT``.
    monkeypatch.setenv("PORTAL_LOGIN_LOCKOUT", "900")
    monkeypatch.setenv("PORTAL_LOGIN_MAX_FAILURES", "2")
    app = make_app()
    make_user(app)
    client = app.test_client()
    for _ in range(2):
        response = client.post("/login?lang=en", data={
            "email": "user@example.org", "password": "wrong password!!",
            "csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 401  # wrong password, not a 500
    response = client.post("/login?lang=en", data={
        "email": "user@example.org", "password": PASSWORD,
        "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 429
    assert "15 minutes" in response.get_data(as_text=True)
