"""The one reply type, and the small safe markup it carries.

A handler builds a :class:`Reply` from lines of inline parts: plain strings
(always escaped when rendered), bold, italic, code and links. Renderers turn
it into plain text (console, Matrix ``body``) or HTML (Telegram's allowed tags,
Matrix ``formatted_body``). User text never becomes markup: escaping happens
here, in one place, at render time.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Union
from urllib.parse import urlsplit

Style = Literal["b", "i", "code"]
Inline = Union[str, "Span", "Link"]

_SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Span:
    style: Style
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Link:
    href: str
    label: str


@dataclass(frozen=True)
class Line:
    content: tuple[Inline, ...]
    bullet: bool = False


@dataclass(frozen=True)
class OutFile:
    """A file the bot sends: a CSV export, an .ics calendar."""

    name: str
    data: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    lines: tuple[Line, ...] = ()
    file: OutFile | None = None
    error: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, *lines: Line | Inline, file: OutFile | None = None) -> Reply:
        """Build a reply; a bare string or span becomes a line of its own."""
        return cls(tuple(_as_line(x) for x in lines), file=file)

    @classmethod
    def text(cls, text: str, *, error: bool = False) -> Reply:
        """Plain text (escaped when rendered), one line per newline."""
        return cls(tuple(Line((part,)) for part in text.split("\n")), error=error)

    def __add__(self, other: Reply) -> Reply:
        return Reply(self.lines + other.lines, file=self.file or other.file, error=self.error)

    def to_json(self) -> str:
        """A stable serialisation, for the outbox: the reply is rendered when delivered."""
        data: dict = {"lines": [{"c": [_node_json(n) for n in ln.content], "b": ln.bullet}
                                for ln in self.lines]}
        if self.file is not None:
            data["file"] = {"name": self.file.name, "mime": self.file.mime,
                            "data": base64.b64encode(self.file.data).decode()}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Reply:
        data = json.loads(text)
        file = data.get("file")
        return cls(tuple(Line(tuple(_node_from(n) for n in ln["c"]), ln["b"])
                         for ln in data["lines"]),
                   file=OutFile(file["name"], base64.b64decode(file["data"]), file["mime"])
                   if file else None)

    def plain(self) -> str:
        return "\n".join(("• " if ln.bullet else "") + _plain(ln.content) for ln in self.lines)

    def html(self, *, html_lists: bool) -> str:
        """Render as HTML. ``html_lists`` uses ``<ul>`` (Matrix); Telegram has no lists."""
        if not html_lists:
            return "\n".join(("• " if ln.bullet else "") + _html(ln.content) for ln in self.lines)
        out: list[str] = []
        in_list = False
        for ln in self.lines:
            body = _html(ln.content)
            if ln.bullet:
                out.append(f"<li>{body}</li>" if in_list else f"<ul><li>{body}</li>")
            else:
                out.append("</ul>" if in_list else ("<br>" if out else ""))
                out.append(body)
            in_list = ln.bullet
        if in_list:
            out.append("</ul>")
        return "".join(out)


def b(*content: Inline) -> Span:
    return Span("b", content)


def i(*content: Inline) -> Span:
    return Span("i", content)


def code(text: str) -> Span:
    return Span("code", (text,))


def link(href: str, label: str | None = None) -> Link:
    return Link(href, label if label is not None else href)


def line(*content: Inline) -> Line:
    return Line(tuple(content))


def item(*content: Inline) -> Line:
    return Line(tuple(content), bullet=True)


def join(parts: Iterable[Inline], sep: str = ", ") -> tuple[Inline, ...]:
    """Interleave ``sep`` between parts, for use inside a line: ``line(*join(xs))``."""
    out: list[Inline] = []
    for n, part in enumerate(parts):
        if n:
            out.append(sep)
        out.append(part)
    return tuple(out)


def _as_line(x: Line | Inline) -> Line:
    return x if isinstance(x, Line) else Line((x,))


def _is_safe_href(href: str) -> bool:
    try:
        return urlsplit(href).scheme.lower() in _SAFE_SCHEMES
    except ValueError:
        return False


def _plain(content: tuple[Inline, ...]) -> str:
    out = []
    for part in content:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Span):
            out.append(_plain(part.content))
        elif part.label == part.href:
            out.append(part.href)
        else:
            out.append(f"{part.label} ({part.href})")
    return "".join(out)


def _html(content: tuple[Inline, ...]) -> str:
    out = []
    for part in content:
        if isinstance(part, str):
            out.append(html.escape(part, quote=False))
        elif isinstance(part, Span):
            out.append(f"<{part.style}>{_html(part.content)}</{part.style}>")
        elif _is_safe_href(part.href):
            label = html.escape(part.label, quote=False)
            out.append(f'<a href="{html.escape(part.href)}">{label}</a>')
        else:
            out.append(html.escape(_plain((part,)), quote=False))
    return "".join(out)


def _node_json(node: Inline) -> object:
    if isinstance(node, str):
        return node
    if isinstance(node, Span):
        return {"s": node.style, "c": [_node_json(n) for n in node.content]}
    return {"href": node.href, "label": node.label}


def _node_from(data: object) -> Inline:
    if isinstance(data, str):
        return data
    assert isinstance(data, dict)
    if "href" in data:
        return Link(data["href"], data["label"])
    return Span(data["s"], tuple(_node_from(n) for n in data["c"]))
