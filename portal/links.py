"""Absolute links (mail, feeds, calendar files): the one place that builds them.

From ``BASE_URL`` when it is configured; otherwise, inside a request, from the request's own
address, and outside one (the job worker) from ``http://localhost:5000``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def base_url() -> str:
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def absolute(endpoint: str, **values) -> str:
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)
