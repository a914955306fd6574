"""Reading the values of UN data exports as the bot keeps them.

The Universal Human Rights Index writes labels with a "- " prefix ("- UPR",
"- Recommendations"), HTML in its texts, numbers as strings or lists, and the
paragraph number at the start of the text ("6.1 Ratify ..."); UPR Info writes
the State's response in words of its own. Each reader here takes one such
value, whatever shape it came in, and returns the bot's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

# "6.1 Ratify", "118.23. Ensure", "4.The Committee": one to three digits, then a dot or a
# space (so "2030 Agenda ..." keeps its year).
PARAGRAPH = re.compile(r"\s*(?P<number>\d{1,3}(?:\.\d{1,3})?)(?:\.\s*|\s+)(?=\S)")
INTEGER = re.compile(r"\d+")
BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
TREATY_BODIES = {"CAT", "CCPR", "CED", "CEDAW", "CERD", "CESCR", "CMW", "CRC", "CRPD", "SPT",
                 "HRCTEE"}
SPECIAL_PROCEDURE_WORDS = ("special procedure", "special rapporteur", "independent expert",
                           "working group")


def label(value: Any) -> str:
    """A label without the export's "- " prefix and surrounding space."""
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).lstrip("- \t\r\n").rstrip()


def labels(value: Any, *, separator: str | None = None) -> tuple[str, ...]:
    """A list of labels from a list, or from one string split on ``separator``."""
    if not value:
        return ()
    items = value if isinstance(value, list | tuple) else (
        str(value).split(separator) if separator else [value])
    out = [label(v) for v in items]
    return tuple(dict.fromkeys(v for v in out if v)) if len(out) > 1 else tuple(out[:1])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(value: Any) -> str:
    """The words of a text that may hold HTML: tags dropped, entities read, one space
    between words, one line per paragraph."""
    text = "" if value is None else str(value)
    if "<" in text or "&" in text:
        parser = _Text()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    lines = (" ".join(line.split()) for line in text.replace("\xa0", " ").splitlines())
    return "\n".join(line for line in lines if line)


def paragraph_and_text(text: str) -> tuple[str, str]:
    """("6.1", "Ratify ...") from "6.1 Ratify ..."; ("", text) when it starts otherwise."""
    match = PARAGRAPH.match(text)
    if match is None:
        return "", text
    return match.group("number"), text[match.end():]


def first_int(value: Any) -> int | None:
    """4 from 4, "4", "4th cycle", ["41"], "UPR 41"; None from nothing."""
    if isinstance(value, list | tuple):
        return first_int(value[0]) if value else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = INTEGER.search(str(value))
    return int(match.group()) if match and len(match.group()) <= 6 else None


def read_date(value: Any) -> date | None:
    """2025-02-12 from "2025-02-12T00:00:00", "2025-02-12" or "12/02/2025" (day first)."""
    if isinstance(value, list | tuple):
        return read_date(value[0]) if value else None
    text = label(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for layout in ("%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def position_of(values: tuple[str, ...]) -> str:
    """The State's position from the words of an export ("Supported", "Noted",
    "Supported/Noted", "Accepted", "Pending"); ``no-response`` when none is given."""
    words = " ".join(values).casefold().replace(" ", "")
    declined = ("notsupport", "notaccept", "reject")
    noted = "noted" in words or any(w in words for w in declined)
    for word in declined:
        words = words.replace(word, "")
    supported = "support" in words or "accept" in words or "partially" in words
    if supported and (noted or "partially" in words):
        return "supported-noted"
    if supported:
        return "supported"
    if noted:
        return "noted"
    if "consideration" in words or "pending" in words or "deferred" in words:
        return "under-consideration"
    return "no-response"


def source_of(body: str) -> str:
    """upr, treaty-body or special-procedure, from the body's label ("UPR", "CRC",
    "SR Human Rights Defenders", "WG Arbitrary Detention")."""
    folded = body.casefold()
    if folded == "upr" or "universal periodic review" in folded:
        return "upr"
    first = body.split()[0].upper() if body.split() else ""
    if first in ("SR", "IE", "WG", "SP") or any(w in folded for w in SPECIAL_PROCEDURE_WORDS):
        return "special-procedure"
    return "treaty-body"
