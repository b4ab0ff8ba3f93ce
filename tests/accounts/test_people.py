"""Issue 14, people: administrators find accounts, change roles (the last administrator is
kept), suspend (signed out everywhere, no sign-in, no API token) and restore accounts, and have
a password reset link mailed; every action leaves an audit line."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts import services
from portal.accounts.models import LoginSession, User
from portal.audit import services as audit
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.jobs.models import Job
from portal.rules import RuleError
from tests.conftest import PASSWORD, make_user, outbox, sign_in


def _u(uid: int) -> User:
    return db.session.get(User, uid)


@pytest.fixture
def people(app):
    ids = {"admin": make_user(app, email="admin@example.org", role="admin", name="王敏"),
           "organizer": make_user(app, email="org@example.org", role="organizer", name="李强"),
           "citizen": make_user(app, email="Zhang.Wei@example.org", name="张伟"),
           "other": make_user(app, email="wei.lin@example.org", name="Lin Wei")}
    return ids


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


# -- finding people ------------------------------------------------------------------------------

def test_people_are_found_by_email_exact_or_prefix_and_by_name(app, people):
    with app.app_context():
        def emails(q):
            return [u.email for u in services.find_people(q, None).items]

        assert emails("zhang.wei@example.org") == ["zhang.wei@example.org"]  # exact
        assert emails("ZHANG.") == ["zhang.wei@example.org"]  # prefix, any case
        assert emails("张") == ["zhang.wei@example.org"]  # a name contains it
        assert emails("wei") == ["wei.lin@example.org"]  # not the middle of an address
        assert emails("lin w") == ["wei.lin@example.org"]  # name, any case
        assert emails("%") == [] and emails("_") == []  # LIKE's wildcards are plain text
        assert emails("nobody@") == []
        newest = emails("")
        assert newest[0] == "wei.lin@example.org" and len(newest) == 4  # newest first


def test_lists_of_people_come_in_pages(app, people):
    with app.app_context():
        first = services.find_people("", None, size=3)
        assert len(first.items) == 3 and first.next
        rest = services.find_people("", (int(first.next),), size=3)
        assert [u.email for u in rest.items] == ["admin@example.org"] and rest.next is None
        named = services.find_people("example", None, size=1)  # by name: none matches
        assert named.items == []
        by_name = services.find_people("w", None, size=1)  # wei.lin@ (Lin Wei), then no more
        assert [u.display_name for u in by_name.items] == ["Lin Wei"] and by_name.next is None


# -- roles ---------------------------------------------------------------------------------------

def test_only_administrators_change_roles_and_it_is_recorded(app, people):
    with app.app_context():
        with pytest.raises(RuleError) as refused:
            services.change_role(_u(people["organizer"]), _u(people["citizen"]), "editor")
        assert refused.value.status == 403
        assert _u(people["citizen"]).role == "citizen"
        services.change_role(_u(people["admin"]), _u(people["citizen"]), "editor", "new staff")
        assert _u(people["citizen"]).role == "editor"
        [entry] = _entries("people.role")
        assert entry.actor_id == people["admin"] and entry.target == f"user:{people['citizen']}"
        assert entry.reason == "new staff" and entry.label == "张伟"
        with force_locale("en"):
            told = audit.sentence(entry)
        assert told == "王敏 changed 张伟's role from Citizen to Content editor (city staff)"
        # the same role again changes nothing and records nothing
        services.change_role(_u(people["admin"]), _u(people["citizen"]), "editor")
        assert len(_entries("people.role")) == 1
        with pytest.raises(RuleError) as unknown:
            services.change_role(_u(people["admin"]), _u(people["citizen"]), "king")
        assert unknown.value.code == "unknown_role"


def test_the_last_administrator_keeps_the_role(app, people):
    with app.app_context():
        admin = _u(people["admin"])
        with pytest.raises(RuleError) as own:
            services.change_role(admin, admin, "citizen")
        assert own.value.code == "own_role"
        with pytest.raises(RuleError) as last:
            services.change_role(None, _u(people["admin"]), "citizen")  # the command line
        assert last.value.code == "last_admin" and ("administrator" in last.value.message
                                                   or "管理员" in last.value.message)
        services.change_role(None, _u(people["organizer"]), "admin")
        services.change_role(_u(people["organizer"]), _u(people["admin"]), "citizen")
        assert _u(people["admin"]).role == "citizen"
        assert [e.actor_id for e in _entries("people.role")] == [None, people["organizer"]]


def test_an_administrator_whose_role_was_taken_meanwhile_is_refused(app, people):
    """The actor is checked again under the lock: a request that began while they were an
    administrator cannot act once another administrator has taken the role (so two
    administrators taking each other's role at the same moment cannot leave none)."""
    with app.app_context():
        services.change_role(None, _u(people["organizer"]), "admin")
        as_loaded = SimpleNamespace(id=people["organizer"], role="admin")  # their request's copy
        services.change_role(_u(people["admin"]), _u(people["organizer"]), "citizen")
        for act in (lambda: services.change_role(as_loaded, _u(people["admin"]), "citizen"),
                    lambda: services.suspend(as_loaded, _u(people["admin"]), "revenge")):
            with pytest.raises(RuleError) as refused:
                act()
            assert refused.value.status == 403
        assert _u(people["admin"]).role == "admin" and not _u(people["admin"]).suspended


def test_the_users_command_goes_through_the_same_rules(app, people):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-role", "org@example.org", "editor"])
    assert result.exit_code == 0 and "is now editor" in result.output
    result = runner.invoke(args=["users", "set-role", "admin@example.org", "citizen"])
    assert result.exit_code != 0 and ("administrator" in result.output
                                      or "管理员" in result.output)
    with app.app_context():
        assert _u(people["admin"]).role == "admin"
        [entry] = _entries("people.role")
        assert entry.actor_id is None and entry.target == f"user:{people['organizer']}"


# -- suspension ----------------------------------------------------------------------------------

def test_suspension_signs_the_person_out_everywhere(app, people):
    phone, laptop = app.test_client(), app.test_client()
    assert sign_in(phone, "zhang.wei@example.org").status_code == 302
    assert sign_in(laptop, "zhang.wei@example.org", remember=True).status_code == 302
    remember = laptop.get_cookie("portal_remember").value
    with app.app_context():
        _token, raw = services.create_api_token(_u(people["citizen"]), "script")
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
    with app.app_context():
        with pytest.raises(RuleError) as no_reason:
            services.suspend(_u(people["admin"]), _u(people["citizen"]), "  ")
        assert no_reason.value.code == "reason_required" and "reason" in no_reason.value.fields
        services.suspend(_u(people["admin"]), _u(people["citizen"]), "spam reports")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
            LoginSession.user_id == people["citizen"])) == 0
        user = _u(people["citizen"])
        assert user.suspended and user.suspended_reason == "spam reports"
        assert user.suspended_by_id == people["admin"]
        [entry] = _entries("people.suspend")
        assert entry.reason == "spam reports"
    for client in (phone, laptop):
        assert client.get("/account").status_code == 302  # signed out: sent to sign in
    thief = app.test_client()
    thief.set_cookie("portal_remember", remember)
    assert thief.get("/account").status_code == 302  # the remember-me cookie is worthless
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    # sign-in is refused with a clear message (in English here)
    again = app.test_client()
    response = sign_in(again, "zhang.wei@example.org", lang="en")
    assert response.status_code == 401 and "suspended" in response.get_data(as_text=True)
    assert again.get("/account").status_code == 302
    with app.app_context(), pytest.raises(RuleError) as twice:
        services.suspend(_u(people["admin"]), _u(people["citizen"]), "again")
    assert twice.value.code == "already_suspended"


