"""What a handler gets besides its arguments: who asks, where, when, and the storage.

A Context never carries a platform client: that is what makes every command
testable without a network, and identical on both networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import (
    deliveries,
    text_limits,  # noqa: F401  (checks every row's text lengths on flush)
)
from bot.replies import Reply
from bot.rooms import Finding, Rooms
from storage import audit
from storage.ids import Platform, RoomId, UserId
from storage.roles import Role

if TYPE_CHECKING:
    from bot.commands import Registry
    from bot.config import Config


@dataclass(frozen=True)
class Caller:
    id: UserId
    name: str
    role: Role
    # Posting as a channel or anonymously as the group (Telegram): a shared id that is
    # no one person, so it may read but never change records.
    anonymous: bool = False


@dataclass(frozen=True)
class Place:
    """The room a command was typed in, as the config (or an admin, from chat) describes it.

    ``allowed`` False: a room the bot is in but does not act in yet (an admin added it),
    where only an admin's set-up commands run (``Command.setup``).
    """

    id: RoomId
    name: str
    platform: Platform
    is_direct: bool = False
    secure: bool = False
    allowed: bool = True

    @property
    def private(self) -> bool:
        """A direct message or a room marked ``secure``: where confidential details may show."""
        return self.is_direct or self.secure


@dataclass
class Context:
    caller: Caller
    room: Place
    db: Session
    now: datetime
    config: Config
    registry: Registry
    prefix: str = "/"
    # What this command changed beyond its own records ("outbox", "schedule"), so that
    # the dispatcher can wake the outbox worker or re-plan the scheduler after commit.
    changes: set[str] = field(default_factory=set)
    # The record this command's words are about ("case:12"): its answer, its relay and
    # its notices carry it, so that erasing the record erases them too.
    subject: str | None = None
    # The rooms and pairs there are now (the config's and those set up from chat).
    rooms: Rooms = field(default_factory=Rooms)
    # What the adapters found about how the bot is set up on each network (privacy mode,
    # admin rights, the bot in each room), a problem as one line with what to do.
    setup: tuple[Finding, ...] = ()
    # The message (in this room) the command was typed as a reply to, if any.
    replying_to: str | None = None
    # Set by a command whose own message should go once it is done (/delete): removed
    # where the bot may delete messages in the room.
    remove_command: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return self.config.bot.tz

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def cmd(self, qualified: str) -> str:
        """A command as the caller would type it: with the prefix they used (``/`` or ``!``)."""
        return f"{self.prefix}{qualified}"

    def notify(self, room_id: str, reply: Reply) -> None:
        """Tell another room: queued in the outbox in this command's own transaction."""
        if room_id != self.room.id:
            deliveries.enqueue(self.db, room_id, reply, now=self.now, subject=self.subject)
            self.changes.add("outbox")

    def audit(self, action: str, target: str = "", detail: str = "") -> None:
        audit.record(self.db, at=self.now, actor_id=self.caller.id, room_id=self.room.id,
                     action=action, target=target, detail=detail)
