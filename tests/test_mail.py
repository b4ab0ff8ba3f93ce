"""Mail goes to a real SMTP server when one is configured, else to the file outbox."""

from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Inbox, csrf_token, free_port, make_user, outbox, run_jobs


@pytest.fixture
def smtp_server():
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_mail_goes_through_smtp_when_configured(make_app, smtp_server):
    port, inbox = smtp_server
    app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, MAIL_SMTP_STARTTLS=False)
    make_user(app)
    client = app.test_client()
    client.post("/password/forgot", data={"email": "user@example.org",
                                          "csrf_token": csrf_token(client, "/password/forgot")})
    assert inbox.messages == []  # the request only wrote a job
    run_jobs(app)
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["user@example.org"]
    message = BytesParser(policy=policy.default).parsebytes(envelope.content)
    assert "/password/reset/" in message.get_body().get_content()
    assert outbox(app) == []  # nothing left in the file outbox


def test_without_smtp_mail_lands_in_the_instance_outbox(app, client):
    make_user(app)
    client.post("/password/forgot", data={"email": "user@example.org",
                                          "csrf_token": csrf_token(client, "/password/forgot")})
    [message] = outbox(app)
    assert message["Subject"] == "重置你的“绿色嘉兴”密码"
    assert "/password/reset/" in message.get_body().get_content()


def test_an_unreachable_smtp_server_loses_nothing(make_app):
    from portal.accounts.models import PasswordReset
    from portal.extensions import db
    from portal.jobs.models import Job

    closed_port = free_port()
    app = make_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=closed_port)
    make_user(app)
    client = app.test_client()
    response = client.post("/password/forgot", data={
        "email": "user@example.org", "csrf_token": csrf_token(client, "/password/forgot")})
    assert response.status_code == 200
    run_jobs(app)  # the server cannot be reached: the job fails, and is kept for a retry
    with app.app_context():
        [job] = db.session.query(Job).filter_by(kind="accounts.reset_mail").all()
        assert job.state == "pending" and job.attempts == 1 and job.last_error
        assert job.payload == {"email": "user@example.org"}
        assert db.session.query(PasswordReset).count() == 1  # the link waits for its mail
