"""The one rule error: a service said no.

Every feature raises ``RuleError`` when a rule refuses a change.  It carries a stable
``code`` (for the API and tests), a translated ``message`` (for people), the HTTP ``status``
that fits and, for forms, ``fields`` naming what is wrong with each input.  One handler turns
it into the JSON error shape under ``/api/`` and another into a flash message on pages
(``portal.core.errors``); views that redisplay a form put ``fields`` next to the inputs.
"""

from __future__ import annotations


class RuleError(Exception):
    def __init__(self, code: str, message: str, status: int = 409,
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.message, self.status = code, str(message), status
        self.fields = dict(fields or {})
