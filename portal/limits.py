"""Rate limits: the one door to Flask-Limiter.

Each application gets its own ``Limiter`` (``init_app``, called last by ``create_app``), so two
app objects in one process never share counters or settings.  Counts live in memory (per
process: each gunicorn worker counts on its own) unless ``RATELIMIT_STORAGE_URL``
(``PORTAL_RATELIMIT_STORAGE_URL=redis://127.0.0.1:6379/0``) names a Redis server, whose counts
every worker and server share.  The limits are settings (``RATELIMIT_*`` in
``portal/config.py``, limit strings such as ``"10 per minute;50 per hour"``); a request over
one is answered 429 with ``Retry-After`` by ``portal.core.errors``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from portal.accounts.services import normalise_email
from portal.config import ConfigError

log = logging.getLogger(__name__)

#: The limit settings (their defaults and comments are in ``portal.config.Defaults``).
SETTINGS = ["RATELIMIT_LOGIN", "RATELIMIT_LOGIN_ACCOUNT", "RATELIMIT_REGISTER",
            "RATELIMIT_RESET_REQUEST", "RATELIMIT_RESET_MAIL", "RATELIMIT_INVITE",
            "RATELIMIT_INVITE_EMAIL", "RATELIMIT_REPORT", "RATELIMIT_API_WRITE"]

#: The HTML endpoints that are limited: (endpoint, setting, key).
_ROUTES = [
    ("accounts.login", "RATELIMIT_LOGIN", "address"),
    ("accounts.login", "RATELIMIT_LOGIN_ACCOUNT", "form_email"),
    ("accounts.register", "RATELIMIT_REGISTER", "address"),
    ("accounts.forgot_password", "RATELIMIT_RESET_REQUEST", "address"),
    ("schools.editors", "RATELIMIT_INVITE", "address"),
    ("schools.editors", "RATELIMIT_INVITE_EMAIL", "form_email"),
    ("schools.report", "RATELIMIT_REPORT", "address"),
]

WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _digest(text: str) -> str:
    """Keys never hold an e-mail or token in clear (Redis is shared)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def address_key() -> str:
    return get_remote_address() or "unknown"


def form_email_key() -> str:
    return "email:" + _digest(normalise_email(request.form.get("email")))


def api_key() -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return "token:" + _digest(header[7:].strip())
    return address_key()


_KEYS = {"address": address_key, "form_email": form_email_key}


def _setting(name: str):
    return lambda: current_app.config[name]


def limiter() -> Limiter:
    return current_app.extensions["portal_limiter"]


def init_app(app) -> None:
    """Make this application's limiter and put the limits on their views (call after every
    blueprint is registered)."""
    cfg = app.config
    for name in SETTINGS:
        try:
            parse_many(cfg[name])
        except ValueError:
            raise ConfigError(f"PORTAL_{name}={cfg[name]!r} is not valid: expected limits such "
                              "as '10 per minute;50 per hour'.") from None
    cfg["RATELIMIT_STORAGE_URI"] = cfg.get("RATELIMIT_STORAGE_URL") or "memory://"
    cfg["RATELIMIT_KEY_PREFIX"] = "portal"  # Flask-Limiter's own settings, not ours to vary
    cfg["RATELIMIT_STRATEGY"] = "fixed-window"
    # Redis away: count in this process's memory until it is back (checked by Flask-Limiter),
    # and never let the store's failure become a 500.
    cfg["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    cfg["RATELIMIT_SWALLOW_ERRORS"] = True
    own = Limiter(key_func=address_key)
    own.init_app(app)
    app.extensions["portal_limiter"] = own
    for endpoint, setting, key in _ROUTES:
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = own.limit(_setting(setting), key_func=_KEYS[key],
                                                 methods=["POST"], scope=setting)(view)
    own.shared_limit(_setting("RATELIMIT_API_WRITE"), scope="RATELIMIT_API_WRITE",
                     key_func=api_key, methods=WRITES)(app.blueprints["api"])


def allow(setting: str, value: str) -> bool:
    """Count one use of ``value`` (say, an e-mail address) against the limit ``setting``;
    False when that is over the limit (nothing is raised: the caller decides what to do)."""
    own = limiter()
    if not own.enabled:
        return True
    key = f"{setting}:{_digest(normalise_email(value))}"
    items = parse_many(current_app.config[setting])
    try:
        return all([own.limiter.hit(item, key) for item in items])
    except Exception:  # the shared store is away (its client's errors have no common base)
        log.warning("rate limit store unavailable: counting %s in memory", setting)
        fallback = getattr(own, "_fallback_limiter", None)  # Flask-Limiter's in-memory copy
        if fallback is None:
            return True
        return all([fallback.hit(item, key) for item in items])


def retry_after() -> int:
    """Seconds until the limit this request broke lets it through again (at least 1)."""
    try:
        breached = limiter().current_limit
    except Exception:  # no limiter on this app, or its storage failed
        breached = None
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))
