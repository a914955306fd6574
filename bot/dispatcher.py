"""The one place that routes an Event: to a command handler, or back as chat.

Errors meant for the user (``CommandError``) are shown as they are; anything
else is logged with a short reference and the user gets only that reference.
Message text is never logged: it may name people at risk; nor is an exception's
message, which may quote it (``bot.failures``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from sqlmodel import Session

from bot.commands import Command, CommandError, Parsed, Private, Registry, Role, UsageError
from bot.config import Config
from bot.context import Caller, Context, Place
from bot.events import Event
from bot.failures import traceback_without_messages
from bot.parsing import CommandLine, split_command
from bot.replies import Reply, i, line
from bot.rooms import Finding, RoomDirectory
from storage import roles
from storage.database import Database

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def permitted(command: Command, role: Role) -> bool:
    """The one permission check: it decides both what runs and what /help lists."""
    return role >= command.role


class Reading(NamedTuple):
    """An event as the dispatcher reads it, once: the place (None: the bot does not act
    there), the command line if the text has that shape, and, when it is a command for
    this bot that runs (registered, addressed to us, not an edit), the command and its
    arguments as the registry read them."""

    place: Place | None
    line: CommandLine | None
    command: Parsed | None

    @property
    def is_command(self) -> bool:
        return self.command is not None


Why = Literal["elsewhere", "edit", "chat", "other-bot", "unknown", "seen-before", "answered",
              "refused", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What became of an event: ``reply`` to show (None: say nothing), and ``why``:
    not a room the bot acts in, an edit, chat, another bot's command, an unknown
    command, one handled before (a network delivered it twice), or a command that ran,
    was refused, or failed."""

    why: Why
    reply: Reply | None = None

    @property
    def fresh(self) -> bool:
        """False when the event had been handled before: nothing was done this time."""
        return self.why != "seen-before"


@dataclass(frozen=True)
class Answer:
    """What a command leaves behind, settled in the command's own transaction."""

    reply: Reply | None
    subject: str | None = None  # the record its words are about (see Context.subject)
    private: bool = False  # it stays on the side of the bridge it was typed on
    delete: bool = False  # the bot removes the command's message itself


@dataclass(frozen=True)
class Settlement:
    """What commits with a command, so that a crash or a failing database between steps
    can neither run it twice nor leave it run without its answer.

    ``claim(db)`` records the message as handled (False: it was, before); ``settle(db,
    answer)`` queues the answer and whatever else goes with it. A command that fails is
    rolled back and its error answer committed with the claim instead.
    """

    claim: Callable[[Session], bool]
    settle: Callable[[Session, Answer], None]


