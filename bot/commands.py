"""The command registry: each command is one plain dataclass entry.

An entry declares its name, optional sub-command, argument grammar, the role
it needs, one line of help and an example. ``/help``, usage messages,
Telegram's command menu and the README table are all generated from it, so
they cannot drift apart. Parsing a command's arguments also lives here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.parsing import QuoteError, Token, tokenize
from bot.replies import Reply
from storage.roles import Role

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.context import Context

Handler = Callable[["Context", "Args"], Awaitable[Reply]]
ParamKind = Literal["word", "int", "text", "words", "tags", "sep"]

NAME_RULE = re.compile(r"[a-z0-9_]{1,32}")
SUB_RULE = re.compile(r"[a-z][a-z0-9-]*")
MAX_INT = 2**31 - 1  # the largest id or count an INTEGER column holds on every database


class CommandError(Exception):
    """A user-facing refusal: its message is shown in chat as it is."""

    def reply(self, prefix: str) -> Reply:
        return Reply.text(str(self), error=True)


class UsageError(CommandError):
    """Malformed arguments: the message says what was wrong, then the right form."""

    def __init__(self, problem: str, command: Command | None = None):
        super().__init__(problem)
        self.command = command

    def reply(self, prefix: str) -> Reply:
        text = str(self)
        if self.command is not None:
            text += f"\nUsage: {self.command.usage(prefix)}"
            if self.command.example:
                text += f"\nExample: {self.command.example.replace('/', prefix, 1)}"
        return Reply.text(text, error=True)


@dataclass(frozen=True)
class Param:
    """One positional argument. ``text`` takes the rest of its segment as typed."""

    name: str
    kind: ParamKind = "word"
    optional: bool = False
    choices: tuple[str, ...] = ()

    def usage(self) -> str:
        if self.kind == "sep":
            return "|"
        inner = "|".join(self.choices) if self.choices else self.name
        if self.kind == "tags":
            return f"[#{self.name} ...]"
        if self.kind == "words":
            inner += " ..."
        return f"[{inner}]" if self.optional else f"<{inner}>"


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
class Private:
    """When a command stays on the side of the bridge it was typed on.

    Decided before the command runs, from the command and what was typed, so that a
    command that fails (a typo in the country, a wrong case number) keeps its words on
    this side as surely as one that succeeds. ``always``: it may carry confidential
    text whatever its arguments; ``flags``: when one of these words is typed anywhere
    (a quoted name or a parse error cannot hide it); ``when(db, arguments)``: a check
    of the records it names (the case is confidential, or does not exist). ``advise``:
    the typed words should not be in the room at all, so the answer asks for (or does)
    their deletion; a command that merely stays (``/delete``) says nothing of the kind.
    """

    always: bool = False
    flags: tuple[str, ...] = ()
    when: Callable[[Session, str], bool] | None = None
    advise: bool = True

    def holds(self, db: Session, arguments: str) -> bool:
        if self.always:
            return True
        if self.flags and re.search(r"(?<!\w)[-—–]*(" + "|".join(map(re.escape, self.flags))
                                    + r")(?![\w-])", arguments, re.IGNORECASE):
            return True
        return self.when is not None and self.when(db, arguments)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str
    sub: str | None = None
    params: tuple[Param, ...] = ()
    options: tuple[Option, ...] = ()
    flags: tuple[str, ...] = ()
    role: Role = Role.MEMBER
    example: str = ""
    usage_text: str | None = None
    details: str = ""  # extra lines for /help <command>
    private: Private | None = None  # stays on its side of the bridge: see Private
    # Changes no record: someone posting as a channel or an anonymous admin, who is no
    # one person, may run it (see Caller.anonymous).
    read_only: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.name} {self.sub}" if self.sub else self.name

    def usage(self, prefix: str = "/") -> str:
        if self.usage_text is not None:
            return f"{prefix}{self.qualified} {self.usage_text}".rstrip()
        parts = [p.usage() for p in self.params]
        parts += [f"[{f}]" for f in self.flags] + [o.usage() for o in self.options]
        return " ".join([prefix + self.qualified, *parts])

    def parse(self, text: str) -> Args:
        try:
            tokens = tokenize(text)
        except QuoteError:
            raise UsageError("A double quote (\") is not closed.", self) from None
        options: dict[str, Any] = {}
        flags: set[str] = set()
        kept: list[Token] = []
        by_key = {o.key: o for o in self.options}
        bare_flags = self._bare_flag_positions(tokens, by_key)
        for n, tok in enumerate(tokens):
            key, eq, value = tok.value.partition("=")
            flag = tok.value.lower().lstrip("-")
            # Quotes may hold a value with spaces, around it or around the whole pair:
            # title="A b" and "title=A b" both name the option.
            if eq and key.lower() in by_key:
                options[key.lower()] = _option_value(by_key[key.lower()], value, self)
            elif not tok.quoted and flag in self.flags and (tok.value.startswith("-")
                                                            or n in bare_flags):
                flags.add(flag)
            else:
                kept.append(tok)
        values = _match_segments(self, text, kept, tokens)
        return Args(values, options, frozenset(flags), text)

    def _bare_flag_positions(self, tokens: list[Token], by_key: dict[str, Option]) -> set[int]:
        """Where a flag word without dashes counts as the flag: at the end of the line,
        after the last ``|``, among options and tags only.

        Anywhere else it is a word of a name or summary ("leaking confidential documents",
        "Voices of the unlisted"), kept as typed. ``--flag`` counts anywhere.
        """
        if not self.flags:
            return set()
        bars = [n for n, t in enumerate(tokens) if t.value == "|" and not t.quoted]
        if SEP in self.params and not bars:
            return set()
        start = bars[-1] + 1 if bars else 0
        positions: set[int] = set()
        for n in range(len(tokens) - 1, start - 1, -1):
            tok = tokens[n]
            key, eq, _ = tok.value.partition("=")
            if tok.quoted:
                break
            if tok.value.lower() in self.flags:
                positions.add(n)
            elif not ((eq and key.lower() in by_key) or tok.value.startswith(("#", "-"))):
                break
        return positions


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


class Registry:
    """All commands, checked once when built: names, clashes and grammar."""

    def __init__(self, commands: Iterable[Command]):
        self.commands: list[Command] = []
        self._by_key: dict[tuple[str, str | None], Command] = {}
        for cmd in commands:
            self._check(cmd)
            self.commands.append(cmd)
            self._by_key[(cmd.name, cmd.sub)] = cmd

    def _check(self, cmd: Command) -> None:
        if not NAME_RULE.fullmatch(cmd.name):
            raise ValueError(f"command name {cmd.name!r} does not fit Telegram's [a-z0-9_]{{1,32}}")
        if cmd.sub is not None and not SUB_RULE.fullmatch(cmd.sub):
            raise ValueError(f"sub-command {cmd.sub!r} of {cmd.name} must be a lowercase word")
        if (cmd.name, cmd.sub) in self._by_key:
            raise ValueError(f"command {cmd.qualified!r} is registered twice")
        if not cmd.help:
            raise ValueError(f"command {cmd.qualified!r} has no help text")
        segment: list[Param] = []
        for param in (*cmd.params, SEP):
            if param.kind != "sep":
                segment.append(param)
                continue
            greedy = [p for p in segment if p.kind in ("text", "words")]
            if len(greedy) > 1 or (greedy and segment[-1].kind not in ("text", "words", "tags")):
                raise ValueError(f"{cmd.qualified}: a text parameter must end its segment")
            segment = []

    def names(self) -> list[str]:
        return sorted({c.name for c in self.commands})

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.commands)

    def group(self, name: str) -> list[Command]:
        """The command and its sub-commands, base first."""
        return sorted((c for c in self.commands if c.name == name), key=lambda c: c.sub or "")

    def resolve(self, name: str, rest: str) -> tuple[Command, str]:
        """Pick the sub-command named by the first word of ``rest``, else the base command."""
        first, _, after = rest.partition(" ")
        sub = self._by_key.get((name, first.lower())) if first else None
        if sub is not None:
            return sub, after.strip()
        base = self._by_key.get((name, None))
        if base is not None:
            return base, rest
        subs = self.group(name)
        wanted = f"'{first}' is not a sub-command of {name}" if first else "A sub-command is needed"
        raise UsageError(
            wanted + ". One of:\n" + "\n".join(c.usage() for c in subs)
        )

    def private(self, db: Session, name: str, rest: str) -> Private | None:
        """Why ``name rest`` stays on the side of the bridge it was typed on; None if not.

        A line that does not parse stays when any command of its group would: the words
        after a mistyped sub-command, or inside a broken quote, may be the confidential ones.
        """
        try:
            command, arguments = self.resolve(name, rest)
            command.parse(arguments)
        except CommandError:
            rules = [c.private for c in self.group(name) if c.private is not None]
            return max(rules, key=lambda rule: rule.advise) if rules else None
        if command.private is not None and command.private.holds(db, arguments):
            return command.private
        return None

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.75)
        return close[0] if close else None


def _option_value(option: Option, value: str, cmd: Command) -> Any:
    if option.choices and value.lower() not in option.choices:
        raise UsageError(f"{option.key}= must be one of: {', '.join(option.choices)}.", cmd)
    if option.kind == "int":
        return _whole_number(value, f"{option.key}=", cmd)
    return value.lower() if option.choices else value


def _whole_number(digits: str, label: str, cmd: Command, *, shown: str | None = None) -> int:
    """The one check of every number typed: ASCII digits within what the database holds.

    ``str.isdigit`` accepts "²" and "٣", which ``int`` then rejects or misreads, and a
    number past a 32-bit column (or past Python's 4,300-digit limit) used to crash.
    """
    text = shown if shown is not None else digits
    if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_INT))
            and 1 <= int(digits) <= MAX_INT):
        quoted = text if len(text) <= 24 else text[:20] + "…"
        raise UsageError(f"{label} must be a whole number from 1 to {MAX_INT}, not '{quoted}'.",
                         cmd)
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


def _match_segments(cmd: Command, text: str, kept: list[Token], all_tokens: list[Token]) -> dict:
    declared: list[list[Param]] = [[]]
    for param in cmd.params:
        if param.kind == "sep":
            declared.append([])
        else:
            declared[-1].append(param)
    segments = _split_segments(kept, len(declared))
    segments += [[] for _ in range(len(declared) - len(segments))]
    values: dict[str, Any] = {}
    for params, tokens in zip(declared, segments, strict=True):
        values.update(_match_params(cmd, params, tokens, text, all_tokens))
    return values


def _match_params(cmd: Command, params: list[Param], tokens: list[Token], text: str,
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
                raise UsageError(f"Missing <{param.name}>.", cmd)
            values[param.name] = [] if param.kind == "words" else None
            continue
        if param.kind == "text":
            values[param.name] = _raw_span(text, tokens, all_tokens)
            tokens = []
        elif param.kind == "words":
            values[param.name] = [t.value for t in tokens]
            tokens = []
        else:
            values[param.name] = _word_value(cmd, param, tokens.pop(0).value)
    if tokens:
        raise UsageError(f"Unexpected '{tokens[0].value}'.", cmd)
    return values


def _word_value(cmd: Command, param: Param, value: str) -> Any:
    if param.kind == "int":
        return _whole_number(value.removeprefix("#"), f"<{param.name}>", cmd, shown=value)
    if param.choices:
        if value.lower() not in param.choices:
            raise UsageError(
                f"<{param.name}> must be one of: {', '.join(param.choices)} (not '{value}').", cmd
            )
        return value.lower()
    return value
