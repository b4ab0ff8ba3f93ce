"""Error pages (localised HTML) and JSON errors for the API, for every status we raise."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import limits
from portal.db import discard
from portal.i18n import _
from portal.rules import RuleError
from portal.security import local_path

API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "too_large",
             415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
             500: "internal_error", 503: "unavailable"}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you sent and try again."),
        401: _("You need to sign in (or send a valid API token) to do this."),
        403: _("You do not have permission to open this page."),
        404: _("We could not find this page. It may have moved or never existed."),
        405: _("This address does not accept that kind of request."),
        409: _("This conflicts with the current state. Please reload and try again."),
        413: _("What you sent is too large."),
        415: _("This kind of content is not accepted here."),
        422: _("Some of what you sent is not valid."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. We have been told and will look into it."),
        503: _("The service is unavailable right now. Please try again later."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str | None = None, code: str | None = None,
               fields: dict[str, str] | None = None):
    """``{"error": {"code", "message"[, "fields"]}}``: ``fields`` maps input names to
    what is wrong with them (for 422)."""
    messages = _messages()
    body = {"error": {"code": code or API_CODES.get(status, "error"),
                      "message": message or messages.get(status, messages[400])}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _page(status: int, message: str | None = None):
    messages = _messages()
    text = message or messages.get(status) or messages[400 if status < 500 else 500]
    try:
        return render_template("errors/error.html", status=status, message=text), status
    except Exception:  # the page itself failed (e.g. the database is down): plain fallback
        current_app.logger.exception("error page could not be rendered")
        return (f"<!doctype html><html lang='zh-CN'><title>{status}</title>"
                f"<main><h1>{status}</h1><p>{text}</p></main></html>"), status


def handle_http(error: HTTPException):
    status = error.code or 500
    if wants_json():
        response = json_error(status)
    else:
        response = _page(status)
    if status == 405 and getattr(error, "valid_methods", None):
        response = make_response(response)
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401 and wants_json():
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if status == 429:  # over a rate limit (portal/limits.py): when to try again
        response = make_response(response)
        response.headers["Retry-After"] = str(limits.retry_after())
    return response


def handle_csrf(error: CSRFError):
    message = _("This form has expired or was not sent from this site. "
                "Please go back, reload the page and try again.")
    return json_error(400, message) if wants_json() else _page(400, message)


def _back() -> str:
    """Where a refused form goes back to: the page it came from, when that is on this site."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc == request.host:
        back = local_path(parts.path + (f"?{parts.query}" if parts.query else ""))
        if back:
            return back
    return url_for("core.home")


def handle_rule(error: RuleError):
    """A service's rule said no: the JSON error shape in the API; on pages a flash message
    and back to the page the request came from (views that redisplay a form catch it
    themselves to show ``fields`` beside the inputs)."""
    if wants_json():
        return json_error(error.status, error.message, error.code, error.fields or None)
    if request.method in ("GET", "HEAD"):
        return _page(error.status, error.message)
    flash(error.message, "error")
    return redirect(_back())


def handle_crash(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http(error)
    if current_app.testing or current_app.debug:
        raise error  # tests and the debugger see the real traceback
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    try:
        discard()
    except Exception:
        current_app.logger.exception("rollback after error failed")
    return handle_http(InternalServerError())


def init_app(app) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(RuleError, handle_rule)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_crash)
