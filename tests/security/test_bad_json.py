"""Bad JSON bodies get a client error (400 ``bad_json``), never a 500: nesting deeper than the
decoder's recursion limit, lone surrogates, ``NaN``/``Infinity``/``1e999`` (issue 12, item 8).
Bodies are sent as raw bytes, as a client would: the test client's ``json=`` could not even
encode a lone surrogate."""

from __future__ import annotations

import pytest

from tests.conftest import make_user


def token_for(app, role: str = "citizen", email: str = "api@example.org") -> str:
    from portal.accounts import services as accounts
    from portal.accounts.models import User
    from portal.extensions import db

    user_id = make_user(app, email=email, role=role)
    with app.app_context():
        return accounts.create_api_token(db.session.get(User, user_id), "tests")[1]


def body_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every /api/v1 route that takes a body, from the URL map (ids 1,
    slugs ``x``: a bad body must be refused before anything is looked up)."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.replace("<int:event_id>", "1").replace("<int:activity_id>", "1")
        path = path.replace("<slug>", "x")
        out += [(m, path) for m in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})]
    return out


@pytest.fixture
def production(app):
    app.testing = False  # answer like production instead of raising
    return app


def send(app, method: str, path: str, body: bytes | str, token: str):
    return app.test_client().open(path, method=method, data=body,
                                  content_type="application/json",
                                  headers={"Authorization": f"Bearer {token}"})


BAD_BODIES = [
    pytest.param("[" * 100000, id="100000 open brackets"),
    pytest.param('{"a":' * 50000, id="50000 nested objects"),
    pytest.param("[" * 100000 + "]" * 100000, id="100000 nested arrays, closed"),
    pytest.param('{"name": "\\ud800", "district": "nanhu", "members": 2}',
                 id="lone high surrogate"),
    pytest.param('{"name": "王\\udfff家", "district": "nanhu"}', id="lone low surrogate"),
    pytest.param('{"\\ud800": 1}', id="surrogate in a key"),
    pytest.param('{"codes": ["\\ud83d"]}', id="surrogate in a list"),
    pytest.param('{"name": "王家", "district": "nanhu", "members": NaN}', id="NaN"),
    pytest.param('{"name": "王家", "district": "nanhu", "members": Infinity}', id="Infinity"),
    pytest.param('{"name": "王家", "district": "nanhu", "members": 1e999}', id="1e999"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_json_is_400_on_every_route_with_a_body(production, body):
    token = token_for(production, role="organizer")
    routes = body_routes(production)
    assert len(routes) >= 8
    for method, path in routes:
        response = send(production, method, path, body, token)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
    response = send(production, "POST", "/api/v1/household", body, token)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"]["code"] == "bad_json"


def test_the_refusal_says_what_is_wrong_in_the_reader_language(production):
    token = token_for(production)
    deep = send(production, "POST", "/api/v1/household?lang=en", "[" * 100000, token)
    assert "nested too deeply" in deep.json["error"]["message"]
    lone = send(production, "POST", "/api/v1/household?lang=en",
                '{"name": "\\ud800", "district": "nanhu"}', token)
    assert "surrogate" in lone.json["error"]["message"]
    nan = send(production, "POST", "/api/v1/household?lang=en",
               '{"name": "x", "district": "nanhu", "members": NaN}', token)
    assert "finite" in nan.json["error"]["message"]


def test_a_surrogate_pair_is_text_and_is_kept(app):
    """A correctly paired escape is one character (😀) and is accepted and stored."""
    token = token_for(app)
    response = send(app, "POST", "/api/v1/household",
                    '{"name": "\\ud83d\\ude00家", "district": "nanhu", "members": 2}', token)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["name"] == "😀家"


def test_moderate_nesting_still_reaches_validation(app):
    """Bodies within the depth limit are validated as before (422, not bad_json)."""
    token = token_for(app)
    response = send(app, "POST", "/api/v1/household",
                    '{"name": [[[[1]]]], "district": "nanhu"}', token)
    assert response.status_code == 422 and response.json["error"]["fields"]["name"]
