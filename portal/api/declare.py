"""The front door to flask-openapi3: how an /api/v1 route is declared, how bad input is
answered, and the OpenAPI document generated from the declarations.

A route is declared once, with :func:`operation`: its path, query and body models are the
view's annotated ``path``/``query``/``body`` parameters (``portal.api.schemas``); the answers
it gives are listed with their description and, for errors, the ``error.code`` values they
carry.  flask-openapi3 validates the input against the models before the view runs and
hands it the parsed objects; :func:`invalid` turns its validation errors into the API's one
error shape.  :func:`document` is the OpenAPI 3.1 document (served at /api/v1/openapi.json
and rendered at /api/v1/docs).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from flask import abort, current_app
from flask_openapi3 import APIBlueprint, Info, Tag
from pydantic import BaseModel, ValidationError

from portal import limits
from portal.api import schemas
from portal.households.catalogue import catalogue
from portal.i18n import _
from portal.rules import RuleError
from portal.search import sources
from portal.site import site

API_VERSION = "1.0.0"
PREFIX = "/api/v1"
TOKEN = [{"bearer": []}]  # a token is needed
OPTIONAL_TOKEN = [{}, {"bearer": []}]  # public; a token, when sent, must be valid
HTML = "text/html"  # an answer that is a web page, not JSON

TAGS = {tag.name: tag for tag in (
    Tag(name="account", description="Who the token belongs to."),
    Tag(name="search", description="Site search."),
    Tag(name="observances", description="Environment days."),
    Tag(name="events", description="Volunteer events and sign-ups."),
    Tag(name="households", description="Green households and city figures."),
    Tag(name="schools", description="School activity posts and their review."),
    Tag(name="articles", description="Articles, news, notices and pages (editorial)."),
    Tag(name="meta", description="This description."),
)}

bp = APIBlueprint("api", __name__, url_prefix=PREFIX, template_folder="templates")

INFO_DESCRIPTION = """\
The JSON API of the Green Jiaxing portal (绿色嘉兴).

**Authentication.**  Send `Authorization: Bearer <token>`; people create tokens on their account
page.  Cookies are ignored here and no CSRF token is needed.  Public operations need no token,
but a token that is sent must be valid: an invalid one is refused with 401 everywhere.

**Errors** are always JSON of the `Error` schema, `{"error": {"code", "message"[, "fields"]}}`:
`code` is stable, `message` is for people.  A body that does not match its schema is refused
with 422 (`invalid`, or a more precise code where listed) and `error.fields` naming each field
that is wrong; a query parameter that does not match, with 400 and `error.fields` likewise.
Besides the answers listed per operation, any address under /api/ that does not exist answers
404 (`not_found`), a method a path does not accept answers 405 (`method_not_allowed`, with an
`Allow` header), and a body over 8 MiB 413 (`too_large`).

**Language.**  Names, titles and messages are in Chinese (`zh`) or English (`en`): `?lang=`,
else the token's account language, else `Accept-Language`, else Chinese.

