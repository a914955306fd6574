from __future__ import annotations

from bot.replies import Reply, b, code, i, item, join, line, link

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def test_user_text_is_escaped_in_html_for_both_networks():
    reply = Reply.of(line(b("Case #1"), ": ", HOSTILE))
    for html_lists in (True, False):
        out = reply.html(html_lists=html_lists)
        assert "<script>" not in out
        assert "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in out
        assert out.startswith("<b>Case #1</b>")


def test_plain_rendering_keeps_text_as_typed():
    assert Reply.of(line(b("Case #1"), ": ", HOSTILE)).plain() == f"Case #1: {HOSTILE}"


def test_links_with_unsafe_schemes_are_not_links():
    out = Reply.of(line(link("javascript:alert(1)", "click"))).html(html_lists=True)
    assert "<a" not in out and "click (javascript:alert(1))" in out


def test_link_href_is_attribute_escaped():
    out = Reply.of(line(link('https://example.org/?a="x"&b=<y>', "doc"))).html(html_lists=False)
    assert out == '<a href="https://example.org/?a=&quot;x&quot;&amp;b=&lt;y&gt;">doc</a>'


def test_lists_render_as_ul_for_matrix_and_bullets_for_telegram():
    reply = Reply.of("Open cases:", item(code("#1"), " Egypt"), item(i("#2")), "End")
    assert reply.html(html_lists=True) == (
        "Open cases:<ul><li><code>#1</code> Egypt</li><li><i>#2</i></li></ul>End")
    assert reply.html(html_lists=False) == "Open cases:\n• <code>#1</code> Egypt\n• <i>#2</i>\nEnd"
    assert reply.plain() == "Open cases:\n• #1 Egypt\n• #2\nEnd"


def test_text_reply_splits_lines():
    assert Reply.text("a\nb").plain() == "a\nb"
    assert Reply.text("a\n<b>").html(html_lists=True) == "a<br>&lt;b&gt;"


def test_join_interleaves():
    assert Reply.of(line(*join(["a", b("b"), "c"]))).plain() == "a, b, c"


def test_json_round_trip_keeps_markup_and_files():
    from bot.replies import OutFile

    reply = Reply.of(line(b("S1 ", i("x")), " <y> ", link("https://e.org", "doc")), item(code("a")),
                     file=OutFile("a.csv", b"\xef\xbb\xbfa,b", "text/csv"))
    again = Reply.from_json(reply.to_json())
    assert again == reply
    assert again.html(html_lists=True) == reply.html(html_lists=True)
