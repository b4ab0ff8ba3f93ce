"""The one door to gettext and Babel formatting.

Python code imports ``_``, ``_l`` and ``_n`` from here; templates get ``_``/``ngettext`` from
Flask-Babel's Jinja extension and the formatting filters registered in ``init_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from urllib.parse import urlencode

from babel.dates import format_skeleton as babel_skeleton
from babel.dates import format_timedelta as babel_timedelta
from flask import current_app, g, has_app_context, request
from flask_babel import force_locale, get_locale
from flask_babel import format_date as _format_date
from flask_babel import format_datetime as _format_datetime
from flask_babel import format_decimal as _format_decimal
from flask_babel import format_time as _format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext as _n
from markupsafe import Markup, escape

from portal.extensions import babel

__all__ = ["_", "_l", "_n", "force_locale", "current_locale", "html_lang", "select_locale",
           "visitor_locale",
           "Localized", "pick", "pick_version", "lang_attr",
           "format_datetime", "format_date", "format_time", "format_number", "format_skeleton",
           "format_age",
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
    return visitor_locale(request.cookies, request.accept_languages)


def visitor_locale(cookies: Mapping, accept_languages) -> str:
    """The language of a visitor who did not choose one in the URL and is not signed in: the
    cookie → Accept-Language → zh (also used by the page cache, before Flask runs)."""
    from_cookie = normalise(cookies.get(current_app.config["LANG_COOKIE_NAME"]))
    if from_cookie:
        return from_cookie
    best = accept_languages.best_match(["zh", "zh-CN", "zh-Hans", "en", "en-US", "en-GB"])
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    locale = get_locale()  # a babel Locale: its language is the code we use ("zh", "en")
    if locale is None:
        return str(current_app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]
    return locale.language


def html_lang(lang: str | None = None) -> str:
    """The HTML ``lang`` value of a language (``zh`` → ``zh-CN``); the page's by default."""
    lang = lang or current_locale()
    return HTML_LANG.get(lang, lang)


# -- bilingual fields -------------------------------------------------------------------------

class Localized(str):
    """A text in one language: a ``str`` that also knows its language (``lang``, e.g. "zh")
    and whether it stands in for the language asked for, which was missing (``fallback``)."""

    lang: str
    fallback: bool

    def __new__(cls, text: str = "", lang: str = "zh", fallback: bool = False):
        self = super().__new__(cls, text)
        self.lang, self.fallback = lang, fallback
        return self

    def __reduce__(self):
        return Localized, (str(self), self.lang, self.fallback)


def _languages() -> list[str]:
    return list(current_app.config["LANGUAGES"]) if has_app_context() else list(HTML_LANG)


def _present(value) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def pick_version(options: Mapping, locale: str | None = None):
    """From ``{language: value}``, ``(language, value)`` for ``locale`` (the current language
    by default), else for the site's default language, else for any other; ``(None, None)``
    when every value is missing or empty.

    The one place where a language is chosen: ``pick`` uses it for texts, the library for the
    language versions of an article."""
    wanted = (locale or current_locale()).replace("-", "_").split("_")[0]
    default = current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "zh"
    order = dict.fromkeys([wanted, default, *_languages(), *options])
    return next(((lang, options[lang]) for lang in order
                 if lang in options and _present(options[lang])), (None, None))


def _get(source, name: str):
    return source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)


def _versions(source, field: str | None) -> dict:
    """``{language: text}`` of a bilingual field, whatever shape holds it."""
    if field is not None:
        split = {lang: _get(source, f"{field}_{lang}") for lang in _languages()}
        if any(v is not None for v in split.values()):  # title_zh / title_en columns
            return split
        lang, source = _get(source, "lang"), _get(source, field)
        if isinstance(source, str):  # a record written in one language (an article version)
            return {lang or _languages()[0]: source}
    return {lang: _get(source, lang) for lang in _languages()}  # {zh, en} or .zh / .en


def pick(source, field: str | None = None, locale: str | None = None) -> Localized:
    """The text of a bilingual field in ``locale`` (the current language by default), or in
    the other language when it is missing there.

    ``source`` may hold the field as ``<field>_zh``/``<field>_en`` attributes or keys (an
    event's ``title_zh``), as a ``{zh, en}`` mapping under ``field`` (a target's ``label``),
    or, with no ``field``, be such a mapping or an object with ``zh``/``en`` attributes itself
    (a topic, a division).  An object with a ``lang`` holds ``field`` in that one language.
    The result says which language it is in and whether that is a fallback; it is empty (in
    the language asked for) when no language has the text."""
    wanted = (locale or current_locale()).replace("-", "_").split("_")[0]
    lang, text = pick_version(_versions(source, field), wanted)
    if lang is None:
        return Localized("", wanted)
    return Localized(str(text), lang, fallback=lang != wanted)


def lang_attr(value) -> Markup:
    """`` lang="…"`` for an element showing ``value`` (a ``Localized``, anything with a
    ``lang``, or a language code) when it is not in the page's language, else nothing."""
    lang = value if type(value) is str else getattr(value, "lang", None)
    if not lang or lang == current_locale():
        return Markup("")
    return Markup(' lang="%s"') % escape(html_lang(lang))


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


def format_age(delta) -> str:
    """How long ago, in words ("3 天前", "3 days ago"); under a minute: "now"."""
    if delta.total_seconds() < 60:
        return _("just now")
    return babel_timedelta(-delta, add_direction=True, threshold=1.0,
                           locale=current_locale())


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
                                 switch_lang_url=switch_lang_url, pick=pick, lang_attr=lang_attr)
