"""Query budgets of the inbox routes (issue 14)."""

from __future__ import annotations

from portal.extensions import db
from portal.inbox.models import Notification
from tests.budget import Route

ROUTES: dict[str, Route] = {
    "inbox.notifications": Route("/notifications", "citizen"),
    "inbox.settings": Route("/notifications/settings", "citizen"),
    # Marking everything read, and saving the same choices, can be repeated.
    "inbox.mark_read": Route("/notifications/read", "citizen", 302, "POST", form={}),
    "inbox.settings POST": Route("/notifications/settings", "citizen", 302, "POST",
                                 form={"mail": ["schools.post"]}),
    # The counts of every source in one statement, then each source's first items (one
    # statement per source that holds something), within the signed-in budget.
    "inbox.inbox": Route("/manage/inbox", "organizer"),
    "inbox.inbox admin": Route("/manage/inbox", "admin"),
    "api.inbox": Route("/api/v1/inbox", "organizer"),
    "api.notifications": Route("/api/v1/notifications", "citizen"),
}
SHOWN: dict[str, str] = {
    "inbox.notifications": "通知标题",
    "api.notifications": "通知标题",
    "inbox.inbox": "草稿",
    "api.inbox": "草稿",
}


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """``n`` rows of each list these routes show (inside the seeding unit of work)."""
    db.session.add_all(Notification(user_id=people["citizen"], kind="schools.post",
                                    params={"variant": "approved", "title": f"通知标题{i}",
                                            "school": "第0小学"}, link="/schools/mine")
                       for i in range(n))
