"""Migration 0010 (issue 12, item 5): accounts that existed before e-mail verification are
verified at their creation time, reports made before it keep counting, and it downgrades."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from tests.test_token_migration import _old_school, _old_user, fresh_app  # noqa: F401

BEFORE = "3f9d2c6a8b14"  # 0008: no verification yet
REVISION = "8c4a6f0e2d51"  # 0010
ACTIVITIES = sa.table("activities", *(sa.column(c) for c in (
    "id", "school_id", "status", "title", "body", "draft_title", "draft_body", "review",
    "reason", "consent_confirmed", "hidden", "hidden_reason")),
    sa.column("topics", sa.JSON), sa.column("draft_topics", sa.JSON),
    sa.column("created_at", UTCDateTime))
REPORTS = sa.table("activity_reports", *(sa.column(c) for c in (
    "activity_id", "user_id", "reason", "resolved")), sa.column("created_at", UTCDateTime))


def test_0010_verifies_existing_accounts_and_keeps_their_reports_counting(fresh_app):  # noqa: F811
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            teacher = _old_user(conn, "teacher@example.org")
            reader = _old_user(conn, "reader@example.org")
            school = _old_school(conn, teacher)
            post = conn.execute(sa.insert(ACTIVITIES).values(
                school_id=school, status="published", title="植树", body="种树。",
                draft_title="植树", draft_body="种树。", review="", reason="",
                consent_confirmed=True, hidden=False, hidden_reason="", topics=[],
                draft_topics=[], created_at=utcnow()).returning(ACTIVITIES.c.id)).scalar_one()
            conn.execute(sa.insert(REPORTS).values(activity_id=post, user_id=reader,
                                                   reason="不实", resolved=False,
                                                   created_at=utcnow()))
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            users = conn.execute(sa.text(
                "SELECT email_verified_at, created_at FROM users ORDER BY id")).all()
            assert len(users) == 2 and all(v is not None for v, _c in users)
            assert [str(v) for v, _c in users] == [str(c) for _v, c in users]
            assert conn.execute(sa.text("SELECT counted FROM activity_reports")).scalar() \
                in (True, 1)
            assert conn.execute(sa.text(
                "SELECT count(*) FROM email_verifications")).scalar() == 0
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
            assert "email_verified_at" not in columns
            assert not sa.inspect(conn).has_table("email_verifications")
            assert conn.execute(sa.text("SELECT count(*) FROM activity_reports")).scalar() == 1
