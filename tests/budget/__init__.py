"""The query budget's parts (tests/test_query_budget.py): how a route is asked for, the
budgets, and the features that bring their own rows and routes (one module each, so that a
feature's routes and seeded rows sit together: ``seed(n, ids, people, others)`` adds ``n``
rows of each list inside the seeding unit of work and puts the addresses' ids into ``ids``;
``ROUTES`` and ``SHOWN`` extend the test's tables)."""

from __future__ import annotations

from dataclasses import dataclass

# Budgets, in statements per request.
PUBLIC = 10  # pages and files anyone can open
SIGNED_IN = 15  # pages of a signed-in person (the session and user lookups included)
API = 10  # API routes (the token lookup included)
WRITE = 25  # a form post or API write: the unit of work, its jobs, summary marks, cache counters


@dataclass(frozen=True)
class Route:
    url: object  # a function of the seeded ids, or a fixed address
    who: str = "anonymous"  # anonymous, citizen, editor, organizer, admin
    status: int = 200
    method: str = "GET"
    budget: int | None = None  # default: by who, the method and whether it is under /api/
    json: object = None  # the body of an API write
    form: dict | None = None  # the fields of a form post (its CSRF token is added)

    def address(self, ids: dict) -> str:
        return self.url(ids) if callable(self.url) else self.url

    def limit(self, path: str) -> int:
        if self.budget is not None:
            return self.budget
        if self.method != "GET":
            return WRITE
        if path.startswith("/api/"):
            return API
        return PUBLIC if self.who == "anonymous" else SIGNED_IN


# After Route: each feature's module imports it.
from tests.budget import audit, editorial, inbox, media, people  # noqa: E402

FEATURES = (media, people, inbox, editorial, audit)
