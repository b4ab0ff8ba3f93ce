"""Query budgets of the audit log routes (issue 14)."""

from __future__ import annotations

from tests.budget import Route  # noqa: F401

ROUTES: dict[str, Route] = {}
SHOWN: dict[str, str] = {}


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """``n`` rows of each list these routes show (inside the seeding unit of work)."""
