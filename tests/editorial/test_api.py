"""The articles API: create, read, update (a new revision), unpublish and archive, revisions
and restore; citizens get 403, editors cannot publish."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.editorial import services
from portal.extensions import db
from portal.learn.models import Article
from tests.conftest import make_user

V1 = "/api/v1/articles"


def _token(app, uid):
    with app.app_context():
        token = accounts.create_api_token(db.session.get(User, uid), "t")[1]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(library):
    return {role: _token(library, make_user(library, f"{role}@example.org", role=role))
            for role in ("citizen", "editor", "organizer")}


def _body(status="draft", title="Heron count", **extra):
    return {"slug": "heron-count", "kind": "news", "topics": ["nature"],
            "zh": {"title": "鹭鸟调查", "summary": "", "body": "志愿者在南湖湿地数到四十只苍鹭。"},
            "en": {"title": title, "summary": "",
                   "body": "Volunteers counted forty grey herons at Nanhu."},
            "status": status, **extra}


def test_citizens_are_refused(library, tokens):
    client = library.test_client()
    assert client.get(V1, headers=tokens["citizen"]).status_code == 403
    assert client.post(V1, json=_body(), headers=tokens["citizen"]).status_code == 403
    assert client.get(V1).status_code == 401


def test_an_editor_writes_a_draft_and_cannot_publish(library, tokens):
    client = library.test_client()
    refused = client.post(V1, json=_body("published"), headers=tokens["editor"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    created = client.post(V1, json=_body(), headers=tokens["editor"])
    assert created.status_code == 201, created.json
    assert created.json["status"] == "draft" and created.json["revision"] == 1
    assert created.json["url"] == "http://localhost:5000/learn/heron-count"
    put = client.put(f"{V1}/heron-count", json=_body("published"), headers=tokens["editor"])
    assert put.status_code == 403
    with library.app_context():
        entry = services.by_slug("heron-count")
        assert (entry.status, entry.latest_revision, entry.published_revision) == \
            ("draft", 1, None)


def test_an_organizer_publishes_updates_restores_and_archives(library, tokens):
    client = library.test_client()
    org = tokens["organizer"]
    created = client.post(V1, json=_body("published"), headers=org)
    assert created.status_code == 201 and created.json["status"] == "published"
    assert client.get("/learn/heron-count?lang=en").status_code == 200
    updated = client.put(f"{V1}/heron-count", json=_body("published", "Herons at Nanhu"),
                         headers=org)
    assert updated.status_code == 200 and updated.json["revision"] == 2
    assert updated.json["en"]["title"] == "Herons at Nanhu"
    revisions = client.get(f"{V1}/heron-count/revisions", headers=org).json
    assert [r["number"] for r in revisions] == [2, 1]
    assert all(r["source"] == "api" for r in revisions)
    restored = client.post(f"{V1}/heron-count/revisions/1/restore", headers=org)
    assert restored.status_code == 200 and restored.json["revision"] == 3
    assert restored.json["en"]["title"] == "Heron count"
    assert restored.json["published_revision"] == 2  # not published until asked
    assert client.post(f"{V1}/heron-count/revisions/9/restore", headers=org).status_code \
        == 404
    gone = client.delete(f"{V1}/heron-count", headers=org)
    assert gone.status_code == 200 and gone.json["status"] == "unpublished"
    assert client.delete(f"{V1}/heron-count", headers=org).status_code == 409
    with library.app_context():
        assert db.session.scalar(sa.select(Article).where(Article.slug == "heron-count")) \
            is None
        assert services.by_slug("heron-count").latest_revision == 3  # archived, not deleted
    listed = client.get(V1, headers=org, query_string={"kind": "news"}).json
    assert [a["slug"] for a in listed] == ["heron-count"]


def test_bad_input_is_a_client_error(library, tokens):
    client = library.test_client()
    org = tokens["organizer"]
    for body in ({"slug": "Bad Slug"}, {**_body(), "kind": "campaign"},
                 {**_body(), "topics": ["astrology"]},
                 {**_body(), "zh": {"title": "x" * 201}}, ["not", "an", "object"]):
        assert 400 <= client.post(V1, json=body, headers=org).status_code < 500, body
    assert client.post(V1, json=_body(), headers=org).status_code == 201
    assert client.post(V1, json=_body(), headers=org).status_code == 422  # slug taken
    other = client.put(f"{V1}/heron-count", json={**_body(), "slug": "other"}, headers=org)
    assert other.status_code == 422 and "slug" in other.json["error"]["fields"]
    assert client.get(f"{V1}/no-such", headers=org).status_code == 404
    assert client.get(V1, headers=org, query_string={"cursor": "x"}).status_code == 400


def test_a_nul_character_is_a_client_error(library, tokens):
    """PostgreSQL cannot store U+0000 in text: refused before it gets there."""
    answer = library.test_client().post(V1, json=_body(title="Heron\x00count"),
                                        headers=tokens["organizer"])
    assert 400 <= answer.status_code < 500
