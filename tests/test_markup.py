"""The one Markdown door: renders trusted and untrusted text to safe HTML."""

from html.parser import HTMLParser

from portal import markup


def test_markdown_renders_with_anchors_for_chinese_headings():
    html, toc = markup.render_with_toc("## 节约用水\n\n正文\n\n### Water at home\n")
    assert '<h2 id="节约用水">节约用水</h2>' in html
    assert '<h3 id="water-at-home">' in html
    assert [(t["id"], t["level"]) for t in toc] == [("节约用水", 2), ("water-at-home", 3)]


def test_dangerous_markup_is_removed():
    html = markup.render(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>'
        '\n\n<iframe src="https://evil.example"></iframe><a href="https://ok.example">ok</a>')
    assert "<script" not in html and "alert(1)</script>" not in html
    assert "javascript:" not in html and "onerror" not in html and "<iframe" not in html
    assert 'href="https://ok.example"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_zero_width_characters_cannot_split_a_scheme():
    html = markup.render("[x](java\u200bscript:alert(1))")
    assert "href" not in html


def test_slugify_keeps_chinese_and_drops_punctuation():
    assert markup.slugify("节约 用水！") == "节约-用水"
    assert markup.slugify("  What's new?  ") == "whats-new"
    assert markup.slugify("！！！") == "section"


def test_user_text_cannot_choose_ids_or_classes():
    html = markup.render('## Heading {: id="csrf_token" .admin }\n\ntext {: #main }')
    attributes = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attributes.extend(a for a in attrs if a[0] in ("id", "class"))

    Collect().feed(html)
    # The braces stay as text; the only id is the one slugified from the heading's text.
    assert attributes == [("id", "heading-idcsrf-token-admin")]
