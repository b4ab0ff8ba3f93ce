"""The issue-14 migrations change tables in place on a running city's database: a user with
a sign-in session and an API token, an event with its sign-ups, a household with its member
are all still there, linked, after ``flask db upgrade`` from 0014 (SQLite and PostgreSQL).

On SQLite, batch mode recreates a table (copy, DROP, rename).  With foreign keys on, the DROP
runs the ON DELETE actions of every table pointing at it: before migrations/env.py switched the
keys off for the migration, adding a column to ``users`` (0016) deleted every sign-in session
and API token, and adding ``events.cover_id`` (0015) deleted every sign-up — this test failed
then (the control: remove the ``foreign_keys = OFF`` line in migrations/env.py)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from portal.db import utcnow
from portal.extensions import db
from tests.test_token_migration import fresh_app  # noqa: F401 (the fixture)

BEFORE = "9b3e7f2a1c64"  # 0014, the head before issue 14

COUNTED = ("users", "login_sessions", "api_tokens", "events", "signups", "households",
           "household_members")


def _insert(conn, table: str, **values) -> int:
    columns = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    return conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
                                "RETURNING id"), values).scalar_one()


def _counts(conn) -> dict[str, int]:
    return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}


def test_rows_and_their_links_survive_the_issue_14_migrations(fresh_app):  # noqa: F811
    app = fresh_app
    now = utcnow().replace(tzinfo=None)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            user = _insert(conn, "users", email="a@example.org", display_name="甲",
                           password_hash="x", role="organizer", created_at=now,
                           privacy_version="1", privacy_consented_at=now)
            _insert(conn, "login_sessions", user_id=user, token_hash="s" * 64, remember=True,
                    created_at=now, expires_at=now + timedelta(days=1))
            _insert(conn, "api_tokens", user_id=user, name="t", token_hash="t" * 64,
                    prefix="gj_", created_at=now)
            event = _insert(conn, "events", title_zh="清洁", title_en="Clean-up",
                            description_zh="", description_en="", starts_at=now,
                            ends_at=now + timedelta(hours=2), signup_deadline=now,
                            place="南湖", district="nanhu", capacity=10, notes="",
                            status="published", organizer_id=user, created_at=now,
                            updated_at=now)
            _insert(conn, "signups", event_id=event, user_id=user, status="confirmed",
                    queued_at=now, created_at=now, updated_at=now)
            household = _insert(conn, "households", owner_id=user, name="绿色之家",
                                district="nanhu", town="", members_count=1,
                                show_on_wall=False, staff_contact=False,
                                invite_code="INVITE0001", status="none", created_at=now)
            _insert(conn, "household_members", household_id=household, user_id=user,
                    joined_at=now)
            before = _counts(conn)
        upgrade()
        with db.engine.connect() as conn:
            assert _counts(conn) == before
            assert all(before.values())
            linked = conn.execute(sa.text(
                "SELECT e.organizer_id, s.user_id FROM events e JOIN signups s "
                "ON s.event_id = e.id")).one()
            assert tuple(linked) == (user, user)
