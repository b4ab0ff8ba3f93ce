"""The one door from Markdown to safe HTML.

Everything that becomes HTML from Markdown, whether a trusted file in ``content/`` or text a
user typed, goes through ``render``: Markdown first, then an allow-list sanitiser (nh3), so
that a mistake in a content file cannot open a hole either.
"""

from __future__ import annotations

import re
import unicodedata

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Controls, format characters (zero-width, bidi, soft hyphen) and spaces, anywhere in a URL.
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def slugify(value: str, separator: str = "-") -> str:
    """Anchor ids that keep Chinese characters: '节约 用水！' → '节约-用水'."""
    value = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", value)).strip().lower()
    value = re.sub(r"[^\w\s-]", "", value)
    return re.sub(r"[\s_-]+", separator, value).strip(separator) or "section"


def _converter() -> markdown.Markdown:
    return markdown.Markdown(
        # No attr_list: user text must not choose ids or classes (DOM clobbering).
        extensions=["tables", "fenced_code", "sane_lists", "toc"],
        extension_configs={"toc": {"slugify": slugify, "toc_depth": "2-3"}},
        output_format="html",
    )


def _drop_disguised_urls(element: str, attribute: str, value: str) -> str | None:
    """Drop an href/src whose scheme is not allowed once invisible characters are removed.

    nh3 takes 'java<soft hyphen>script:' or 'java&#x200b;script:' (entities are decoded after
    the ``_ZERO_WIDTH`` pre-strip) for relative URLs and keeps them; we refuse them outright.
    """
    if attribute in ("href", "src"):
        bare = "".join(c for c in value if unicodedata.category(c) not in _INVISIBLE)
        scheme = _SCHEME.match(bare)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            return None
    return value


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_drop_disguised_urls,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(text: str) -> Markup:
    """Markdown → sanitised HTML, safe to put in a template."""
    return Markup(sanitise(_converter().convert(_ZERO_WIDTH.sub("", text or ""))))  # noqa: S704


def render_inline(text: str) -> Markup:
    """Like ``render`` for a phrase (a table cell, a caption): without the paragraph around
    it when the text is one paragraph."""
    html = sanitise(_converter().convert(_ZERO_WIDTH.sub("", text or "")))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)  # noqa: S704


def render_with_toc(text: str) -> tuple[Markup, list[dict]]:
    """Like ``render``, also returning the table of contents as ``[{id, name, level}]``."""
    md = _converter()
    html = md.convert(_ZERO_WIDTH.sub("", text or ""))
    toc: list[dict] = []

    def walk(tokens):
        for tok in tokens:
            toc.append({"id": tok["id"], "name": tok["name"], "level": tok["level"]})
            walk(tok.get("children", []))

    walk(md.toc_tokens)
    return Markup(sanitise(html)), toc  # noqa: S704
