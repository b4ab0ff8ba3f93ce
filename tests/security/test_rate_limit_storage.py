"""When the shared rate-limit store (Redis) is away, the site keeps answering: limits fall back
to counts in memory (per process) instead of a 500 on every limited route (issue 12, item 4)."""

from __future__ import annotations

import logging

from portal.extensions import db
from portal.jobs.models import Job
from tests.conftest import csrf_token, free_port


def _dead_redis_app(make_app, **limits):
    # A port nothing listens on: every Redis call fails with a connection error.
    return make_app(RATELIMIT_ENABLED=True,
                    RATELIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0", **limits)


def _post(client, path: str, data: dict, address: str = "10.0.9.1"):
    data = {**data, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": address})


def test_sign_in_still_answers_and_is_limited_in_memory_when_redis_is_down(make_app, caplog):
    app = _dead_redis_app(make_app, RATELIMIT_LOGIN="2 per hour")
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        statuses = [_post(client, "/login", {"email": f"u{i}@example.org",
                                             "password": "wrong password!!"}).status_code
                    for i in range(3)]
    assert statuses == [401, 401, 429]  # answered, and still limited (in this process)
    assert any("falling back" in r.getMessage().lower() for r in caplog.records)  # said so


def test_reset_mail_cap_falls_back_to_memory_when_redis_is_down(make_app, caplog):
    app = _dead_redis_app(make_app, RATELIMIT_RESET_MAIL="1 per hour")
    with caplog.at_level(logging.WARNING):
        answers = [_post(app.test_client(), "/password/forgot", {"email": "user@example.org"},
                         address=f"10.0.8.{i}").status_code for i in range(3)]
    assert answers == [200, 200, 200]
    with app.app_context():
        assert db.session.query(Job).filter_by(kind="accounts.reset_mail").count() == 1
    assert any(r.levelno >= logging.WARNING for r in caplog.records)  # logged, not silent
