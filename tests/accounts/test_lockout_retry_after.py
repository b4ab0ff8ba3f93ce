"""Issue 12: the sign-in lockout's 429 says when to try again (``Retry-After``), like the rate
limits' 429s, and the message gives the minutes that are left."""

from datetime import timedelta

from portal.accounts.models import LoginThrottle
from portal.db import utcnow, writing
from portal.extensions import db
from tests.conftest import make_user, sign_in


def test_the_lockout_answer_carries_retry_after(app, client):
    make_user(app)
    for _ in range(10):
        assert sign_in(client, password="wrong password here").status_code == 401
    response = sign_in(client, lang="en")
    assert response.status_code == 429
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Please try again in 15 minutes." in response.get_data(as_text=True)
    with app.app_context(), writing():  # four minutes from the end of the lock
        for row in db.session.query(LoginThrottle).filter(LoginThrottle.locked_until.is_not(None)):
            row.locked_until = utcnow() + timedelta(minutes=3, seconds=30)
    response = sign_in(client, lang="en")
    assert response.status_code == 429
    assert 200 < int(response.headers["Retry-After"]) <= 210
    assert "Please try again in 4 minutes." in response.get_data(as_text=True)
