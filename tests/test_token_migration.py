"""Migration 0008 hashes the calendar-feed and invitation tokens already stored, in place, so
addresses handed out before it keep working (issue 12, item 7); SQLite and PostgreSQL."""

import hashlib
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.db import UTCDateTime, utcnow
from portal.events import services as events
from portal.extensions import db
from portal.jobs.models import Job
from portal.schools import services as schools
from tests.conftest import FAST_HASHING, PASSWORD, PG_URL, _pg_admin_engine

BEFORE = "7a1c0b5e9d21"  # 0007, tokens in plaintext
FEEDS = sa.table("calendar_feeds", sa.column("user_id"), sa.column("token"),
                 sa.column("created_at", UTCDateTime))
INVITES = sa.table("school_editor_invites", sa.column("id"), sa.column("school_id"),
                   sa.column("email"), sa.column("token"), sa.column("created_at", UTCDateTime))


USERS = sa.table("users", sa.column("id"), sa.column("email"), sa.column("display_name"),
                 sa.column("password_hash"), sa.column("role"), sa.column("locale"),
                 sa.column("created_at", UTCDateTime), sa.column("privacy_version"),
                 sa.column("privacy_consented_at", UTCDateTime))
SCHOOLS = sa.table("schools", *(sa.column(c) for c in (
    "id", "slug", "name_zh", "name_en", "district", "type", "address", "contact", "status",
    "reason", "applicant_id", "green_level")), sa.column("created_at", UTCDateTime),
    sa.column("verified_at", UTCDateTime))
JOBS = sa.table("jobs", *(sa.column(c) for c in ("kind", "state", "attempts", "last_error")),
                sa.column("payload", sa.JSON), sa.column("due_at", UTCDateTime),
                sa.column("created_at", UTCDateTime))


def _old_user(conn, email: str) -> int:
    now = utcnow()
    return conn.execute(sa.insert(USERS).values(
        email=email, display_name="老师", password_hash=accounts.hash_password(PASSWORD),
        role="citizen", locale=None, created_at=now, privacy_version="2026-11-28",
        privacy_consented_at=now).returning(USERS.c.id)).scalar_one()


def _old_school(conn, editor: int) -> int:
    school = conn.execute(sa.insert(SCHOOLS).values(
        slug="nanhu-primary", name_zh="南湖实验小学", name_en="Nanhu Primary", district="nanhu",
        type="primary", address="南湖路1号", contact="李老师", status="verified", reason="",
        applicant_id=editor, green_level="", created_at=utcnow(), verified_at=utcnow())
        .returning(SCHOOLS.c.id)).scalar_one()
    conn.execute(sa.text("INSERT INTO school_editors (school_id, user_id, added_at) "
                         "VALUES (:s, :u, :t)"), {"s": school, "u": editor, "t": utcnow()})
    return school


@pytest.fixture
def fresh_app(tmp_path):
    url = name = None
    if PG_URL:
        name = f"portal_mig_{uuid.uuid4().hex[:12]}"
        with _pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": url, **FAST_HASHING})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if name:
        with _pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_0008_hashes_stored_tokens_and_old_links_keep_working(fresh_app):
    app = fresh_app
    feed_raw, invite_raw = "old-feed-token-abc", "old-invite-token-xyz"
    with app.app_context():
        upgrade(revision=BEFORE)
        # Rows as the schema stood at 0007, on a connection of their own (the models, and
        # the session's hooks, know only the newest schema).
        with db.engine.begin() as conn:
            teacher, invited = (_old_user(conn, email) for email in ("teacher@example.org",
                                                                     "invited@example.org"))
            school = _old_school(conn, teacher)
            conn.execute(sa.insert(FEEDS).values(user_id=invited, token=feed_raw,
                                                 created_at=utcnow()))
            invite_id = conn.execute(sa.insert(INVITES).values(
                school_id=school, email="invited@example.org", token=invite_raw,
                created_at=utcnow()).returning(INVITES.c.id)).scalar_one()
            conn.execute(sa.insert(JOBS).values(
                kind="schools.invite_mail", payload={"invite": invite_id}, state="pending",
                due_at=utcnow(), attempts=0, last_error="", created_at=utcnow()))
        db.session.remove()
        upgrade()

        stored = {str(v) for row in db.session.execute(sa.text(
            "SELECT * FROM calendar_feeds")) for v in row}
        stored |= {str(v) for row in db.session.execute(
            sa.text("SELECT * FROM school_editor_invites")) for v in row}
        assert feed_raw not in stored and invite_raw not in stored
        assert hashlib.sha256(feed_raw.encode()).hexdigest() in stored
        # The mail still waiting can still write the link (its payload is scrubbed once sent).
        job = db.session.scalars(sa.select(Job).where(Job.kind == "schools.invite_mail")).one()
        assert job.payload == {"invite": invite_id, "token": invite_raw}
        assert events.user_for_feed(feed_raw).id == invited
        db.session.remove()
    assert app.test_client().get(f"/calendar/{feed_raw}.ics").status_code == 200
    with app.app_context():
        joined = schools.accept_invite(db.session.get(User, invited), invite_raw)
        assert joined.id == school
        db.session.remove()
        downgrade(revision=BEFORE)  # and back: the hashes cannot be undone, the rows go
        assert db.session.execute(sa.text("SELECT count(*) FROM calendar_feeds")).scalar() == 0
