"""The account page lists every API token of the account, so their number is bounded
(issue 13): at most ``MAX_API_TOKENS``; one more is refused with a translated message, and a
revoked token makes room again."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import ApiToken, User
from portal.extensions import db
from tests.conftest import csrf_token, make_user, sign_in


def test_an_account_holds_at_most_twenty_tokens(app):
    uid = make_user(app)
    client = app.test_client()
    sign_in(client)
    with app.app_context():
        user = db.session.get(User, uid)
        for i in range(accounts.MAX_API_TOKENS - 1):
            accounts.create_api_token(user, f"t{i}")
    token = csrf_token(client, "/account")
    last = client.post("/account/tokens", data={"name": "最后一个", "csrf_token": token})
    assert last.status_code == 200 and "gj_" in last.get_data(as_text=True)
    assert 'class="token"' in last.get_data(as_text=True)  # the new token, shown once
    refused = client.post("/account/tokens?lang=en", data={"name": "多余", "csrf_token": token})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert 'class="token"' not in body
    assert "An account can have at most 20 API tokens" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 20
        first = db.session.scalar(sa.select(ApiToken.id).order_by(ApiToken.id))
    client.post(f"/account/tokens/{first}/revoke", data={"csrf_token": token})
    again = client.post("/account/tokens", data={"name": "又一个", "csrf_token": token})
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 20
