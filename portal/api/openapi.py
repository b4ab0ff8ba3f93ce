"""The API described: an OpenAPI 3.1 document for every route under /api/v1.

``spec()`` returns the document (served at /api/v1/openapi.json); ``reference()`` flattens it
for the human-readable page at /api/v1/docs.  The descriptions follow the views in
``portal/api/views.py``: when a view changes, change its description here too
(``tests/api`` fuzzes the live API against this document).

A few enumerations come from the deployment's configuration, not from code: the districts
(``content/site.yaml``), the pledge codes (``content/pledges.yaml``) and the kinds of search
results (registered by the features).  They are filled in when an application is at hand.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

from markupsafe import Markup, escape

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
PREFIX = "/api/v1"
ID_MAX = 999_999_999  # route ids have at most 9 digits (portal.DatabaseId)

# -- small builders ------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": _json(schema)}


def _error(description: str, *codes: str) -> dict:
    """An error response: the Error schema, with ``error.code`` limited to ``codes``."""
    schema: dict = _ref("Error")
    if codes:
        schema = {"allOf": [_ref("Error"), {"properties": {"error": {"properties": {
            "code": {"enum": list(codes)}}}}}]}
    listed = ", ".join(f"`{c}`" for c in codes)
    return {"description": f"{description} (`error.code`: {listed})" if codes else description,
            "content": _json(schema)}


UNAUTHORIZED = {
    "description": "No valid bearer token: it is missing where one is needed, or a token was "
                   "sent that is not valid (refused on every API route, public ones included). "
                   "(`error.code`: `unauthorized`)",
    "headers": {"WWW-Authenticate": {
        "description": 'Always `Bearer realm="api"`.', "required": True,
        "schema": {"type": "string", "const": 'Bearer realm="api"'}}},
    "content": _json({"allOf": [_ref("Error"), {"properties": {"error": {"properties": {
        "code": {"const": "unauthorized"}}}}}]}),
}
FORBIDDEN_ROLE = _error("The token's account does not have the role this needs", "forbidden")
TOO_LARGE = _error("The request body is larger than the site accepts (8 MiB)", "too_large")
BAD_JSON = _error("The body is not a JSON object", "bad_json")

TOKEN = [{"bearer": []}]  # a token is needed
OPTIONAL_TOKEN = [{}, {"bearer": []}]  # public; a token, when sent, must be valid


def _int_path(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "format": "int32", "minimum": 1,
                       "maximum": ID_MAX}}


LANG = {
    "name": "lang", "in": "query", "required": False,
    "description": "Language of names, titles and error messages (`zh` or `en`); other values "
                   "are ignored.  Without it: the token's account language, a `lang` cookie, "
                   "`Accept-Language`, else `zh`.",
    "schema": {"type": "string", "enum": ["zh", "en"]},
}
EVENT_ID = _int_path("event_id", "event")
ACTIVITY_ID = _int_path("activity_id", "activity post")


# -- what the deployment configures ----------------------------------------------------------------


def _configured() -> dict[str, list[str]]:
    """Districts, pledge codes and search kinds, when an application is at hand."""
    found: dict[str, list[str]] = {}
    try:
        from portal.households.catalogue import catalogue
        from portal.search import sources
        from portal.site import site

        found["district_codes"] = [d.code for d in site().divisions]
        found["district_names"] = [n for d in site().divisions for n in (d.code, d.zh, d.en)]
        found["pledges"] = sorted(catalogue().actions)
        found["kinds"] = [s.kind for s in sources()]
    except RuntimeError:  # no application context: leave the lists open
        return {}
    return found


def _enum(values: list[str] | None, schema: dict) -> dict:
    return {**schema, "enum": values} if values else schema


# -- schemas -------------------------------------------------------------------------------------


def _schemas(conf: dict[str, list[str]]) -> dict[str, dict]:
    district = _enum(conf.get("district_codes"), {
        "type": "string", "description": "Code of one of the city's districts and counties."})
    text = {"type": ["string", "null"]}
    nonblank = {"type": "string", "pattern": "\\S"}
    when = {"type": "string", "format": "date-time",
            "description": "ISO 8601; without an offset the site's time zone (Asia/Shanghai) "
                           "is assumed, e.g. `2027-06-05T09:00:00+08:00`."}
    month = {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$",
             "description": "A month, `YYYY-MM`."}
    return {
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "description": "Every error of the API has this shape.",
            "properties": {"error": {
                "type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "Stable, for programs."},
                    "message": {"type": "string",
                                "description": "For people, in the request's language."},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "Input name → what is wrong with it (some "
                                              "422 and 409 answers only)."}}}},
        },
        "Me": {
            "type": "object", "additionalProperties": False,
            "required": ["email", "display_name", "role", "locale"],
            "properties": {
                "email": {"type": "string", "format": "idn-email"},
                "display_name": {"type": "string"},
                "role": {"type": "string", "enum": ["citizen", "school", "organizer", "admin"]},
                "locale": {"type": "string", "enum": ["zh", "en"],
                           "description": "The account's language, else the site default."}},
        },
        "SearchHit": {
            "type": "object", "additionalProperties": False,
            "required": ["kind", "id", "title", "url", "snippet", "lang"],
            "properties": {
                "kind": _enum(conf.get("kinds"), {"type": "string"}),
                "id": {"type": "string", "description": "The record's id within its kind."},
                "title": {"type": "string"},
                "url": {"type": "string", "description": "Site-relative address of the page.",
                        "pattern": "^/"},
                "snippet": {"type": "string", "description": "HTML: escaped text with the "
                                                             "matched words in `<mark>`."},
                "lang": {"type": "string", "enum": ["zh", "en"]}},
        },
        "SearchResults": {
            "type": "object", "additionalProperties": False,
            "required": ["query", "total", "page", "pages", "results"],
            "description": "One page (10 hits) of results, best first.",
            "properties": {
                "query": {"type": "string", "maxLength": 200,
                          "description": "The query as searched (normalised)."},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1, "maximum": 500},
                "pages": {"type": "integer", "minimum": 1},
                "results": {"type": "array", "maxItems": 10, "items": _ref("SearchHit")}},
        },
        "Observance": {
            "type": "object", "additionalProperties": False,
            "required": ["slug", "name", "start", "end", "kind", "provisional"],
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date",
                        "description": "The same as `start` for a single day."},
                "kind": {"type": "string", "enum": ["fixed", "rule", "announced"]},
                "provisional": {"type": "boolean",
                                "description": "Derived from the rule, not yet announced."}},
        },
        "Event": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "starts_at", "ends_at", "place", "district", "capacity",
                         "confirmed", "waitlisted", "seats_left", "status", "url"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "title": {"type": "string", "description": "In the request's language when "
                                                           "the event has it, else the other."},
                "starts_at": {"type": "string", "format": "date-time",
                              "description": "ISO 8601 with the site's offset (+08:00)."},
                "ends_at": {"type": "string", "format": "date-time"},
                "place": {"type": "string"},
                "district": district,
                "capacity": {"type": "integer", "minimum": 1},
                "confirmed": {"type": "integer", "minimum": 0},
                "waitlisted": {"type": "integer", "minimum": 0},
                "seats_left": {"type": "integer", "minimum": 0},
                "status": {"type": "string", "enum": ["published", "cancelled"]},
                "url": {"type": "string", "format": "uri", "description": "The event's page."}},
        },
        "EventInput": {
            "type": "object",
            "description": "Creates and publishes an event.  A title in at least one language "
                           "is needed (`title` is the Chinese one).  Optional fields may be "
                           "`null` (the same as absent).  Texts longer than their limit are "
                           "cut.",
            "required": ["starts_at", "ends_at", "place", "district", "capacity"],
            "anyOf": [{"required": [name], "properties": {name: nonblank}}
                      for name in ("title", "title_zh", "title_en")],
            "properties": {
                "title": {**text, "maxLength": 200, "description": "Chinese title."},
                "title_zh": {**text, "maxLength": 200,
                             "description": "Chinese title (used when given)."},
                "title_en": {**text, "maxLength": 200, "description": "English title."},
                "description": {**text, "maxLength": 20000,
                                "description": "Chinese description (Markdown)."},
                "description_zh": {**text, "maxLength": 20000,
                                   "description": "Used when `description` is empty."},
                "description_en": {**text, "maxLength": 20000},
                "starts_at": {**when, "description": "In the future. " + when["description"]},
                "ends_at": {**when, "description": "After `starts_at`."},
                "signup_deadline": {**when, "type": ["string", "null"],
                                    "description": "Not after `starts_at`; defaults to it."},
                "place": {**nonblank, "maxLength": 200},
                "district": _enum(conf.get("district_names"), {
                    "type": "string", "maxLength": 64,
                    "description": "A district's code or its name in either language."}),
                "capacity": {"type": "integer", "minimum": 1, "maximum": 100000},
                "observance": {**text, "maxLength": 64,
                               "description": "Slug of an observance day the event marks."},
                "min_age": {"type": ["integer", "null"], "minimum": 0, "maximum": 120},
                "notes": {**text, "maxLength": 2000}},
        },
        "Signup": {
            "type": "object", "additionalProperties": False, "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["confirmed", "waitlisted"]},
                "position": {"type": "integer", "minimum": 1,
                             "description": "Place on the waiting list (1 = next); only "
                                            "when waitlisted."}},
            "if": {"properties": {"status": {"const": "waitlisted"}}},
            "then": {"required": ["position"]},
            "else": {"not": {"required": ["position"]}},
        },
        "SignupCancelled": {
            "type": "object", "additionalProperties": False, "required": ["status"],
            "properties": {"status": {"type": "string", "const": "cancelled"}},
        },
        "Stats": {
            "type": "object", "additionalProperties": False,
            "required": ["households", "pledging_households", "pledges", "green_families",
                         "volunteers", "service_hours", "events", "published_activities"],
            "description": "Live city-wide figures.",
            "properties": {
                "households": {"type": "integer", "minimum": 0},
                "pledging_households": {"type": "integer", "minimum": 0},
                "pledges": {"type": "integer", "minimum": 0},
                "green_families": {"type": "integer", "minimum": 0,
                                   "description": "Named (or under rectification)."},
                "volunteers": {"type": "integer", "minimum": 0,
                               "description": "People who ever signed up for an event."},
                "service_hours": {"type": "number", "minimum": 0,
                                  "description": "Recorded hours of confirmed volunteers."},
                "events": {"type": "integer", "minimum": 0,
                           "description": "Published events."},
                "published_activities": {"type": "integer", "minimum": 0}},
        },
        "MonthlyReport": {
            "type": "object", "additionalProperties": False,
            "required": ["month", "kept", "kept_rate"],
            "properties": {
                "month": month,
                "kept": {"type": "array", "items": {"type": "string"},
                         "description": "Pledge codes kept that month."},
                "kept_rate": {"type": "number", "minimum": 0, "maximum": 1,
                              "description": "Kept ÷ pledged that month, 3 decimals."}},
        },
        "Household": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "name", "district", "members", "status", "pledges", "reports",
                         "streak", "estimated_co2_kg"],
            "description": "The caller's own household (found from the token, never by id).",
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "maxLength": 40},
                "district": district,
                "members": {"type": "integer", "minimum": 1, "maximum": 30},
                "status": {"type": "string",
                           "enum": ["none", "named", "rectification", "revoked"],
                           "description": "Recognition as a green family."},
                "pledges": {"type": "array", "items": {"type": "string"}},
                "reports": {"type": "array", "items": _ref("MonthlyReport"),
                            "description": "Oldest first."},
                "streak": {"type": "integer", "minimum": 0,
                           "description": "Consecutive months at or above the kept rate."},
                "estimated_co2_kg": {"type": "number", "minimum": 0,
                                     "description": "An estimate, not a measurement."}},
        },
        "HouseholdInput": {
            "type": "object", "required": ["name", "district"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "\\S",
                         "description": "e.g. 王家"},
                "district": _enum(conf.get("district_names"), {
                    "type": "string",
                    "description": "A district's code or its name in either language."}),
                "town": {"type": "string", "maxLength": 80},
                "members": {"type": "integer", "minimum": 1, "maximum": 30, "default": 1},
                "phone": {"type": ["string", "null"],
                          "description": "Optional mainland mobile number (11 digits, `+86` "
                                         "allowed); only staff see it, masked."}},
        },
        "PledgesInput": {
            "type": "object", "required": ["codes"],
            "properties": {"codes": {
                "type": "array", "items": _enum(conf.get("pledges"), {"type": "string"}),
                "description": "The complete new list of pledge codes (replaces the old)."}},
        },
        "ReportInput": {
            "type": "object", "required": ["month"],
            "properties": {
                "month": {**month, "description": "The current or the previous month "
                                                  "(site time)."},
                "kept": {"type": "array", "items": {"type": "string"}, "default": [],
                         "description": "Codes of the household's pledges kept that month."}},
        },
        "ActivityInput": {
            "type": "object", "required": ["title", "body", "activity_date"],
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 200,
                          "pattern": "\\S"},
                "body": {"type": "string", "minLength": 1, "maxLength": 20000,
                         "pattern": "\\S", "description": "Markdown."},
                "activity_date": {"type": "string", "format": "date"},
                "topics": {"type": "array", "items": {"type": "string"}, "default": [],
                           "description": "Slugs of library topics."}},
        },
        "ActivitySubmitted": {
            "type": "object", "additionalProperties": False, "required": ["id", "status"],
            "properties": {"id": {"type": "integer", "minimum": 1},
                           "status": {"type": "string", "const": "submitted"}},
        },
        "Activity": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "school", "title", "html", "activity_date", "status", "url"],
            "description": "A school's activity post.  Published posts show their published "
                           "version; others (seen by editors and staff only) their draft.",
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "school": {"type": "string", "description": "The school's slug."},
                "title": {"type": "string"},
                "html": {"type": "string", "description": "The text rendered to safe HTML."},
                "activity_date": {"type": ["string", "null"], "format": "date"},
                "status": {"type": "string",
                           "enum": ["draft", "submitted", "published", "rejected"]},
                "url": {"type": "string", "pattern": "^/activities/[0-9]+$",
                        "description": "Site-relative address of the post's page."}},
        },
        "RejectInput": {
            "type": "object", "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500,
                                      "pattern": "\\S",
                                      "description": "Shown to the school's editors."}},
        },
    }


# -- operations ----------------------------------------------------------------------------------


def _paths(conf: dict[str, list[str]]) -> dict[str, dict]:
    event_404 = _error("No such published (or cancelled) event", "not_found")
    activity_404 = _error("No such post", "not_found")
    household_404 = _error("The caller does not belong to a household", "not_found")
    created_event = _ok("The event, created and published", _ref("Event"))
    return {
        f"{PREFIX}/me": {"get": {
            "operationId": "me", "tags": ["account"], "security": TOKEN,
            "summary": "The account the token belongs to",
            "responses": {"200": _ok("The account", _ref("Me")), "401": UNAUTHORIZED}}},
        f"{PREFIX}/search": {"get": {
            "operationId": "search", "tags": ["search"], "security": OPTIONAL_TOKEN,
            "summary": "Search the library, observance days, events and school posts",
            "description": "Any text is safe: there is no query syntax.  Chinese and English "
                           "can be mixed.  An empty query gives no results.",
            "parameters": [
                {"name": "q", "in": "query", "required": False,
                 "description": "What to search for: at most 200 characters once spaces are "
                                "collapsed and control characters dropped.",
                 "schema": {"type": "string", "maxLength": 200}},
                {"name": "kind", "in": "query", "required": False,
                 "description": "Only results of this kind.",
                 "schema": _enum(conf.get("kinds"), {"type": "string"})},
                {"name": "lang", "in": "query", "required": False,
                 "description": "Only results in this language (this also sets the language "
                                "of error messages).",
                 "schema": {"type": "string", "enum": ["zh", "en"]}},
                {"name": "page", "in": "query", "required": False,
                 "description": "Page of results (10 a page).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 1}}],
            "responses": {
                "200": _ok("A page of results", _ref("SearchResults")),
                "400": _error("A parameter is not valid: the query is too long, the page is "
                              "not a number from 1 to 500, or the kind or language is unknown",
                              "too_long", "bad_page", "bad_kind", "bad_lang"),
                "401": UNAUTHORIZED}}},
        f"{PREFIX}/observances": {"get": {
            "operationId": "observances", "tags": ["observances"], "security": OPTIONAL_TOKEN,
            "summary": "Observance days (environment days) in a year",
            "description": "Each day or week that falls in the year, in the library's order.  "
                           "Days whose date is not known yet for that year are left out.",
            "parameters": [
                {"name": "year", "in": "query", "required": False,
                 "description": "Default: the current year.",
                 "schema": {"type": "integer", "minimum": 1900, "maximum": 2200}},
                LANG],
            "responses": {
                "200": _ok("The observance days", {"type": "array",
                                                   "items": _ref("Observance")}),
                "400": _error("The year is not a number from 1900 to 2200", "bad_year"),
                "401": UNAUTHORIZED}}},
        f"{PREFIX}/events": {
            "get": {
                "operationId": "listEvents", "tags": ["events"], "security": OPTIONAL_TOKEN,
                "summary": "Published events, soonest first",
                "description": "Events that overlap the days given (site time); either end "
                               "may be left open.  Cancelled events are not listed.",
                "parameters": [
                    {"name": "from", "in": "query", "required": False,
                     "description": "First day (events still running then are included).",
                     "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "required": False,
                     "description": "Last day, inclusive.",
                     "schema": {"type": "string", "format": "date"}},
                    LANG],
                "responses": {
                    "200": _ok("The events", {"type": "array", "items": _ref("Event")}),
                    "400": _error("`from` or `to` is not a date (YYYY-MM-DD)", "bad_request"),
                    "401": UNAUTHORIZED}},
            "post": {
                "operationId": "createEvent", "tags": ["events"], "security": TOKEN,
                "summary": "Create and publish an event",
                "description": "For city staff (organizer, admin) and verified schools' "
                               "editors (role school).",
                "requestBody": {"required": True, "content": _json(_ref("EventInput"))},
                "responses": {
                    "201": created_event,
                    "400": BAD_JSON,
                    "401": UNAUTHORIZED,
                    "403": FORBIDDEN_ROLE,
                    "413": TOO_LARGE,
                    "422": _error("Some fields are not valid; `error.fields` names them "
                                  "(`title`, `starts_at`, `ends_at`, `signup_deadline`, "
                                  "`place`, `district`, `capacity`, `min_age`, "
                                  "`observance_slug`, or any text field that is not text)",
                                  "invalid")}}},
        f"{PREFIX}/events/{{event_id}}": {"get": {
            "operationId": "getEvent", "tags": ["events"], "security": OPTIONAL_TOKEN,
            "summary": "One event",
            "description": "Published and cancelled events; drafts are not found.",
            "parameters": [EVENT_ID, LANG],
            "responses": {"200": _ok("The event", _ref("Event")), "401": UNAUTHORIZED,
                          "404": event_404}}},
        f"{PREFIX}/events/{{event_id}}/signup": {
            "parameters": [EVENT_ID],
            "post": {
                "operationId": "signUp", "tags": ["events"], "security": TOKEN,
                "summary": "Sign up for an event",
                "description": "A place while places remain and nobody waits, else a place on "
                               "the waiting list.  Signing up again changes nothing (200).",
                "responses": {
                    "200": _ok("Already signed up: unchanged", _ref("Signup")),
                    "201": _ok("Signed up", _ref("Signup")),
                    "401": UNAUTHORIZED,
                    "404": _error("No such published event", "not_found"),
                    "409": _error("The event is cancelled or its sign-ups have closed",
                                  "cancelled", "closed")}},
            "delete": {
                "operationId": "cancelSignup", "tags": ["events"], "security": TOKEN,
                "summary": "Give up a place (or a place on the waiting list)",
                "description": "The first person waiting moves up.",
                "responses": {
                    "200": _ok("Cancelled", _ref("SignupCancelled")),
                    "401": UNAUTHORIZED,
                    "404": _error("No such event", "not_found"),
                    "409": _error("Not signed up, or the event has started",
                                  "not_signed_up", "started")}}},
        f"{PREFIX}/stats": {"get": {
            "operationId": "stats", "tags": ["households"], "security": OPTIONAL_TOKEN,
            "summary": "City-wide figures",
            "responses": {"200": _ok("The figures", _ref("Stats")), "401": UNAUTHORIZED}}},
        f"{PREFIX}/household": {
            "get": {
                "operationId": "getHousehold", "tags": ["households"], "security": TOKEN,
                "summary": "The caller's household",
                "responses": {"200": _ok("The household", _ref("Household")),
                              "401": UNAUTHORIZED, "404": household_404}},
            "post": {
                "operationId": "createHousehold", "tags": ["households"], "security": TOKEN,
                "summary": "Register a household (the caller becomes its owner)",
                "requestBody": {"required": True, "content": _json(_ref("HouseholdInput"))},
                "responses": {
                    "201": _ok("The household", _ref("Household")),
                    "400": BAD_JSON,
                    "401": UNAUTHORIZED,
                    "409": _error("The caller already belongs to a household", "exists"),
                    "413": TOO_LARGE,
                    "422": _error("Some fields are not valid; `error.fields` names them "
                                  "(`name`, `district`, `members`, `town`, `phone`)",
                                  "invalid")}}},
        f"{PREFIX}/household/pledges": {"put": {
            "operationId": "setPledges", "tags": ["households"], "security": TOKEN,
            "summary": "Replace the household's pledges",
            "requestBody": {"required": True, "content": _json(_ref("PledgesInput"))},
            "responses": {
                "200": _ok("The household", _ref("Household")),
                "401": UNAUTHORIZED,
                "404": household_404,
                "413": TOO_LARGE,
                "422": _error("The body is not `{\"codes\": [strings]}` (`invalid`), or names "
                              "unknown pledges (`unknown_pledge`, `error.fields.codes`)",
                              "invalid", "unknown_pledge")}}},
        f"{PREFIX}/household/reports": {"post": {
            "operationId": "reportMonth", "tags": ["households"], "security": TOKEN,
            "summary": "Report which pledges the household kept in a month",
            "description": "The current and the previous month (site time) can be reported; "
                           "reporting a month again replaces the report.",
            "requestBody": {"required": True, "content": _json(_ref("ReportInput"))},
            "responses": {
                "201": _ok("The month's report", _ref("MonthlyReport")),
                "400": BAD_JSON,
                "401": UNAUTHORIZED,
                "404": household_404,
                "409": _error("The household has no pledges yet", "no_pledges"),
                "413": TOO_LARGE,
                "422": _error("`kept` is not a list of strings (`invalid`), the month is not "
                              "YYYY-MM (`bad_month`) or not open (`month_not_open`), or a kept "
                              "code is not pledged (`not_pledged`)",
                              "invalid", "bad_month", "month_not_open", "not_pledged")}}},
        f"{PREFIX}/schools/{{slug}}/activities": {"post": {
            "operationId": "createActivity", "tags": ["schools"], "security": TOKEN,
            "summary": "Post a school activity for review",
            "description": "For editors of a verified school.  The post is saved and submitted "
                           "for review by city staff at once.  **Posting via the API is the "
                           "editor's confirmation that no pupil can be identified without a "
                           "guardian's consent** (the confirmation the web form asks for).",
            "parameters": [{"name": "slug", "in": "path", "required": True,
                            "description": "The school's slug.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 80,
                                       "pattern": "^[^/]+$"}}],
            "requestBody": {"required": True, "content": _json(_ref("ActivityInput"))},
            "responses": {
                "201": _ok("Saved and submitted for review", _ref("ActivitySubmitted")),
                "400": BAD_JSON,
                "401": UNAUTHORIZED,
                "403": _error("The caller is not an editor of this (verified) school",
                              "forbidden"),
                "404": _error("No such school", "not_found"),
                "413": TOO_LARGE,
                "422": _error("Some fields are not valid; `error.fields` names them (`title`, "
                              "`body`, `activity_date`, `topics`)", "invalid")}}},
        f"{PREFIX}/activities/{{activity_id}}": {"get": {
            "operationId": "getActivity", "tags": ["schools"], "security": OPTIONAL_TOKEN,
            "summary": "One activity post",
            "description": "Published posts for everyone; others for the school's editors "
                           "and city staff only (not found for anyone else).",
            "parameters": [ACTIVITY_ID],
            "responses": {"200": _ok("The post", _ref("Activity")), "401": UNAUTHORIZED,
                          "404": activity_404}}},
        f"{PREFIX}/activities/{{activity_id}}/approve": {"post": {
            "operationId": "approveActivity", "tags": ["schools"], "security": TOKEN,
            "summary": "Publish the version waiting for review (city staff)",
            "parameters": [ACTIVITY_ID],
            "responses": {
                "200": _ok("The post, published", _ref("Activity")),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN_ROLE,
                "404": activity_404,
                "409": _error("Nothing is waiting for review in this post", "not_submitted")}}},
        f"{PREFIX}/activities/{{activity_id}}/reject": {"post": {
            "operationId": "rejectActivity", "tags": ["schools"], "security": TOKEN,
            "summary": "Send the version waiting for review back to the school (city staff)",
            "parameters": [ACTIVITY_ID],
            "requestBody": {"required": True, "content": _json(_ref("RejectInput"))},
            "responses": {
                "200": _ok("The post", _ref("Activity")),
                "401": UNAUTHORIZED,
                "403": FORBIDDEN_ROLE,
                "404": activity_404,
                "409": _error("Nothing is waiting for review in this post", "not_submitted"),
                "413": TOO_LARGE,
                "422": _error("No reason was given (`error.fields.reason`)",
                              "reason_required")}}},
        f"{PREFIX}/openapi.json": {"get": {
            "operationId": "openapi", "tags": ["meta"], "security": OPTIONAL_TOKEN,
            "summary": "This description (OpenAPI 3.1)",
            "responses": {"200": _ok("The OpenAPI document", {"type": "object",
                                                               "required": ["openapi"]}),
                          "401": UNAUTHORIZED}}},
        f"{PREFIX}/docs": {"get": {
            "operationId": "docs", "tags": ["meta"], "security": OPTIONAL_TOKEN,
            "summary": "This description as a web page",
            "responses": {"200": {"description": "An HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                          "401": UNAUTHORIZED}}},
    }


INFO_DESCRIPTION = """\
The JSON API of the Green Jiaxing portal (绿色嘉兴).

