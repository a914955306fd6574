"""Formatting across the bridge: one network's message HTML into the other's.

Telegram's HTML parse mode knows b, i, u, s, code, pre, a, blockquote and
spoilers, and no lists or line-break tags; Matrix's ``formatted_body`` knows
those and more. Source HTML is parsed (never trusted) with the standard
library's parser, reduced to that common set, and written out for the target,
with all text escaped. Mentions become plain names; reply fallbacks are dropped.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Source tag -> our name for it.
INLINE = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s",
          "strike": "s", "del": "s", "code": "code", "pre": "pre", "blockquote": "blockquote",
          "tg-spoiler": "spoiler"}
BLOCK_BREAKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr"}
SAFE_SCHEMES = {"http", "https", "mailto"}
MENTION_PREFIXES = ("https://matrix.to/#/@", "tg://user")


class _Converter(HTMLParser):
    def __init__(self, target: str):
        super().__init__(convert_charrefs=True)
        self.target = target
        self.out: list[str] = []
        self.plain: list[str] = []
        self.stack: list[str | None] = []  # what each open source tag became (None: nothing)
        self.skip = 0  # inside <mx-reply>: the reply fallback, dropped

    def _open(self, tag: str, href: str | None = None) -> str:
        if tag == "spoiler":
            return "<tg-spoiler>" if self.target == "telegram" else "<span data-mx-spoiler>"
        if tag == "a":
            return f'<a href="{html.escape(href or "", quote=True)}">'
        return f"<{tag}>"

    def _close(self, tag: str) -> str:
        if tag == "spoiler":
            return "</tg-spoiler>" if self.target == "telegram" else "</span>"
        return f"</{tag}>"

    def _break(self) -> None:
        if self.plain and not self.plain[-1].endswith("\n"):
            self.out.append("\n" if self.target == "telegram" else "<br>")
            self.plain.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "mx-reply":
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.out.append("\n" if self.target == "telegram" else "<br>")
            self.plain.append("\n")
            return
        if tag in BLOCK_BREAKS:
            self._break()
            self.stack.append(None)
            return
        if tag == "li":
            self._break()
            self.out.append("• ")
            self.plain.append("• ")
            self.stack.append(None)
            return
        mapped = INLINE.get(tag)
        if tag == "span" and ("data-mx-spoiler" in attributes or
                              attributes.get("class") == "tg-spoiler"):
            mapped = "spoiler"
        if tag == "a":
            href = attributes.get("href") or ""
            if href.startswith(MENTION_PREFIXES) or urlsplit(href).scheme not in SAFE_SCHEMES:
                mapped = None  # mentions read as the name; unsafe links as their text
            else:
                self.out.append(self._open("a", href))
                self.stack.append("a")
                return
        if mapped is not None:
            if mapped in ("pre", "blockquote"):
                self._break()
            self.out.append(self._open(mapped))
        self.stack.append(mapped)

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply":
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or tag == "br" or not self.stack:
            return
        mapped = self.stack.pop()
        if mapped is not None:
            self.out.append(self._close(mapped))
        if tag in BLOCK_BREAKS or mapped in ("pre", "blockquote"):
            self._break()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.target == "matrix":
            self.out.append(html.escape(data, quote=False).replace("\n", "<br>"))
        else:
            self.out.append(html.escape(data, quote=False))
        self.plain.append(data)

    def result(self) -> tuple[str, str]:
        while self.stack:  # close what the source left open
            mapped = self.stack.pop()
            if mapped is not None:
                self.out.append(self._close(mapped))
        rendered = "".join(self.out)
        for trailing in ("\n", "<br>"):
            while rendered.endswith(trailing):
                rendered = rendered[: -len(trailing)]
        return "".join(self.plain).strip("\n"), rendered


def convert(source_html: str | None, text: str, target: str) -> tuple[str, str]:
    """(plain, target HTML) from a message's HTML, or from its plain text if it has none."""
    parser = _Converter(target)
    parser.feed(source_html if source_html is not None else html.escape(text, quote=False)
                .replace("\n", "<br>"))
    parser.close()
    return parser.result()


def escape(text: str, target: str) -> str:
    out = html.escape(text, quote=False)
    return out.replace("\n", "<br>") if target == "matrix" else out
