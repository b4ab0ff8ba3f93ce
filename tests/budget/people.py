"""Query budgets of the people routes (issue 14)."""

from __future__ import annotations

from portal.db import utcnow
from tests.budget import Route

ROUTES: dict[str, Route] = {
    "accounts.people": Route("/manage/people", "admin"),
    "accounts.people search": Route("/manage/people?q=u", "admin"),
    "accounts.person": Route(lambda i: f"/manage/people/{i['person']}", "admin"),
    "api.list_users": Route("/api/v1/users", "admin"),
    "api.list_users search": Route("/api/v1/users?q=u", "admin"),
    # Repeatable posts: the role it already has (nothing changes); a suspension's reason
    # (answered with the confirmation page, nothing done yet); restoring an account that is
    # not suspended and mailing a reset link to a suspended one (both refused with a message).
    "accounts.person_role": Route(lambda i: f"/manage/people/{i['person']}/role", "admin", 302,
                                  "POST", form={"role-role": "citizen"}),
    "accounts.person_suspend": Route(lambda i: f"/manage/people/{i['person']}/suspend",
                                     "admin", 200, "POST", form={"suspend-reason": "spam"}),
    "accounts.person_restore": Route(lambda i: f"/manage/people/{i['person']}/restore",
                                     "admin", 302, "POST", form={"restore-reason": ""}),
    "accounts.person_reset": Route(lambda i: f"/manage/people/{i['suspended']}/reset",
                                   "admin", 302, "POST", form={}),
    "api.update_user": Route(lambda i: f"/api/v1/users/{i['person']}", "admin", method="PATCH",
                             json={"role": "citizen"}),
}
SHOWN: dict[str, str] = {
    "accounts.people": 'class="card person-card"',
    "accounts.people search": 'class="card person-card"',
    "api.list_users": '"email"',
    "api.list_users search": '"email"',
}


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """The people lists show the ``n`` other accounts (u0@…, made by the test); the second
    of them is suspended."""
    others[1].suspended_at, others[1].suspended_reason = utcnow(), "spam"
    others[1].suspended_by_id = people["admin"]
    ids.update(person=others[0].id, suspended=others[1].id)
