"""The one door to gettext and Babel formatting.

Python code imports ``_``, ``_l`` and ``_n`` from here; templates get ``_``/``ngettext`` from
Flask-Babel's Jinja extension and the formatting filters registered in ``init_app``.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from babel.dates import format_skeleton as babel_skeleton
from flask import current_app, g, request
from flask_babel import force_locale, get_locale
from flask_babel import format_date as _format_date
from flask_babel import format_datetime as _format_datetime
from flask_babel import format_decimal as _format_decimal
from flask_babel import format_time as _format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext as _n

from portal.extensions import babel

__all__ = ["_", "_l", "_n", "force_locale", "current_locale", "html_lang", "select_locale",
           "format_datetime", "format_date", "format_time", "format_number", "format_skeleton",
           "init_app"]

HTML_LANG = {"zh": "zh-CN", "en": "en"}


def normalise(code: str | None) -> str | None:
    """Map ``zh-CN``, ``zh_Hans``, ``EN-gb`` … to a supported language, or None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].strip().lower()
    return base if base in current_app.config["LANGUAGES"] else None


def select_locale() -> str:
    """``?lang=`` → the signed-in user's choice → the cookie → Accept-Language → zh."""
    if not request:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = normalise(request.args.get("lang"))
    if chosen:
        g.lang_chosen = chosen
        return chosen
    user = g.get("principal")
    if user is not None and normalise(user.locale):
        return normalise(user.locale)
    from_cookie = normalise(request.cookies.get(current_app.config["LANG_COOKIE_NAME"]))
    if from_cookie:
        return from_cookie
    best = request.accept_languages.best_match(
        ["zh", "zh-CN", "zh-Hans", "en", "en-US", "en-GB"])
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]


def html_lang() -> str:
    return HTML_LANG.get(current_locale(), current_locale())


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    return "" if value is None else _format_datetime(value, format)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    return "" if value is None else _format_date(value, format)


def format_time(value: datetime | None, format: str = "short") -> str:
    return "" if value is None else _format_time(value, format)


def format_skeleton(skeleton: str, value: date) -> str:
    """A date in a flexible locale pattern, e.g. "MMMMd" → "6月5日" / "June 5"."""
    return babel_skeleton(skeleton, value, locale=current_locale())


def format_number(value) -> str:
    return _format_decimal(value)


def switch_lang_url(code: str) -> str:
    """The current page in another language (``?lang=`` added, other arguments kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def remember_choice(response):
    """``after_request``: a ``?lang=`` choice is kept in a cookie for later visits."""
    chosen = normalise(request.args.get("lang"))
    if chosen and not request.path.startswith("/api/"):  # the API sets no cookies
        cfg = current_app.config
        response.set_cookie(cfg["LANG_COOKIE_NAME"], chosen, max_age=365 * 24 * 3600,
                            httponly=True, samesite="Lax", secure=bool(cfg.get("HTTPS")))
    return response


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_choice)
    app.jinja_env.filters.update(
        datetime=format_datetime, date=format_date, time=format_time, number=format_number,
        date_pattern=lambda value, skeleton: format_skeleton(skeleton, value))
    app.jinja_env.tests["datetime"] = lambda value: isinstance(value, datetime)
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale,
                                 switch_lang_url=switch_lang_url)
