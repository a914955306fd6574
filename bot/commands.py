"""The command registry: each command is one plain dataclass entry.

An entry declares its name, optional sub-command, argument grammar, the role
it needs, one line of help and an example. ``/help``, usage messages,
Telegram's command menu and the README table are all generated from it, so
they cannot drift apart. Reading the arguments is ``bot.arguments``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.arguments import SEP, Args, ArgumentError, Option, Param, converted, parse_arguments
from bot.replies import Reply
from storage.roles import Role

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.context import Context

Handler = Callable[["Context", "Args"], Awaitable[Reply]]

NAME_RULE = re.compile(r"[a-z0-9_]{1,32}")
SUB_RULE = re.compile(r"[a-z][a-z0-9-]*")


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
    # Runs in a room the bot is in but does not act in yet: how an admin sets a room up
    # (/room allow, /bridge pair). Everything else stays silent there.
    setup: bool = False

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
        return self.convert(self.words(text))

    def words(self, text: str) -> Args:
        """The arguments fitted to the grammar, values as typed."""
        try:
            return parse_arguments(text, self.params, self.options, self.flags)
        except ArgumentError as exc:
            raise UsageError(str(exc), self) from None

    def convert(self, words: Args) -> Args:
        """The arguments with each parameter's ``parse`` applied (a country, a date)."""
        try:
            return converted(words, self.params)
        except ArgumentError as exc:
            raise UsageError(str(exc), self) from None


@dataclass(frozen=True)
class Parsed:
    """A command line read once, and handed from the privacy decision to the run.

    ``command`` is None when no command fits (an unknown sub-command); ``words`` are the
    arguments fitted to the grammar, None when they do not fit and ``problem`` says why.
    Values are converted (a country, a date) only when the command runs, so a refused
    value does not make the whole line look unreadable to the privacy decision.
    """

    name: str
    arguments: str
    command: Command | None
    words: Args | None
    problem: CommandError | None = None

    def args(self) -> Args:
        """The handler's typed arguments; the line's problem, raised, if it has one."""
        if self.problem is not None:
            raise self.problem
        assert self.command is not None and self.words is not None
        return self.command.convert(self.words)


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

    def read(self, name: str, rest: str) -> Parsed:
        """``name rest`` read once: which command, and its words (or what is wrong)."""
        try:
            command, arguments = self.resolve(name, rest)
        except CommandError as exc:
            return Parsed(name, rest, None, None, exc)
        try:
            return Parsed(name, arguments, command, command.words(arguments))
        except CommandError as exc:
            return Parsed(name, arguments, command, None, exc)

    def private(self, db: Session, parsed: Parsed) -> Private | None:
        """Why the line stays on the side of the bridge it was typed on; None if not.

        A line that does not parse stays when any command of its group would: the words
        after a mistyped sub-command, or inside a broken quote, may be the confidential ones.
        """
        command = parsed.command
        if command is None or parsed.words is None:
            rules = [c.private for c in self.group(parsed.name) if c.private is not None]
            return max(rules, key=lambda rule: rule.advise) if rules else None
        if command.private is not None and command.private.holds(db, parsed.arguments):
            return command.private
        return None

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.75)
        return close[0] if close else None
