"""The audit log: every staff action in every feature, one row each, told in words.

Features call ``record`` inside their unit of work and describe each action once, at import
time, with ``describe`` (a lazy gettext sentence with ``{actor}``, ``{label}`` and the data's
keys).  The staff page, its blueprint and the registration (``init_app``) are in ``views``."""

from portal.audit.services import count_word, describe, forget, kind_word, record, value_words

__all__ = ["count_word", "describe", "forget", "kind_word", "record", "value_words"]
