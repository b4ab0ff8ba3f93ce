"""Reading Markdown files with YAML front matter from the content folder."""

from __future__ import annotations

import os

import yaml
from flask import current_app


class ContentError(ValueError):
    pass


def split_front_matter(text: str) -> tuple[dict, str]:
    """``---\\nyaml\\n---\\nbody`` → (meta, body); a file without front matter has meta {}."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ContentError("front matter is not closed with a line '---'")
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as err:
        raise ContentError(f"front matter is not valid YAML: {err}") from None
    if not isinstance(meta, dict):
        raise ContentError("front matter must be a mapping")
    return meta, parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""


def content_path(*parts: str) -> str:
    return os.path.join(current_app.config["CONTENT_DIR"], *parts)


def read_page(name: str, locale: str) -> tuple[dict, str, str] | None:
    """The page ``content/pages/<name>.<locale>.md`` as (meta, body, locale found).

    Falls back to the other language when this one is missing; None when neither exists.
    """
    for lang in [locale] + [x for x in current_app.config["LANGUAGES"] if x != locale]:
        path = content_path("pages", f"{name}.{lang}.md")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                meta, body = split_front_matter(fh.read())
            return meta, body, lang
    return None
