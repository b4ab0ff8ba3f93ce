"""Asking for a password reset does not tell whether an address has an account: the same
answer and the same work (one job) for known and unknown addresses; only the job, later,
finds out and mails the owner."""

from __future__ import annotations

from portal.accounts.models import PasswordReset
from portal.extensions import db
from portal.jobs.models import Job
from tests.conftest import csrf_token, make_user, outbox, run_jobs


def _ask(app, email: str):
    client = app.test_client()
    response = client.post("/password/forgot", data={
        "email": email, "csrf_token": csrf_token(client, "/password/forgot")})
    with app.app_context():
        written = [(j.kind, sorted(j.payload)) for j in db.session.query(Job).order_by(Job.id)]
        resets = db.session.query(PasswordReset).count()
        db.session.query(Job).delete()
        db.session.commit()
    return response.status_code, response.get_data(as_text=True), written, resets


def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_work(app):
    make_user(app, email="user@example.org")
    known = _ask(app, "user@example.org")
    unknown = _ask(app, "nobody@example.org")
    assert known[0] == unknown[0] == 200
    assert known[1].replace("user@", "") == unknown[1].replace("nobody@", "")
    assert known[2] == unknown[2] == [("accounts.reset_mail", ["email"])]
    assert known[3] == unknown[3] == 0  # no link is made inside the request


def test_the_job_mails_a_working_link_only_to_an_existing_account(app):
    make_user(app, email="user@example.org")
    for email in ("user@example.org", "nobody@example.org"):
        client = app.test_client()
        client.post("/password/forgot", data={
            "email": email, "csrf_token": csrf_token(client, "/password/forgot")})
    run_jobs(app)
    [message] = outbox(app)
    assert message["To"] == "user@example.org"
    link = next(w for w in message.get_body().get_content().split() if "/password/reset/" in w)
    assert app.test_client().get(link[link.index("/password/"):]).status_code == 200
    with app.app_context():
        assert db.session.query(PasswordReset).count() == 1