def test_a_restored_account_signs_in_again(app, people):
    with app.app_context():
        services.suspend(_u(people["admin"]), _u(people["citizen"]), "spam")
        _token, raw = services.create_api_token(_u(people["citizen"]), "script")
        services.restore(_u(people["admin"]), _u(people["citizen"]), "cleared up")
        user = _u(people["citizen"])
        assert not user.suspended and user.suspended_reason == "" and user.suspended_by_id is None
        assert [e.reason for e in _entries("people.restore")] == ["cleared up"]
        with pytest.raises(RuleError) as twice:
            services.restore(_u(people["admin"]), user, "")
        assert twice.value.code == "not_suspended"
    client = app.test_client()
    assert sign_in(client, "zhang.wei@example.org").status_code == 302
    assert client.get("/account").status_code == 200
    assert app.test_client().get("/api/v1/me", headers={
        "Authorization": f"Bearer {raw}"}).status_code == 200
    with app.app_context():
        assert _u(people["citizen"]).last_sign_in_at is not None


def test_nobody_suspends_themselves_or_the_last_administrator(app, people):
    with app.app_context():
        admin = _u(people["admin"])
        with pytest.raises(RuleError) as own:
            services.suspend(admin, admin, "testing")
        assert own.value.code == "own_account"
        with pytest.raises(RuleError) as last:
            services.suspend(None, _u(people["admin"]), "testing")
        assert last.value.code == "last_admin"
        with pytest.raises(RuleError) as not_admin:
            services.suspend(_u(people["organizer"]), _u(people["citizen"]), "testing")
        assert not_admin.value.status == 403
        assert not _u(people["admin"]).suspended and not _u(people["citizen"]).suspended


