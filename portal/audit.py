"""The audit log: every staff action in every feature, one row each, told in words.

(Stub laid by the lead for issue 14; the inbox/audit helper replaces the storage.)  Features
call ``record`` inside their unit of work and describe their actions once with ``describe``."""

from __future__ import annotations

from portal.extensions import db
from portal.schools.models import ModerationLog  # stub: the inbox helper moves the model here

SENTENCES: dict = {}


def describe(action: str, sentence) -> None:
    """``sentence``: a lazy gettext string with ``{actor}``, ``{label}`` and the data's keys."""
    SENTENCES[action] = sentence


def record(actor, action: str, target: str, label: str = "", reason: str = "", **data) -> None:
    """One staff action: ``target`` is "kind:id" ("activity:12", "user:3"), ``label`` what
    people call it at the time ("Tree planting"), ``data`` the details the sentence names."""
    db.session.add(ModerationLog(actor_id=actor.id if actor else None, action=action,
                                 target=target, reason=(reason or "")[:500]))
