"""A command's arguments: what each one is, and reading them from what was typed.

Parameters are positional (``|`` may separate segments), options are ``key=value``
anywhere, flags are words. A parameter may carry a ``parse`` converter, so a handler
receives a country or a date rather than the string that named it; a converter
refuses with ``ValueError`` and its message is shown with the command's usage.
Nothing here knows the commands themselves: ``bot.commands`` adds the usage text to
an :class:`ArgumentError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.parsing import QuoteError, Token, tokenize

ParamKind = Literal["word", "int", "text", "words", "tags", "sep"]
MAX_INT = 2**31 - 1  # the largest id or count an INTEGER column holds on every database


class ArgumentError(ValueError):
    """What was typed does not fit the command: the message says what was expected."""


@dataclass(frozen=True)
class Param:
    """One positional argument. ``text`` takes the rest of its segment as typed;
    ``parse`` turns a ``word`` or ``text`` into the value the handler wants: its
    ``ValueError`` is shown with the command's usage, a ``CommandError`` as it is."""

    name: str
    kind: ParamKind = "word"
    optional: bool = False
    choices: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = field(default=None, compare=False)

    def usage(self) -> str:
        if self.kind == "sep":
            return "|"
        inner = "|".join(self.choices) if self.choices else self.name
        if self.kind == "tags":
            return f"[#{self.name} ...]"
        if self.kind == "words":
            inner += " ..."
        return f"[{inner}]" if self.optional else f"<{inner}>"

    def convert(self, value: str) -> Any:
        if self.parse is None:
            return value
        try:
            return self.parse(value)
        except ArgumentError:
            raise
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None


SEP = Param("|", kind="sep")


@dataclass(frozen=True)
class Option:
    """A ``key=value`` argument, accepted anywhere in the command."""

    key: str
    metavar: str = "value"
    choices: tuple[str, ...] = ()
    kind: Literal["word", "int"] = "word"

    def usage(self) -> str:
        return f"[{self.key}={'|'.join(self.choices) or self.metavar}]"


@dataclass(frozen=True)
class Args:
    values: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    raw: str = ""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def opt(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


def parse_arguments(text: str, params: tuple[Param, ...], options: tuple[Option, ...] = (),
                    flags: tuple[str, ...] = ()) -> Args:
    try:
        tokens = tokenize(text)
    except QuoteError:
        raise ArgumentError("A double quote (\") is not closed.") from None
    found: dict[str, Any] = {}
    raised: set[str] = set()
    kept: list[Token] = []
    by_key = {o.key: o for o in options}
    bare_flags = _bare_flag_positions(tokens, by_key, params, flags)
    for n, tok in enumerate(tokens):
        key, eq, value = tok.value.partition("=")
        flag = tok.value.lower().lstrip("-")
        # Quotes may hold a value with spaces, around it or around the whole pair:
        # title="A b" and "title=A b" both name the option.
        if eq and key.lower() in by_key:
            found[key.lower()] = _option_value(by_key[key.lower()], value)
        elif not tok.quoted and flag in flags and (tok.value.startswith("-")
                                                   or n in bare_flags):
            raised.add(flag)
        else:
            kept.append(tok)
    values = _match_segments(params, text, kept, tokens)
    return Args(values, found, frozenset(raised), text)


def converted(args: Args, params: tuple[Param, ...]) -> Args:
    """The arguments with each ``parse`` converter applied: a second pass, after the words
    are known to fit the grammar, so that a refused value (an unknown country) is told
    apart from a line that does not parse at all."""
    values = dict(args.values)
    for param in params:
        if param.parse is not None and values.get(param.name) is not None:
            values[param.name] = param.convert(values[param.name])
    return replace(args, values=values)


def _bare_flag_positions(tokens: list[Token], by_key: dict[str, Option],
                         params: tuple[Param, ...], flags: tuple[str, ...]) -> set[int]:
    """Where a flag word without dashes counts as the flag: at the end of the line,
    after the last ``|``, among options and tags only.

    Anywhere else it is a word of a name or summary ("leaking confidential documents",
    "Voices of the unlisted"), kept as typed. ``--flag`` counts anywhere.
    """
    if not flags:
        return set()
    bars = [n for n, t in enumerate(tokens) if t.value == "|" and not t.quoted]
    if SEP in params and not bars:
        return set()
    start = bars[-1] + 1 if bars else 0
    positions: set[int] = set()
    for n in range(len(tokens) - 1, start - 1, -1):
        tok = tokens[n]
        key, eq, _ = tok.value.partition("=")
        if tok.quoted:
            break
        if tok.value.lower() in flags:
            positions.add(n)
        elif not ((eq and key.lower() in by_key) or tok.value.startswith(("#", "-"))):
            break
    return positions


def _option_value(option: Option, value: str) -> Any:
    if option.choices and value.lower() not in option.choices:
        raise ArgumentError(f"{option.key}= must be one of: {', '.join(option.choices)}.")
    if option.kind == "int":
        return whole_number(value, f"{option.key}=")
    return value.lower() if option.choices else value


def whole_number(digits: str, label: str, *, shown: str | None = None) -> int:
    """The one check of every number typed: ASCII digits within what the database holds.

    ``str.isdigit`` accepts "²" and "٣", which ``int`` then rejects or misreads, and a
    number past a 32-bit column (or past Python's 4,300-digit limit) used to crash.
    """
    text = shown if shown is not None else digits
    if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_INT))
            and 1 <= int(digits) <= MAX_INT):
        quoted = text if len(text) <= 24 else text[:20] + "…"
        raise ArgumentError(f"{label} must be a whole number from 1 to {MAX_INT}, "
                            f"not '{quoted}'.")
    return int(digits)