def test_sign_in_records_the_time(app, people):
    with app.app_context():
        assert _u(people["citizen"]).last_sign_in_at is None
    sign_in(app.test_client(), "zhang.wei@example.org")
    with app.app_context():
        assert _u(people["citizen"]).last_sign_in_at is not None


# -- password reset ------------------------------------------------------------------------------

def test_a_reset_link_is_mailed_by_a_job_and_the_admin_never_sees_it(app, people):
    with app.app_context():
        services.send_password_reset(_u(people["admin"]), _u(people["citizen"]))
        [job] = db.session.scalars(sa.select(Job).where(Job.kind == services.RESET_MAIL_JOB))
        assert job.payload == {"email": "zhang.wei@example.org"}  # no link, no token
        [entry] = _entries("people.reset")
        assert entry.data.get("token") is None and entry.target == f"user:{people['citizen']}"
        with pytest.raises(RuleError):
            services.send_password_reset(_u(people["organizer"]), _u(people["citizen"]))
    [message] = [m for m in outbox(app) if m["To"] == "zhang.wei@example.org"]
    assert "/password/reset/" in message.get_body().get_content()


def test_a_suspended_account_gets_no_reset_link(app, people):
    with app.app_context():
        services.suspend(_u(people["admin"]), _u(people["citizen"]), "spam")
        with pytest.raises(RuleError) as refused:
            services.send_password_reset(_u(people["admin"]), _u(people["citizen"]))
        assert refused.value.code == "suspended"


def test_the_export_holds_the_last_sign_in_and_a_suspension(app, people):
    sign_in(app.test_client(), "zhang.wei@example.org")
    with app.app_context():
        services.suspend(_u(people["admin"]), _u(people["citizen"]), "spam")
        data = services.export_data(_u(people["citizen"]))["account"]
        assert data["last_sign_in_at"] is not None
        assert data["suspension"]["reason"] == "spam"




def test_two_administrators_taking_each_others_role_at_once_leave_one(app, people):
    """Real concurrency: two requests at the same moment, each demoting the other
    administrator; the admins' rows are locked, so exactly one succeeds."""
    with app.app_context():
        services.change_role(None, _u(people["organizer"]), "admin")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id: int, target_id: int) -> None:
        with app.app_context():
            actor, target = _u(actor_id), _u(target_id)
            db.session.rollback()  # no transaction open while waiting at the barrier
            start.wait()
            try:
                services.change_role(actor, target, "citizen")
                outcomes.append("done")
            except RuleError as err:
                outcomes.append(err.code)

    threads = [threading.Thread(target=demote, args=pair) for pair in (
        (people["admin"], people["organizer"]), (people["organizer"], people["admin"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["done", "forbidden"], outcomes
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.role == "admin")) == 1


def test_a_deleted_account_leaves_staff_lines_about_it_without_its_name(app, people):
    with app.app_context():
        services.change_role(_u(people["admin"]), _u(people["citizen"]), "editor", "new staff")
        [entry] = _entries("people.role")
        assert entry.label == "张伟"
        services.delete_account(_u(people["citizen"]), PASSWORD)
        db.session.expire_all()
        [entry] = _entries("people.role")
        assert entry.label == "" and entry.reason == "new staff"  # what was done stays
        with force_locale("en"):
            assert "张伟" not in audit.sentence(entry)
