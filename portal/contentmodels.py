"""What the content files must hold, as pydantic models, and the one door from pydantic's
errors to ours.

Each loader describes its file (or one entry of it, or an article's front matter) with a model
built from the types below and calls ``check``: the result is the model, or the problems found,
one ``Problem`` per problem, naming the file, the entry and the field (``observances.yaml:
observance 'odd-day': 'kind' must be one of 'fixed', 'rule' or 'announced'``).  A model raises
``problem("…")`` for a rule of its own (one that spans fields, or needs the other files).
"""

from __future__ import annotations

import os
from typing import Annotated, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from portal.core.content import Problem

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MONTH_DAY_PATTERN = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
MonthDay = Annotated[str, StringConstraints(pattern=MONTH_DAY_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ContentModel(BaseModel):
    """Read-only; keys a model does not name are ignored."""

    model_config = ConfigDict(frozen=True)


class Bilingual(ContentModel):
    zh: Text
    en: Text


def problem(message: str) -> PydanticCustomError:
    """An error for a model validator to raise: ``raise problem("…")``."""
    return PydanticCustomError("content", message)


M = TypeVar("M", bound=BaseModel)

PATTERNS = {SLUG_PATTERN: "must be lower-case-words (like 'waste-sorting')",
            MONTH_DAY_PATTERN: 'must be "MM-DD"'}
MESSAGES = {  # by error type, else by its first word ("int_parsing" → "int")
    "missing": "is missing", "string_type": "must be text", "string_too_short": "must not be empty",
    "too_short": "has too few entries (at least {min_length})",
    "too_long": "has too many entries (at most {max_length})",
    "greater_than": "must be more than {gt}", "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}", "literal_error": "must be one of {expected}",
    "list": "must be a list", "tuple": "must be a list", "dict": "must be a mapping (key: value)",
    "model": "must be a mapping (key: value)", "int": "must be a whole number",
    "decimal": "must be a number", "float": "must be a number",
}


def _message(error: dict, field: str) -> str:
    """``'field' is missing`` … for pydantic's own errors, ``'field': …`` for ours."""
    kind, ctx = error["type"], error.get("ctx") or {}
    text = PATTERNS.get(ctx.get("pattern")) or MESSAGES.get(kind, MESSAGES.get(kind.split("_")[0]))
    if text:
        return f"'{field}' {text.format(**ctx)}" if field else text.format(**ctx)
    text = (f"'{error['input']}' is not a date (YYYY-MM-DD)" if kind.startswith("date")
            else error["msg"])  # or a problem() raised by a model
    return f"'{field}': {text}" if field else text


def _where(loc: tuple, raw, where: str) -> tuple[str, str]:
    """(the entries the error is in, the field): ``heading 'travel', action 'bus'`` and ``zh``.

    An entry of a list of mappings is named by its ``code``, ``slug`` or ``key``, else its
    number."""
    entries, field, node = [where] if where else [], [], raw
    for key in loc:
        if isinstance(node, list) and isinstance(key, int):
            item = node[key] if key < len(node) else None
            if isinstance(item, dict):
                kind = field.pop().removesuffix("s") if field else "entry"
                name = item.get("code") or item.get("slug") or item.get("key")
                entries.append(f"{kind} '{name}'" if isinstance(name, str) else f"{kind} {key + 1}")
            else:
                field.append(f"#{key + 1}")
            node = item
        else:
            field.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ", ".join(entries), ".".join(field).replace(".#", " #")


def read_yaml(content_dir: str, path: str) -> tuple[object, list[Problem]]:
    """The data in the YAML file ``path`` of the content folder, or None and why not."""
    try:
        with open(os.path.join(content_dir, path), encoding="utf-8") as fh:
            return yaml.safe_load(fh), []
    except FileNotFoundError:
        return None, [Problem(path, "file is missing")]
    except yaml.YAMLError as err:
        return None, [Problem(path, f"not valid YAML: {err}")]


def check(model: type[M], raw, path: str, where: str = "",
          context: dict | None = None) -> tuple[M | None, list[Problem]]:
    """``raw`` (read from the file at ``path``) as ``model``, or None and what is wrong.

    ``where`` names the entry ``raw`` is, when it is one entry of a file."""
    try:
        return model.model_validate(raw, context=context), []
    except ValidationError as err:
        problems = []
        for error in err.errors():
            entries, field = _where(error["loc"], raw, where)
            text = _message(error, field)
            problems.append(Problem(path, f"{entries}: {text}" if entries else text))
        return None, problems
