"""The OpenAPI document flattened for the reference page at /api/v1/docs: one entry per
operation (its parameters, body fields and answers) and one per schema.  Descriptions are
Markdown, rendered by ``portal.markup``."""

from __future__ import annotations

import json
from typing import Any

from portal.api.declare import TOKEN
from portal.api.schemas import ID_MAX
from portal.markup import render_inline

METHODS = ("get", "put", "post", "delete", "patch")


def _resolve(doc: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _nullable(schema: dict) -> tuple[dict, bool]:
    """``anyOf: [X, {type: null}]`` (how pydantic writes ``X | None``) → ``(X, True)``."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {**{k: v for k, v in schema.items() if k != "anyOf"}, **rest[0]}
            return merged, True
    return schema, False


def type_label(schema: dict | None) -> str:
    """A short, readable type: ``Event``, ``array of Observance``, ``string (date) | null``."""
    if not schema:
        return ""
    schema, nullable = _nullable(schema)
    if "$ref" in schema:
        label = schema["$ref"].rsplit("/", 1)[-1]
    elif "allOf" in schema:
        label = " & ".join(type_label(s) for s in schema["allOf"] if "$ref" in s) or "object"
    else:
        kinds = schema.get("type", "")
        kinds = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
        nullable = nullable or "null" in kinds
        main = [k for k in kinds if k != "null"]
        label = " | ".join(main) or ("const" if "const" in schema else
                                     "string" if "enum" in schema else "any")
        if "array" in main:
            label = f"array of {type_label(schema.get('items'))}"
        if schema.get("format"):
            label += f" ({schema['format']})"
    return f"{label} | null" if nullable else label


def constraints(schema: dict) -> str:
    """Limits, patterns, defaults and allowed values, as one line."""
    schema, _nullable_too = _nullable(schema)
    parts = []
    if "const" in schema:
        parts.append(f"always {schema['const']!r}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(str(v) for v in schema["enum"]))
    for key, word in (("minimum", "≥"), ("maximum", "≤")):
        if key in schema and not (key == "maximum" and schema[key] == ID_MAX):
            parts.append(f"{word} {schema[key]:g}")
    if schema.get("minLength", 0) > 1:
        parts.append(f"at least {schema['minLength']} characters")
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']} characters")
    if "pattern" in schema and schema["pattern"] not in ("\\S", "^[^/]+$"):
        parts.append(f"pattern {schema['pattern']}")
    if schema.get("default") not in (None, "", []):
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
             "description": render_inline(sub.get("description", ""))}
            for name, sub in schema.get("properties", {}).items()]


def _example(doc: dict, schema: dict | None) -> str:
    """The schema's first example as indented JSON ("" when it has none)."""
    examples = _resolve(doc, schema or {}).get("examples") or []
    return json.dumps(examples[0], ensure_ascii=False, indent=2) if examples else ""


def operations(doc: dict) -> list[dict]:
    """One entry per operation, in path order."""
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": type_label(p["schema"]), "constraints": constraints(p["schema"]),
                       "description": render_inline(p.get("description", ""))}
                      for p in [*item.get("parameters", []), *op.get("parameters", [])]]
            body = op.get("requestBody")
            body_schema = body["content"]["application/json"]["schema"] if body else None
            answers = []
            for status, answer in op["responses"].items():
                content = answer.get("content", {})
                media = next(iter(content), "")
                answers.append({"status": status,
                                "description": render_inline(answer["description"]),
                                "media": media,
                                "type": type_label(content[media]["schema"] if media else None)})
            out.append({
                "id": op["operationId"], "method": method.upper(), "path": path,
                "summary": op.get("summary", ""),
                "description": render_inline(op.get("description", "")),
                "token": "required" if op.get("security") == TOKEN else "optional",
                "parameters": params,
                "body": {"type": type_label(body_schema),
                         "example": _example(doc, body_schema),
                         "description": render_inline(
                             _resolve(doc, body_schema).get("description", "")),
                         "fields": _fields(doc, body_schema)} if body else None,
                "responses": answers})
    return out


def schemas(doc: dict) -> list[dict]:
    """The reusable schemas, with their fields."""
    return [{"name": name, "description": render_inline(schema.get("description", "")),
             "fields": _fields(doc, schema)}
            for name, schema in doc["components"]["schemas"].items()]
