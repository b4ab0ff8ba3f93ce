"""Every message in the code and templates is translated, and the catalogs compile."""

import io
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.config import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")


def source_messages() -> set[str]:
    from babel.messages.extract import DEFAULT_KEYWORDS

    keywords = {**DEFAULT_KEYWORDS, "_l": None, "_n": (1, 2)}
    method_map = [("portal/**.py", "python"), ("portal/**/templates/**.html", "jinja2"),
                  ("portal/**/templates/**.txt", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=keywords,
            options_map={"portal/**/templates/**": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(lang: str):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def test_source_extraction_finds_messages():
    found = source_messages()
    assert "Sign in" in found and "Create an account" in found
    assert len(found) > 100


def test_every_source_message_has_a_chinese_translation():
    zh = catalog("zh")
    missing = [m for m in sorted(source_messages())
               if zh.get(m) is None or not zh.get(m).string or zh.get(m).fuzzy]
    assert missing == [], "untranslated (run `make update-messages`, then translate): " + \
        "; ".join(missing)


def test_english_catalog_knows_every_message():
    en = catalog("en")
    assert [m for m in source_messages() if en.get(m) is None] == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_placeholders_survive_translation(lang):
    for message in catalog(lang):
        if message.id and message.string:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(PLACEHOLDER.findall(ids[0]))
            for s in filter(None, strings):  # an empty string falls back to the msgid
                assert set(PLACEHOLDER.findall(s)) == wanted, message.id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalogs_compile(lang):
    cat = catalog(lang)
    errors = [(m.id, e) for m, e in cat.check()]
    assert errors == []
    out = io.BytesIO()
    write_mo(out, cat)
    assert out.getvalue()
