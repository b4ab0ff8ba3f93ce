"""Issue 14, people: GET /api/v1/users and PATCH /api/v1/users/<id>, for administrators."""

from __future__ import annotations

import pytest

from portal.accounts import services
from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import make_user


def _token(app, uid: int) -> dict:
    with app.app_context():
        raw = services.create_api_token(db.session.get(User, uid), "tests")[1]
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api(app):
    ids = {"admin": make_user(app, email="admin@example.org", role="admin", name="王敏"),
           "organizer": make_user(app, email="org@example.org", role="organizer"),
           "citizen": make_user(app, email="zhang@example.org", name="张伟")}
    return ids, app.test_client(), {k: _token(app, v) for k, v in ids.items()}


def test_admins_list_and_find_users(app, api):
    ids, client, tokens = api
    listed = client.get("/api/v1/users", headers=tokens["admin"])
    assert listed.status_code == 200
    assert [u["email"] for u in listed.json] == ["zhang@example.org", "org@example.org",
                                                 "admin@example.org"]
    assert listed.json[0] == {"id": ids["citizen"], "email": "zhang@example.org",
                              "display_name": "张伟", "role": "citizen", "verified": True,
                              "last_sign_in_at": None, "suspended": False}
    assert "Link" not in listed.headers
    found = client.get("/api/v1/users?q=ZHANG", headers=tokens["admin"])
    assert [u["id"] for u in found.json] == [ids["citizen"]]
    paged = client.get("/api/v1/users?limit=2", headers=tokens["admin"])
    assert len(paged.json) == 2
    link = paged.headers["Link"]
    assert link.endswith('>; rel="next"') and "cursor=" in link
    rest = client.get(link[1:link.index(">")], headers=tokens["admin"])
    assert [u["email"] for u in rest.json] == ["admin@example.org"]
    assert client.get("/api/v1/users?cursor=abc", headers=tokens["admin"]).status_code == 400
    assert client.get("/api/v1/users?limit=0", headers=tokens["admin"]).status_code == 400


@pytest.mark.parametrize("who", ["organizer", "citizen"])
def test_others_are_refused(app, api, who):
    ids, client, tokens = api
    assert client.get("/api/v1/users", headers=tokens[who]).status_code == 403
    refused = client.patch(f"/api/v1/users/{ids['citizen']}", json={"role": "admin"},
                           headers=tokens[who])
    assert refused.status_code == 403
    assert client.get("/api/v1/users").status_code == 401


def test_admins_change_roles_and_suspend(app, api):
    ids, client, tokens = api
    url = f"/api/v1/users/{ids['citizen']}"
    changed = client.patch(url, json={"role": "editor", "reason": "new staff"},
                           headers=tokens["admin"])
    assert changed.status_code == 200 and changed.json["role"] == "editor"
    missing = client.patch(url, json={"suspended": True}, headers=tokens["admin"])
    assert missing.status_code == 422
    assert missing.json["error"]["code"] == "reason_required"
    assert "reason" in missing.json["error"]["fields"]
    assert client.get("/api/v1/me", headers=tokens["citizen"]).status_code == 200
    suspended = client.patch(url, json={"suspended": True, "reason": "spam"},
                             headers=tokens["admin"])
    assert suspended.status_code == 200 and suspended.json["suspended"] is True
    assert client.get("/api/v1/me", headers=tokens["citizen"]).status_code == 401
    restored = client.patch(url, json={"suspended": False}, headers=tokens["admin"])
    assert restored.json["suspended"] is False
    assert client.get("/api/v1/me", headers=tokens["citizen"]).status_code == 200
    assert client.patch(url, json={}, headers=tokens["admin"]).status_code == 200
    assert client.patch(url, json={"role": "king"}, headers=tokens["admin"]).status_code == 422
    assert client.patch(url, json={"suspended": "yes", "reason": "x"},
                        headers=tokens["admin"]).status_code == 422
    last = client.patch(f"/api/v1/users/{ids['admin']}", json={"role": "citizen"},
                        headers=tokens["admin"])
    assert last.status_code == 409 and last.json["error"]["code"] == "own_role"
    assert client.patch("/api/v1/users/999999", json={},
                        headers=tokens["admin"]).status_code == 404


def test_a_failed_change_changes_nothing(app, api):
    """Role and suspension in one unit of work: a refused suspension keeps the old role."""
    ids, client, tokens = api
    url = f"/api/v1/users/{ids['citizen']}"
    refused = client.patch(url, json={"role": "organizer", "suspended": True},
                           headers=tokens["admin"])
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(User, ids["citizen"]).role == "citizen"
