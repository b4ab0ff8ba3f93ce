"""Query budgets of the audit log routes (issue 14)."""

from __future__ import annotations

from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.budget import Route

ROUTES: dict[str, Route] = {
    "audit.log": Route("/manage/audit", "admin"),
    "audit.log filtered": Route("/manage/audit?person=ADM&action=approved&from=2020-01-01"
                                "&to=2099-12-31", "admin"),
    "audit.export": Route("/manage/audit.csv", "admin"),
    "audit.export filtered": Route("/manage/audit.csv?person=adm&action=approved", "admin"),
}
SHOWN: dict[str, str] = {
    "audit.log": "审计", "audit.log filtered": "审计", "audit.export": "审计",
}


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """``n`` rows of each list these routes show (inside the seeding unit of work): entries
    by the administrator, with labels, and old ones without (as 0019 left them)."""
    db.session.add_all(AuditEntry(actor_id=people["admin"], action="approved",
                                  target=f"activity:{i}", label=f"审计{i}") for i in range(n))
    db.session.add_all(AuditEntry(actor_id=people["admin"], action="hidden_by_reports",
                                  target=f"activity:{i}") for i in range(n))
