from __future__ import annotations

import pytest

from testing.fake_telegram.formatting import EntityParseError, render_html


def test_plain_text_and_utf16_entities() -> None:
    text, entities = render_html("🌳 <b>Speeltuin <i>Zeewijk</i></b> &amp; &lt;meer&gt; &#128054;")
    assert text == "🌳 Speeltuin Zeewijk & <meer> 🐶"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 17},
        {"type": "italic", "offset": 13, "length": 7},
    ]


def test_links_code_and_spoilers() -> None:
    source = (
        '<a href="https://velsen.nl?a=1&amp;b=2">site</a> '
        '<a href="tg://user?id=42">Anna</a> '
        '<pre><code class="language-python">x</code></pre> '
        '<span class="tg-spoiler">geheim</span> <a href="">leeg</a>'
    )
    text, entities = render_html(source)
    assert text == "site Anna x geheim leeg"
    assert entities == [
        {"type": "text_link", "url": "https://velsen.nl?a=1&b=2", "offset": 0, "length": 4},
        {"type": "text_mention", "user": {"id": 42}, "offset": 5, "length": 4},
        {"type": "pre", "language": "python", "offset": 10, "length": 1},
        {"type": "spoiler", "offset": 12, "length": 6},
    ]


def test_unknown_named_references_stay_as_typed() -> None:
    assert render_html("R&D &nbsp;")[0] == "R&D &nbsp;"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("bankje <3", "Unexpected end of name token at byte offset 7"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ('<span class="x">x</span>', 'Unsupported start tag "span"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
    ],
)
def test_markup_errors_like_telegram(source: str, problem: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        render_html(source)
    assert problem in str(caught.value)
