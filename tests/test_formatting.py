"""HTML from one network into the other's dialect, never trusting the source."""

from __future__ import annotations

import pytest

from bot.formatting import convert


@pytest.mark.parametrize(("source", "telegram", "matrix"), [
    ("<strong>a</strong> <em>b</em> <ins>c</ins> <del>d</del>",
     "<b>a</b> <i>b</i> <u>c</u> <s>d</s>", "<b>a</b> <i>b</i> <u>c</u> <s>d</s>"),
    ('<a href="https://ohchr.org">OHCHR</a>', '<a href="https://ohchr.org">OHCHR</a>',
     '<a href="https://ohchr.org">OHCHR</a>'),
    ('<a href="javascript:alert(1)">x</a>', "x", "x"),
    ('<a href="https://matrix.to/#/@ana:example.org">Ana</a>: hi', "Ana: hi", "Ana: hi"),
    ('<a href="tg://user?id=5">Ana</a>', "Ana", "Ana"),
    ('<span class="tg-spoiler">s</span>', "<tg-spoiler>s</tg-spoiler>",
     "<span data-mx-spoiler>s</span>"),
    ("<tg-spoiler>s</tg-spoiler>", "<tg-spoiler>s</tg-spoiler>",
     "<span data-mx-spoiler>s</span>"),
    ("line<br>next", "line\nnext", "line<br>next"),
    ("<ul><li>one</li><li>two</li></ul>", "• one\n• two", "• one<br>• two"),
    ("<mx-reply><blockquote>old</blockquote></mx-reply>new", "new", "new"),
    ("<script>alert(1)</script>", "alert(1)", "alert(1)"),
    ("<img src=x onerror=alert(1)>caption", "caption", "caption"),
    ("<b>unclosed", "<b>unclosed</b>", "<b>unclosed</b>"),
    ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),
    ("<pre>x = 1</pre>", "<pre>x = 1</pre>", "<pre>x = 1</pre>"),
])
def test_conversions(source: str, telegram: str, matrix: str):
    assert convert(source, "", "telegram")[1] == telegram
    assert convert(source, "", "matrix")[1] == matrix


def test_plain_text_is_escaped():
    assert convert(None, "1 < 2 & <b>", "telegram") == ("1 < 2 & <b>", "1 &lt; 2 &amp; &lt;b&gt;")
    assert convert(None, "a\nb", "matrix") == ("a\nb", "a<br>b")


def test_plain_version_has_no_markup():
    assert convert("<b>bold</b> and <i>it</i>", "", "matrix")[0] == "bold and it"
