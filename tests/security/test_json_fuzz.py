"""A JSON fuzzer for every /api/v1 route that takes a body (issue 12, item 8): nesting (modest
and far beyond the decoder's recursion limit), lone surrogates, huge numbers, ``NaN`` and
``Infinity``, huge strings, in bodies of any shape and in bodies that have the route's own
field names.  No answer may be a 5xx.

The number of generated requests is printed at the end; to see it run
``.venv/bin/python -m pytest tests/security/test_json_fuzz.py -s`` (line ``json fuzz: N
requests, M answers 5xx``).
"""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.api.declare import DECLARED
from tests.security.test_bad_json import body_routes, token_for

EXAMPLES = 1500
SENT: Counter = Counter()  # requests sent, and 5xx answers, over the run


class Raw(str):
    """A token written into the JSON text as it is (not valid JSON, or not a float)."""


def encode(value) -> str:
    """JSON text; lone surrogates come out as ``\\udXXX`` escapes (``ensure_ascii``)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


surrogates = st.integers(0xD800, 0xDFFF).map(chr)
poisoned_text = st.lists(st.one_of(st.characters(), surrogates), max_size=12).map("".join)
huge_text = st.tuples(st.sampled_from(["a", "绿", "\ud800", "😀", "\x00"]),
                      st.integers(1_000, 200_000)).map(lambda t: t[0] * t[1])
huge_numbers = st.one_of(
    st.integers(300, 6_000).map(lambda n: Raw("9" * n)),
    st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"),
                     Raw("-Infinity"), Raw("1e-999"), Raw("-0"), Raw("1E400")]),
    st.integers(-(2**128), 2**128),
    st.floats(allow_nan=False, allow_infinity=False))
leaves = st.one_of(st.none(), st.booleans(), st.integers(), poisoned_text, huge_numbers,
                   st.text(max_size=30), huge_text)
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), poisoned_text), inner, max_size=4)),
    max_leaves=12)


FIELD_NAMES = sorted({name for d in DECLARED.values() if "body" in d.models
                      for name in d.models["body"].model_fields})


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["nested", "deep", "shaped", "any"]))
    if kind == "deep":  # beyond any recursion limit, closed or not
        depth = draw(st.integers(33, 200_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]))
        text = opener * depth + draw(st.sampled_from(["", "1", '"\\ud800"']))
        if draw(st.booleans()):
            text += closer * depth
    elif kind == "nested":  # a valid value wrapped in a random number of levels
        text = encode(draw(values))
        for _level in range(draw(st.integers(0, 64))):
            text = draw(st.sampled_from(["[{}]", '{{"x":{}}}'])).format(text)
    elif kind == "shaped":  # the routes' own field names, poisoned values
        names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=6))
        text = encode({name: draw(values) for name in names})
    else:
        text = encode(draw(values))
    return text.encode("utf-8", "surrogatepass")


def test_no_json_body_gets_a_server_error(app):
    app.testing = False  # answer like production instead of raising
    token = token_for(app, role="organizer")
    routes = body_routes(app)
    assert len(routes) >= 8
    client = app.test_client()
    failures: list = []

    @given(route=st.sampled_from(routes), body=bodies())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def fuzz(route, body):
        method, path = route
        response = client.open(path, method=method, data=body,
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        SENT["requests"] += 1
        if response.status_code >= 500:
            SENT["5xx"] += 1
            failures.append((method, path, body[:120], response.status_code))
        assert response.status_code < 500, (method, path, body[:200])

    try:
        fuzz()
    finally:
        print(f"\njson fuzz: {SENT['requests']} requests, {SENT['5xx']} answers 5xx "
              f"over {len(routes)} routes")
    assert failures == []