**Authentication.**  Send `Authorization: Bearer <token>`; people create tokens on their account
page.  Cookies are ignored here and no CSRF token is needed.  Public operations need no token,
but a token that is sent must be valid: an invalid one is refused with 401 everywhere.

**Errors** are always JSON of the `Error` schema, `{"error": {"code", "message"[, "fields"]}}`:
`code` is stable, `message` is for people.  Besides the answers listed per operation, any
address under /api/ that does not exist answers 404 (`not_found`), a method a path does not
accept answers 405 (`method_not_allowed`, with an `Allow` header), and a body over 8 MiB 413
(`too_large`).

**Language.**  Names, titles and messages are in Chinese (`zh`) or English (`en`): `?lang=`,
else the token's account language, else `Accept-Language`, else Chinese.

**Times** are ISO 8601 with an offset, in the site's time zone (Asia/Shanghai, +08:00); days
are `YYYY-MM-DD`.
"""


def spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1 (a fresh dict on every call)."""
    conf = _configured()
    paths = _paths(conf)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Green Jiaxing API", "version": API_VERSION,
                 "summary": "Events, observance days, search, green households and school "
                            "activities of the Green Jiaxing portal.",
                 "description": INFO_DESCRIPTION},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [
            {"name": "account", "description": "Who the token belongs to."},
            {"name": "search", "description": "Site search."},
            {"name": "observances", "description": "Environment days."},
            {"name": "events", "description": "Volunteer events and sign-ups."},
            {"name": "households", "description": "Green households and city figures."},
            {"name": "schools", "description": "School activity posts and their review."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(conf),
            "responses": {
                "MethodNotAllowed": {
                    "description": "The path does not accept this method "
                                   "(`error.code`: `method_not_allowed`).",
                    "headers": {"Allow": {"required": True, "schema": {"type": "string"},
                                          "description": "The methods the path accepts."}},
                    "content": _json(_ref("Error"))},
                "NotFound": _error("Nothing under /api/ answers at this address", "not_found"),
            },
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token (`gj_…`) created on the account page or with "
                               "`flask users token EMAIL`."}},
        },
    }


