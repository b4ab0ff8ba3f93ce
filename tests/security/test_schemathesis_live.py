"""Schemathesis against the live app (issue 12, tests and figures): the site is served over
real HTTP by Werkzeug's threaded server, schemathesis reads the OpenAPI document from it and
sends valid and invalid requests to every operation; no answer may be a 5xx.

The number of generated requests is printed at the end; to see it run
``.venv/bin/python -m pytest tests/security/test_schemathesis_live.py -s`` (line
``schemathesis: N requests, M answers 5xx``).
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from werkzeug.serving import make_server

from tests.api.test_openapi import TOKEN_FOR, _bearer, _operations, _world, spec_for

EXAMPLES = 30  # per operation and mode


@pytest.fixture
def live(library):
    world = _world(library)
    world.app.testing = False  # answer like production: errors are pages, not exceptions
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    world.url = f"http://127.0.0.1:{server.server_port}"
    yield world
    server.shutdown()
    thread.join(5)


def _run(strategy, url: str, headers: dict, label: str, sent: Counter, failures: list) -> None:
    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def fuzz(case):
        random.seed()  # Whoosh names index segments with `random` (see tests/api/test_openapi)
        response = case.call(base_url=url, headers=headers, timeout=30)
        sent["requests"] += 1
        if response.status_code >= 500:
            sent["5xx"] += 1
            failures.append(f"{label} {case.formatted_path}: {response.status_code}")

    fuzz()


def test_no_generated_request_gets_a_5xx(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json")
    sent: Counter = Counter()
    failures: list[str] = []
    for path, method, item, op in _operations(spec_for(live.app)):
        operation = schema[path][method.upper()]
        headers = _bearer(getattr(live, TOKEN_FOR.get(op["operationId"], "citizen")))
        fixed = {"slug": live.slug} if "{slug}" in path else None
        modes = [GenerationMode.POSITIVE]
        if item.get("parameters") or op.get("parameters") or op.get("requestBody"):
            modes.append(GenerationMode.NEGATIVE)
        label = f"{method.upper()} {path}"
        for mode in modes:
            _run(operation.as_strategy(generation_mode=mode, path_parameters=fixed),
                 live.url, headers, label, sent, failures)
    print(f"\nschemathesis: {sent['requests']} requests, {sent['5xx']} answers 5xx")
    assert sent["requests"] >= 10 * EXAMPLES  # every operation was really exercised
    assert failures == []
