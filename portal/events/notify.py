"""Mails about sign-ups, each with the event's time, place and an .ics attachment.

Rendering only: the job handler in ``services`` decides whether to send and passes what the
mail needs (this module knows no services)."""

from __future__ import annotations

from portal import mail
from portal.events import ics
from portal.events.models import Signup
from portal.i18n import _l, force_locale

SUBJECTS = {
    "confirmed": _l("You have a place: %(title)s"),
    "waitlisted": _l("You are on the waiting list: %(title)s"),
    "promoted": _l("A place has become free for you: %(title)s"),
    "event_cancelled": _l("Cancelled: %(title)s"),
    "reminder": _l("Tomorrow: %(title)s"),
}


def send(signup: Signup, kind: str, position: int | None) -> None:
    """Render and send; raises when the mail could not be handed over (the job retries)."""
    user, event = signup.user, signup.event
    locale = user.locale or "zh"
    with force_locale(locale):
        title = event.title(locale)
        subject = SUBJECTS[kind] % {"title": title}
        attachment = mail.Attachment(
            "event.ics", ics.single(event, locale,
                                    method="CANCEL" if kind == "event_cancelled" else None),
            "text", "calendar")
    mail.send_template(user.email, locale, subject, f"events/mail/{kind}.txt",
                       attachments=(attachment,), user=user, event=event, title=title,
                       position=position)
