"""Strict JSON for request bodies: the application's JSON provider (``app.json``).

Every JSON body reaches the views through Flask's ``request.get_json`` (flask-openapi3 calls
it with ``silent=True`` before the view runs), which decodes with ``app.json.loads``: this is
the one place where a body becomes Python values, so it is where bad JSON is refused.
Answers are written by the provider's ``dumps``, which is Flask's, unchanged.  Python's
``json`` module accepts things that are not JSON or that break what comes after it:

* nesting so deep that the decoder raises ``RecursionError`` (``"[" * 100000``) — not a
  ``ValueError``, so ``silent=True`` does not catch it and the request ended in a 500;
* lone surrogates (``"\\ud800"``): a Python ``str`` but not text — PostgreSQL refuses to
  store it and it cannot be encoded as UTF-8 in the answer;
* ``NaN``, ``Infinity`` and numbers beyond a float (``1e999``), which are not JSON.

Each is refused with :class:`BadJSON`, a ``RuleError`` (400 ``bad_json``, translated message):
it is not a ``ValueError``, so ``silent=True`` lets it through to the error handler instead of
turning it into ``None``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from portal.i18n import _
from portal.rules import RuleError

# API bodies are flat objects with a list or two; nothing legitimate comes near this.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJSON(RuleError):
    def __init__(self, message: str):
        super().__init__("bad_json", message, 400)


def _constant(name: str):
    raise BadJSON(_("Numbers must be finite: NaN, Infinity and numbers too large for a "
                    "float are not accepted."))


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _constant(text)
    return value


def _check(value: Any) -> None:
    """Refuse nesting beyond :data:`MAX_DEPTH` and lone surrogates in keys and strings
    (iteratively: the value may be as deep as the decoder allowed)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise BadJSON(_("Text must not contain lone surrogates (\\ud800 to \\udfff)."))
            continue
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadJSON(_("The JSON is nested too deeply (at most %(n)s levels).",
                                n=MAX_DEPTH))
            if isinstance(node, dict):
                stack.extend((key, depth) for key in node)
                stack.extend((item, depth + 1) for item in node.values())
            else:
                stack.extend((item, depth + 1) for item in node)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` refusing what the module docstring lists."""
    kwargs.setdefault("parse_constant", _constant)
    kwargs.setdefault("parse_float", _float)
    try:
        value = json.loads(s, **kwargs)
    except RecursionError:
        raise BadJSON(_("The JSON is nested too deeply (at most %(n)s levels).",
                        n=MAX_DEPTH)) from None
    _check(value)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's provider whose ``loads`` is :func:`loads`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)

    @classmethod
    def replacing(cls, app) -> StrictJSONProvider:
        """A strict provider with the settings of the application's current one."""
        provider, old = cls(app), app.json
        for name in ("ensure_ascii", "sort_keys", "compact", "mimetype"):
            setattr(provider, name, getattr(old, name))
        return provider
