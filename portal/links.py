"""Absolute links (mail, feeds, calendar files, the pages that show them): the one place that
builds them, so a forged ``Host`` header never ends up in a link.

The base is ``BASE_URL`` when it is configured.  Otherwise, inside a request, the request's
own address, but only when ``TRUSTED_HOSTS`` is set (Flask has then refused every other
``Host`` with 400); outside one (the job worker) the first name in ``TRUSTED_HOSTS``; failing
all that, ``http://localhost:5000`` (development).  ``HTTPS`` makes every link ``https://``.
``PROXY_FIX`` (the number of reverse proxies in front) lets Werkzeug's ``ProxyFix`` take the
scheme, host and client address from their ``X-Forwarded-*`` headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask.globals import request_ctx
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

DEVELOPMENT_BASE = "http://localhost:5000"


def init_app(app) -> None:
    app.jinja_env.globals["absolute_url"] = absolute
    app.before_request(refuse_untrusted_host)
    proxies = app.config.get("PROXY_FIX") or 0
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def refuse_untrusted_host():
    """``before_request`` (the first): a Host outside ``TRUSTED_HOSTS`` is answered 400 before
    anything else runs.  Flask found no URL adapter for such a request, so the error page gets
    one bound to the configured base (its links are then ours, not the forged host's)."""
    error = request.routing_exception
    if isinstance(error, SecurityError):
        request_ctx.url_adapter = _adapter()
        raise error


def _trusted_request_base(trusted: list[str]) -> str | None:
    if not has_request_context():
        return None
    try:
        host = request.host  # raises for a host outside TRUSTED_HOSTS
    except SecurityError:
        return None
    if not host_is_trusted(host, trusted):
        return None
    return request.host_url


def _first_named_host(trusted: list[str]) -> str | None:
    for host in trusted:
        if host and not host.startswith("."):
            return "http://" + host
    return None


def base_url() -> str:
    cfg = current_app.config
    trusted = cfg.get("TRUSTED_HOSTS") or []
    base = (cfg.get("BASE_URL") or (trusted and (_trusted_request_base(trusted)
                                                 or _first_named_host(trusted)))
            or DEVELOPMENT_BASE)
    base = base.rstrip("/")
    if cfg.get("HTTPS"):
        base = urlsplit(base)._replace(scheme="https").geturl()
    return base


def _adapter():
    parts = urlsplit(base_url())
    return current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                    url_scheme=parts.scheme or "http")


def absolute(endpoint: str, **values) -> str:
    return _adapter().build(endpoint, values, force_external=True)