# -- the human-readable page ---------------------------------------------------------------------

METHODS = ("get", "put", "post", "delete", "patch")


def inline(text: str) -> Markup:
    """The little Markdown the descriptions use (`code`, **strong**) as safe HTML."""
    html = str(escape(text))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return Markup(html)  # noqa: S704 (escaped above; only our own tags added)


def paragraphs(text: str) -> list[Markup]:
    return [inline(" ".join(p.split())) for p in text.split("\n\n") if p.strip()]


def _resolve(doc: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = doc["components"]["schemas"][name]
    return node


def type_label(schema: dict | None) -> str:
    """A short, readable type: ``Event``, ``array of Observance``, ``string (date) | null``."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " & ".join(type_label(s) for s in schema["allOf"] if "$ref" in s) or "object"
    kinds = schema.get("type", "")
    kinds = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
    main = [k for k in kinds if k != "null"]
    label = " | ".join(main) or ("const" if "const" in schema else "any")
    if "array" in main:
        label = f"array of {type_label(schema.get('items'))}"
    if schema.get("format"):
        label += f" ({schema['format']})"
    if "null" in kinds:
        label += " | null"
    return label


def constraints(schema: dict) -> str:
    """Limits, patterns, defaults and allowed values, as one line."""
    parts = []
    if "const" in schema:
        parts.append(f"always {schema['const']!r}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(str(v) for v in schema["enum"]))
    for key, word in (("minimum", "≥"), ("maximum", "≤")):
        if key in schema and not (key == "maximum" and schema[key] == ID_MAX):
            parts.append(f"{word} {schema[key]}")
    if "minLength" in schema and schema["minLength"] > 1:
        parts.append(f"at least {schema['minLength']} characters")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    if "pattern" in schema and schema["pattern"] not in ("\\S", "^[^/]+$"):
        parts.append(f"pattern {schema['pattern']}")
    if "default" in schema:
        parts.append(f"default {schema['default']!r}")
    items = schema.get("items") or {}
    if "enum" in items:
        parts.append("items: " + ", ".join(items["enum"]))
    return "; ".join(parts)


def _fields(doc: dict, schema: dict | None) -> list[dict]:
    schema = _resolve(doc, schema or {})
    required = set(schema.get("required", []))
    return [{"name": name, "type": type_label(sub), "required": name in required,
             "constraints": constraints(_resolve(doc, sub)),
             "description": inline(sub.get("description", ""))}
            for name, sub in schema.get("properties", {}).items()]


def reference(doc: dict | None = None) -> list[dict]:
    """The document flattened for the docs page: one entry per operation, in path order."""
    doc = deepcopy(doc if doc is not None else spec())
    out = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": type_label(p["schema"]), "constraints": constraints(p["schema"]),
                       "description": inline(p.get("description", ""))}
                      for p in [*shared, *op.get("parameters", [])]]
            body = op.get("requestBody")
            body_schema = body["content"]["application/json"]["schema"] if body else None
            responses = []
            for status, resp in op["responses"].items():
                content = resp.get("content", {})
                media = next(iter(content), "")
                schema = content[media]["schema"] if media else None
                responses.append({"status": status, "description": inline(resp["description"]),
                                  "media": media, "type": type_label(schema)})
            out.append({
                "id": op["operationId"], "method": method.upper(), "path": path,
                "summary": op.get("summary", ""),
                "description": paragraphs(op.get("description", "")),
                "token": "required" if op.get("security") == TOKEN else "optional",
                "parameters": params,
                "body": {"type": type_label(body_schema),
                         "description": inline(_resolve(doc, body_schema).get("description", "")),
                         "fields": _fields(doc, body_schema)} if body else None,
                "responses": responses})
    return out


def schema_reference(doc: dict | None = None) -> list[dict]:
    """The reusable schemas, with their fields, for the docs page."""
    doc = doc if doc is not None else spec()
    return [{"name": name, "description": inline(schema.get("description", "")),
             "fields": _fields(doc, schema)}
            for name, schema in doc["components"]["schemas"].items()]
