"""Turning chat text into a command name and tokens, forgiving phones.

Phones autocorrect quotes and dashes, Arabic and Persian keyboards insert
direction marks, and copy-paste brings zero-width spaces: all of that is
normalised before splitting. Only double quotes group words, so the apostrophe
in "Egypt's" stays text (a ``shlex`` that treats ``'`` as a quote would not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Direction marks and zero-width characters that carry no meaning in a command.
# ZWNJ/ZWJ (U+200C/U+200D) are deliberately absent: Persian words and emoji need them.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200E, 0x200F, 0xFEFF, *range(0x2060, 0x2065), *range(0x202A, 0x202F),
     *range(0x2066, 0x206A)]
)
# Control characters (NUL, terminal escapes, C1) would be stored and exported as they
# are; only the line break means something in chat, and a carriage return is one.
_CONTROL = {**dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)]),
            ord("\n"): "\n", ord("\t"): " ", ord("\r"): "\n"}
# Guillemets are not among them: «Voices» is how an organisation spells its name.
_QUOTES = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\uff02": '"', "\u2033": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
})
# A dash that a phone made of "--" (or "-") in front of a word: "—confidential".
_DASH_FLAG = re.compile(r"(?:(?<=\s)|^)[\u2012\u2013\u2014\u2015\u2212](?=\w)")
_COMMAND = re.compile(r"([^\w\s])([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)")


class QuoteError(ValueError):
    """An opening double quote with no closing one."""


@dataclass(frozen=True)
class CommandLine:
    prefix: str
    name: str
    addressee: str | None
    rest: str


@dataclass(frozen=True)
class Token:
    value: str
    start: int
    end: int
    quoted: bool = False


def normalise(text: str) -> str:
    """Fold smart quotes and dashes, drop invisible direction/zero-width marks and
    control characters (line breaks stay)."""
    text = text.replace("\r\n", "\n").translate(_CONTROL).translate(_INVISIBLE)
    text = text.translate(_QUOTES)
    return _DASH_FLAG.sub("--", text)


def split_command(text: str, prefixes: Sequence[str]) -> CommandLine | None:
    """``"/flag@CaucusBot Egypt | x"`` -> CommandLine("/", "flag", "CaucusBot", "Egypt | x").

    Returns None when the text does not start with a prefix and a command-shaped
    name; whether the name is registered is the dispatcher's business.
    """
    text = normalise(text).strip()
    match = _COMMAND.match(text)
    if not match or match.group(1) not in prefixes:
        return None
    return CommandLine(
        prefix=match.group(1),
        name=match.group(2).lower(),
        addressee=match.group(3),
        rest=text[match.end():].strip(),
    )


def tokenize(text: str) -> list[Token]:
    """Split on white space; double quotes group; an unquoted ``|`` is a token of its own.

    Inside quotes, ``\\"`` is a literal quote. Raises :class:`QuoteError` on an
    unbalanced quote. Linear in the length of the text.
    """
    tokens: list[Token] = []
    n = len(text)
    pos = 0
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch == "|":
            tokens.append(Token("|", pos, pos + 1))
            pos += 1
            continue
        start = pos
        buf: list[str] = []
        quoted = False
        while pos < n and not text[pos].isspace() and text[pos] != "|":
            if text[pos] == '"':
                quoted = True
                pos += 1
                while pos < n and text[pos] != '"':
                    if text[pos] == "\\" and pos + 1 < n and text[pos + 1] == '"':
                        pos += 1
                    buf.append(text[pos])
                    pos += 1
                if pos >= n:
                    raise QuoteError("unbalanced double quote")
                pos += 1
            else:
                buf.append(text[pos])
                pos += 1
        tokens.append(Token(_strip_format("".join(buf)), start, pos, quoted))
    return tokens


def _strip_format(value: str) -> str:
    """Drop format characters (category Cf) at the edges of a token only."""
    lo, hi = 0, len(value)
    while lo < hi and unicodedata.category(value[lo]) == "Cf":
        lo += 1
    while hi > lo and unicodedata.category(value[hi - 1]) == "Cf":
        hi -= 1
    return value[lo:hi]