def _split_segments(kept: list[Token], wanted: int) -> list[list[Token]]:
    segments: list[list[Token]] = [[]]
    for tok in kept:
        if tok.value == "|" and not tok.quoted and len(segments) < wanted:
            segments.append([])
        else:
            segments[-1].append(tok)
    return segments


def _raw_span(text: str, tokens: list[Token], all_tokens: list[Token]) -> str:
    """The text as typed from the first to the last token, minus options cut from inside."""
    if len(tokens) == 1 and tokens[0].quoted:
        return tokens[0].value
    start, end = tokens[0].start, tokens[-1].end
    keep = {id(t) for t in tokens}
    pieces, pos = [], start
    for tok in all_tokens:
        if start <= tok.start < end and id(tok) not in keep:
            pieces.append(text[pos:tok.start])
            pos = tok.end
    pieces.append(text[pos:end])
    # Joined at the cuts only: line breaks and spacing inside the text stay as typed.
    return " ".join(piece.strip() for piece in pieces if piece.strip())


def _match_segments(params: tuple[Param, ...], text: str, kept: list[Token],
                    all_tokens: list[Token]) -> dict[str, Any]:
    declared: list[list[Param]] = [[]]
    for param in params:
        if param.kind == "sep":
            declared.append([])
        else:
            declared[-1].append(param)
    segments = _split_segments(kept, len(declared))
    segments += [[] for _ in range(len(declared) - len(segments))]
    values: dict[str, Any] = {}
    for group, tokens in zip(declared, segments, strict=True):
        values.update(_match_params(group, tokens, text, all_tokens))
    return values


def _match_params(params: list[Param], tokens: list[Token], text: str,
                  all_tokens: list[Token]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    tokens = list(tokens)
    for param in params:
        if param.kind == "tags":
            tags: list[str] = []
            while tokens and tokens[-1].value.startswith("#") and len(tokens[-1].value) > 1 \
                    and not tokens[-1].quoted:
                tags.insert(0, tokens.pop().value[1:].lower())
            values[param.name] = tags
    for param in (p for p in params if p.kind != "tags"):
        if not tokens:
            if not param.optional:
                raise ArgumentError(f"Missing <{param.name}>.")
            values[param.name] = [] if param.kind == "words" else None
            continue
        if param.kind == "text":
            values[param.name] = _raw_span(text, tokens, all_tokens)
            tokens = []
        elif param.kind == "words":
            values[param.name] = [t.value for t in tokens]
            tokens = []
        else:
            values[param.name] = _word_value(param, tokens.pop(0).value)
    if tokens:
        raise ArgumentError(f"Unexpected '{tokens[0].value}'.")
    return values


def _word_value(param: Param, value: str) -> Any:
    if param.kind == "int":
        return whole_number(value.removeprefix("#"), f"<{param.name}>", shown=value)
    if param.choices:
        if value.lower() not in param.choices:
            raise ArgumentError(
                f"<{param.name}> must be one of: {', '.join(param.choices)} (not '{value}').")
        return value.lower()
    return value