class Dispatcher:
    def __init__(self, *, config: Config, registry: Registry, database: Database,
                 clock: Clock = utcnow, extra_rooms: Mapping[str, Place] | None = None,
                 role_overrides: Mapping[str, Role] | None = None):
        self.config = config
        self.registry = registry
        self.database = database
        self.clock = clock
        self.extra_rooms = dict(extra_rooms or {})
        # The rooms and pairs there are now: the config's and those set up from chat.
        self.rooms = RoomDirectory(config, database)
        self.role_overrides = dict(role_overrides or {})
        self.bot_usernames: set[str] = set()  # filled by adapters (Telegram's getMe)
        self._seen: set[tuple[str, str, bool]] = set()
        # Whether the bot may delete other people's messages in a room (set by the service
        # from the adapters): a command that should not have been typed there is removed.
        self.can_delete: Callable[[str], bool] = lambda room_id: False
        # What the adapters found about the set-up, by a key of their own (a problem fixed
        # later is replaced under the same key); /bridge status shows it.
        self.setup: dict[str, Finding] = {}
        # Called after each committed command with what it changed ("outbox", "schedule",
        # "rooms"); the rooms are read again first, so the other hooks see them.
        self.after_commit: list[Callable[[frozenset[str]], None]] = [self.rooms.after_commit]
        # Called with (command name, outcome) once a command has run: "answered",
        # "refused" (the user was told what was wrong) or "failed" (a bug, logged with a
        # reference); /metrics counts them.
        self.on_outcome: list[Callable[[str, str], None]] = []

    def place_for(self, event: Event) -> Place | None:
        """Where the event happened: a room of the config or set up from chat, a direct
        message, or a room the bot is in but does not act in yet (``allowed`` False)."""
        if event.is_direct:
            return Place(event.room_id, "direct message", event.platform, is_direct=True)
        room = self.rooms.room_for(event.room_id)
        if room is not None:
            return Place(event.room_id, room.name, event.platform, secure=room.secure)
        if event.room_id in self.extra_rooms:
            return self.extra_rooms[event.room_id]
        return Place(event.room_id, event.room_name or event.room_id, event.platform,
                     allowed=False)

    def read(self, event: Event) -> Reading:
        """Where the event happened and which command line it holds: read once, handed on."""
        place = self.place_for(event)
        line = None if place is None else split_command(event.text,
                                                        self.config.bot.command_prefixes)
        ours = (line is not None and self.registry.has(line.name)
                and (not line.addressee or line.addressee.lower() in self.bot_usernames))
        runs = ours and event.edit_of is None and event.redacts is None
        parsed = self.registry.read(line.name, line.rest) if runs and line else None
        return Reading(place, line, parsed)

    async def handle(self, event: Event, settlement: Settlement | None = None,
                     reading: Reading | None = None) -> Outcome:
        """Answer a command, or say why not (chat, another bot's command, not a room the
        bot acts in, seen before).

        ``settlement``: what must commit in the command's own transaction (see Settlement);
        ``reading``: the event as :meth:`read` read it, where the caller has it already.
        """
        place, line, parsed = reading or self.read(event)
        if place is None:
            return Outcome("elsewhere")
        if place.allowed:
            self._observe(event, place)
        if event.edit_of is not None or event.redacts is not None:
            return Outcome("edit")  # an edited command is not run a second time
        if not place.allowed and parsed is None:
            return Outcome("elsewhere")  # chat, or not a command for this bot: silence
        if line is None:
            if place.is_direct and event.text.strip():
                prefix = "!" if event.platform == "matrix" and "!" in self.config.bot.\
                    command_prefixes else self.config.bot.command_prefixes[0]
                return Outcome("chat", Reply.text(
                    f"I answer commands: {prefix}help lists the ones you can use here, "
                    f"{prefix}start says what I do."))
            return Outcome("chat")
        if line.addressee and line.addressee.lower() not in self.bot_usernames:
            return Outcome("other-bot")  # /cmd@OtherBot
        if parsed is None:
            return Outcome("unknown", self._unknown(line.prefix, line.name, place))
        with self.database.session() as db:
            if settlement is not None and not settlement.claim(db):
                return Outcome("seen-before")  # a network delivered it twice
            caller = Caller(event.sender_id, event.sender_name,
                            self._role(db, event.sender_id, place, event.anonymous),
                            anonymous=event.anonymous)
            if not place.allowed and caller.role < Role.ADMIN:
                db.commit()  # recorded as handled: a room the bot does not act in, silence
                return Outcome("elsewhere")
            ctx = Context(caller=caller, room=place, db=db, now=self.clock(),
                          config=self.config, registry=self.registry, prefix=line.prefix,
                          rooms=self.rooms.current, setup=tuple(self.setup.values()),
                          replying_to=event.reply_to)
            # Decided before it runs, so that a command that fails keeps its words here too.
            private = self.registry.private(db, parsed)
            try:
                if parsed.command is None:
                    raise parsed.problem or UsageError("No such command.")
                command = parsed.command
                self._check_permission(command, caller, line.prefix)
                if not place.allowed and not command.setup:
                    raise CommandError(self._not_set_up(line.prefix))
                answer = self._answer(await command.handler(ctx, parsed.args()), ctx, private)
                if settlement is not None:
                    settlement.settle(db, answer)
                db.commit()
            except CommandError as exc:
                db.rollback()
                self._outcome(line.name, "refused")
                return _settled(db, settlement, "refused", self._answer(
                    _with_prefix(exc, line.prefix), ctx, private))
            except Exception as exc:
                db.rollback()
                ref = secrets.token_hex(2)
                log.error("command %s failed (ref %s) for %s in %s\n%s", line.name, ref,
                          event.sender_id, event.room_id, traceback_without_messages(exc),
                          extra={"room_id": event.room_id, "user_id": event.sender_id,
                                 "command": line.name})
                self._outcome(line.name, "failed")
                return _settled(db, settlement, "failed", self._answer(Reply.text(
                    f"Something went wrong (ref {ref}). Nothing was changed; tell an admin "
                    "this reference if it happens again.", error=True), ctx, private))
        log.info("command %s by %s in %s", command.qualified, event.sender_id, event.room_id,
                 extra={"room_id": event.room_id, "user_id": event.sender_id,
                        "command": command.qualified})
        self._outcome(line.name, "answered")
        if ctx.changes:
            for hook in self.after_commit:
                hook(frozenset(ctx.changes))
        return Outcome("answered", answer.reply)

    def _outcome(self, name: str, outcome: str) -> None:
        for hook in self.on_outcome:
            hook(name, outcome)

    def _answer(self, reply: Reply, ctx: Context, private: Private | None) -> Answer:
        """The command's answer; in an ordinary room, one that should not have been typed
        there is removed where the bot may, and the answer says so (or asks for it)."""
        stays = private is not None
        removable = not ctx.room.is_direct and self.can_delete(ctx.room.id)
        if private is None or not private.advise or ctx.room.private:
            return Answer(reply, ctx.subject, stays, ctx.remove_command and removable)
        note = ("I have deleted your message here" if removable else
                "Please delete your message here") + (
            ": what it holds should stay out of this room. Next time, send it to me in a "
            "direct message.")
        return Answer(reply + Reply.of(line(i(note))), ctx.subject, stays, removable)

    def _role(self, db: Session, user_id: str, place: Place, anonymous: bool) -> Role:
        if user_id in self.role_overrides:
            role = self.role_overrides[user_id]
        else:
            role = roles.role_of(db, user_id, admins=self.config.bot.admins,
                                 in_allowed_room=place.allowed and not place.is_direct)
        # A channel or an anonymous admin is no one person: never more than a member.
        return min(role, Role.MEMBER) if anonymous else role

    def _check_permission(self, command: Command, caller: Caller, prefix: str) -> None:
        if caller.anonymous and not command.read_only:
            raise CommandError(
                f"{prefix}{command.qualified} changes shared records, and you are posting as a "
                "channel or as the group, so I cannot tell who you are. Post as yourself (in "
                "Telegram: turn off \"Remain anonymous\" in your admin rights, or pick your own "
                "account under \"Send as\") and try again.")
        role = caller.role
        if permitted(command, role):
            return
        name = prefix + command.qualified
        if role == Role.GUEST:
            raise CommandError(f"{name} is for members of the coalition's rooms. Speak in one of "
                               "them first, or ask an admin.")
        raise CommandError(f"{name} needs the {command.role.label} role; you are "
                           f"{'an' if role == Role.ADMIN else 'a'} {role.label}.")

    def _not_set_up(self, prefix: str) -> str:
        return (f"I do not act in this room yet. {prefix}room allow lets commands and "
                f"reminders work here; {prefix}bridge pair bridges it with a room on the other "
                "network (the answer says how).")

    def _unknown(self, prefix: str, name: str, place: Place) -> Reply | None:
        # "!important" in chat stays chat; "/x", a DM, or a near miss gets an answer.
        guess = self.registry.suggest(name)
        if prefix != "/" and not place.is_direct and guess is None:
            return None
        text = f"Unknown command {prefix}{name} — try {prefix}help"
        if guess:
            text += f" (did you mean {prefix}{guess}?)"
        return Reply.text(text, error=True)

    def _observe(self, event: Event, place: Place) -> None:
        """Remember who spoke where, so that members may later use the bot in a DM."""
        if event.anonymous:
            return  # a shared id: no one person to remember
        key = (event.sender_id, event.sender_name, not place.is_direct)
        if key in self._seen:
            return
        with self.database.session() as db:
            roles.note_seen(db, event.sender_id, event.sender_name, now=self.clock(),
                            member=not place.is_direct)
            db.commit()
        self._seen.add(key)


def _settled(db: Session, settlement: Settlement | None, why: Why, failure: Answer) -> Outcome:
    """A failed command's answer, committed with the command's record as handled."""
    if settlement is not None:
        if not settlement.claim(db):
            return Outcome("seen-before")
        settlement.settle(db, failure)
        db.commit()
    return Outcome(why, failure.reply)


def _with_prefix(exc: CommandError, prefix: str) -> Reply:
    if isinstance(exc, UsageError) and exc.command is None:
        # Sub-command lists are rendered with "/" by the registry; show the caller's prefix.
        return Reply.text(str(exc).replace("\n/", "\n" + prefix), error=True)
    return exc.reply(prefix)
