"""What a household is told on the site (issue 14): the decision on its green-family
application.  The notification's mail replaces the decision mail for these two outcomes;
the periodic review's decisions keep their own mail (``services.MAIL_JOB``)."""

from __future__ import annotations

from portal.i18n import _l
from portal.inbox import services as inbox
from portal.inbox.services import path

APPLICATION = inbox.kind(
    "households.application", label=_l("The decision on my green-family application"),
    sentence={"approved": _l("Your household “{household}” is now a green family. Your "
                             "certificate is on your household's page."),
              "rejected": _l("Your household's green-family application was not approved.")},
    subject={"approved": _l("Your household is a green family"),
             "rejected": _l("Your green-family application was not approved")})

#: The history actions told by a notification (the others are mailed by ``services``).
NOTIFIED = ("approved", "rejected")


def application_decided(household, action: str, reason: str = "") -> None:
    """The household's owner (who applied) hears the decision."""
    params = {"variant": action, "household": household.name}
    if reason:
        params["reason"] = reason[:500]
    inbox.notify(household.owner_id, APPLICATION.name, path("households.mine"), **params)