**Times** are ISO 8601 with an offset, in the site's time zone (Asia/Shanghai, +08:00); days
are `YYYY-MM-DD`.
"""

UNAUTHORIZED_TEXT = ("No valid bearer token: it is missing where one is needed, or a token "
                     "was sent that is not valid (refused on every API route, public ones "
                     "included)")


@dataclass(frozen=True)
class Declared:
    """What :func:`operation` records beside what flask-openapi3 records."""

    ok: dict[int, tuple[Any, str]]
    errors: dict[int, tuple[str, ...]]
    token: bool
    roles: bool
    models: dict[str, type[BaseModel]] = field(default_factory=dict)  # path, query, body


DECLARED: dict[str, Declared] = {}


def operation(method: str, rule: str, *, id: str, tag: str, ok: dict[int, tuple[Any, str]],
              errors: dict[int, tuple[str, ...]] | None = None, token: bool = True,
              roles: bool = False) -> Callable:
    """Declare an /api/v1 route.

    ``ok`` maps each success status to ``(model, description)`` (model ``HTML`` for a page),
    or ``(model, description, headers)`` with the OpenAPI description of headers it sends;
    ``errors`` maps each error status to ``(description, code, ...)``.  The view's docstring
    gives the summary (first line) and the description (the rest, Markdown).  Every operation also
    answers 401; ``roles=True`` adds the 403 of a missing role; a body adds 400 (not a JSON
    object), 413 and 422; a query string adds 400 (a parameter not valid)."""
    def decorate(func: Callable) -> Callable:
        hints = get_type_hints(func)
        DECLARED[id] = Declared(ok=ok, errors=dict(errors or {}), token=token, roles=roles,
                                models={k: v for k, v in hints.items()
                                        if k in ("path", "query", "body")})
        responses = {status: model for status, (model, *_text) in ok.items()
                     if isinstance(model, type) and issubclass(model, BaseModel)}
        summary, _blank, rest = (inspect.getdoc(func) or "").partition("\n")
        paragraphs = [" ".join(p.split()) for p in rest.split("\n\n") if p.strip()]
        register = getattr(bp, method)
        return register(rule, operation_id=id, tags=[TAGS[tag]], responses=responses,
                        summary=summary.strip(), description="\n\n".join(paragraphs) or None,
                        security=TOKEN if token else OPTIONAL_TOKEN)(func)
    return decorate


def reply(model: BaseModel, status: int = 200):
    """An answer serialised by its model (fields left unset, like an absent ``position``, are
    left out)."""
    body = model.model_dump_json(by_alias=True, exclude_unset=True)
    return current_app.response_class(body, status=status, mimetype="application/json")


# -- bad input -------------------------------------------------------------------------------

def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _("This is required.")
    if kind == "string_type":
        return _("Must be text.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Must be a whole number.")
    if kind in ("list_type", "tuple_type"):
        return _("Must be a list.")
    if kind == "bool_type":
        return _("Must be true or false.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.", n=ctx.get("max_length"))
    if kind == "string_too_short":
        return _("This is required.")
    if kind == "too_long":
        return _("At most %(n)s items.", n=ctx.get("max_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        if pattern == r"\S":
            return _("Must not be blank.")
        if pattern == schemas.MONTH_PATTERN:
            return _("Use a month as YYYY-MM, e.g. 2027-06.")
        return _("This is not in the expected form.")
    if kind == "date_out_of_range":
        return _("Give a date between 1900 and 2200.")
    if kind.startswith("datetime") or kind == "iso_datetime":
        return _("Use ISO 8601, e.g. 2027-06-05T09:00:00+08:00.")
    if kind.startswith("date") or kind == "iso_date":
        return _("Use a date as YYYY-MM-DD, e.g. 2027-06-05.")
    if kind in ("literal_error", "enum"):
        values = str(ctx.get("expected", "")).replace(" or ", ", ")
        return _("Must be one of: %(values)s.", values=values)
    return _("This value is not valid.")


def invalid(error: ValidationError):
    """flask-openapi3's ``validation_error_callback``: bad input as the API's error shape.
    A path parameter out of range is simply not found (404); a body that is not a JSON object
    is 400 (``bad_json``); a bad query parameter 400 and a bad body field 422, each with
    ``error.fields``."""
    model = schemas.Shape.named.get(error.title)
    problems = error.errors(include_url=False, include_input=False)
    if model is not None and model.__name__.endswith("Path"):
        abort(404)
    if any(not p["loc"] for p in problems):
        raise RuleError("bad_json", _("Send a JSON object."), 400)
    fields: dict[str, str] = {}
    for problem in problems:
        fields.setdefault(str(problem["loc"][0]), _message(problem))
    codes = model.error_codes if model is not None else {}
    code = next((codes[name] for name in fields if name in codes), None)
    if model is not None and model.__name__.endswith("Query"):
        raise RuleError(code or "bad_query", _("A parameter is not valid."), 400, fields)
    raise RuleError(code or "invalid", _("Some fields are not valid."), 422, fields)


def init_app(app) -> None:
    """Configure the application's OpenAPI side (``app`` is a flask-openapi3 ``OpenAPI``)."""
    app.info = Info(title="Green Jiaxing API", version=API_VERSION,
                    summary="Events, observance days, search, green households and school "
                            "activities of the Green Jiaxing portal.",
                    description=INFO_DESCRIPTION)
    app.security_schemes = {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "An API token (`gj_…`) created on the account page or with "
                       "`flask users token EMAIL`."}}
    app.validation_error_callback = invalid
    app.register_api(bp)


# -- the document ----------------------------------------------------------------------------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _error(description: str, *codes: str) -> dict:
    """An error answer: the Error schema, with ``error.code`` limited to ``codes``."""
    schema = _ref("Error")
    if codes:
        schema = {"allOf": [_ref("Error"), {"properties": {"error": {"properties": {
            "code": {"enum": list(codes)}}}}}]}
    listed = ", ".join(f"`{c}`" for c in codes)
    return {"description": f"{description} (`error.code`: {listed})" if codes else description,
            "content": _json(schema)}


def _too_many() -> dict:
    answer = _error("Too many writes with this token (or from this address without one); "
                    "`Retry-After` gives the seconds to wait", "too_many_requests")
    answer["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer"},
                                         "description": "Seconds until writes are accepted "
                                                        "again."}}
    return answer


def _unauthorized() -> dict:
    answer = _error(UNAUTHORIZED_TEXT, "unauthorized")
    answer["headers"] = {"WWW-Authenticate": {
        "description": 'Always `Bearer realm="api"`.', "required": True,
        "schema": {"type": "string", "const": 'Bearer realm="api"'}}}
    return answer


def _answers(declared: Declared, generated: dict, method: str = "get") -> dict:
    out: dict[str, dict] = {}
    if method.upper() in limits.WRITES:  # every write counts against RATELIMIT_API_WRITE
        out["429"] = _too_many()
    for status, (model, text, *headers) in declared.ok.items():
        if model == HTML:
            out[str(status)] = {"description": text,
                                "content": {HTML: {"schema": {"type": "string"}}}}
        else:
            out[str(status)] = {**generated[str(status)], "description": text}
        if headers:  # (model, description, {header: its OpenAPI description})
            out[str(status)]["headers"] = deepcopy(headers[0])
    errors = dict(declared.errors)
    if "body" in declared.models:
        errors.setdefault(400, ("The body is not a JSON object", "bad_json"))
        errors.setdefault(413, ("The request body is larger than the site accepts (8 MiB)",
                                "too_large"))
        errors.setdefault(422, ("Some fields are not valid; `error.fields` names them",
                                "invalid"))
    query = declared.models.get("query")
    if query is not None:  # fields without a code of their own get the general one
        names = {f.alias or name for name, f in query.model_fields.items()}
        general = ("bad_query",) if names - set(query.error_codes) else ()
        text, *codes = errors.get(400, ("A parameter is not valid; `error.fields` names it",))
        errors[400] = (text, *codes, *(c for c in general if c not in codes))
    if declared.roles:
        errors.setdefault(403, ("The token's account does not have the role this needs",
                                "forbidden"))
    for status, (text, *codes) in errors.items():
        out[str(status)] = _error(text, *codes)
    out["401"] = _unauthorized()
    return dict(sorted(out.items()))


def _configured() -> dict[str, list[str]]:
    """The lists the deployment configures (fields marked with ``schemas.configured``)."""
    divisions = site().divisions
    return {"district_codes": [d.code for d in divisions],
            "district_names": [n for d in divisions for n in (d.code, d.zh, d.en)],
            "pledges": sorted(catalogue().actions),
            "kinds": [s.kind for s in sources()]}


def _fill(node: Any, lists: dict[str, list[str]], schema: bool = False) -> None:
    """Fill in the configured lists; drop the labels pydantic generates for every schema
    (``"title": "Event"``: the names already say it)."""
    if isinstance(node, dict):
        name = node.pop(schemas.CONFIGURED, None)
        if name is not None:  # on a list, the values of its items
            (node["items"] if node.get("type") == "array" else node)["enum"] = lists[name]
        if schema and isinstance(node.get("title"), str):
            del node["title"]
        for key, value in node.items():
            _fill(value, lists, schema or key in ("schema", "schemas"))
    elif isinstance(node, list):
        for value in node:
            _fill(value, lists, schema)


def _schema(model: type[BaseModel]) -> dict[str, dict]:
    """A model's JSON Schema, straight from pydantic (flask-openapi3's copy of it keeps only
    the keywords it knows, dropping ``if``/``then``/``else`` and our markers), with the
    schemas it refers to beside it."""
    mode = "validation" if issubclass(model, schemas.Shape) and not issubclass(
        model, schemas.Answer) else "serialization"
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    return {model.__name__: schema, **schema.pop("$defs", {})}


def _models() -> dict[str, type[BaseModel]]:
    """The API's models by name: those of ``schemas`` and of the feature modules beside it
    (``portal.api.people``, ``articles``, ``inbox``: each declares its own)."""
    found: dict[str, type[BaseModel]] = {}
    for module_name, module in list(sys.modules.items()):
        if module_name == schemas.__name__ or module_name.startswith("portal.api."):
            found.update({name: model for name, model in vars(module).items()
                          if isinstance(model, type) and issubclass(model, BaseModel)
                          and model.__module__ == module_name})
    return found


def _parameters(op: dict, declared: Declared) -> None:
    """Path and query parameters described from their model's own JSON Schema."""
    for param in op.get("parameters", []):
        model = declared.models[param["in"]]
        found = model.model_json_schema(by_alias=True)["properties"][param["name"]]
        description = found.pop("description", None)
        param["schema"] = found
        if description:
            param["description"] = description


def build() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1, generated from the declarations."""
    doc = deepcopy(current_app.api_doc)
    doc["jsonSchemaDialect"] = "https://spec.openapis.org/oas/3.1/dialect/base"
    doc["tags"] = [{"name": t.name, "description": t.description} for t in TAGS.values()]
    for item in doc["paths"].values():
        for method, op in item.items():
            declared = DECLARED[op["operationId"]]
            op["responses"] = _answers(declared, op.get("responses", {}), method)
            _parameters(op, declared)
    components = doc["components"]
    named = [*components.get("schemas", {}), "Error"]  # the models flask-openapi3 found
    components["schemas"] = {}
    models = _models()
    for name in named:
        if name in models:
            components["schemas"].update(_schema(models[name]))
    components["responses"] = {
        "MethodNotAllowed": {
            "description": "The path does not accept this method "
                           "(`error.code`: `method_not_allowed`).",
            "headers": {"Allow": {"required": True, "schema": {"type": "string"},
                                  "description": "The methods the path accepts."}},
            "content": _json(_ref("Error"))},
        "NotFound": _error("Nothing under /api/ answers at this address", "not_found"),
    }
    doc.pop("security", None)
    _fill(doc, _configured())
    return doc


def document() -> dict[str, Any]:
    """The document, built once per application (a copy each call)."""
    cached = current_app.extensions.get("api_document")
    if cached is None:
        cached = current_app.extensions["api_document"] = build()
    return deepcopy(cached)
