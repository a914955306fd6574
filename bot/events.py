"""The one internal event type: what an adapter makes of a platform message.

Nothing here imports a platform library. Ids are canonical and network-prefixed
(``telegram:123``, ``matrix:@a:srv``, ``matrix:!room:srv``, ``console:you``), so
config, roles, storage and reminders all speak of the same user and room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from storage.ids import Platform, RoomId, UserId

# What a file is to a person: each network shows (and plays) these differently.
AttachmentKind = Literal["image", "file", "audio", "voice", "video", "animation", "sticker"]


@dataclass(frozen=True)
class Attachment:
    """A photo, file, recording or sticker on a message. ``ref`` is the adapter's handle
    (a Telegram file_id, an mxc URI); ``duration`` is in seconds."""

    kind: AttachmentKind
    name: str
    mime: str = "application/octet-stream"
    size: int | None = None
    ref: str = ""
    duration: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Location:
    """A shared place: coordinates, and a name for it when the sender gave one (a venue)."""

    latitude: float
    longitude: float
    title: str = ""


@dataclass(frozen=True)
class Reaction:
    """An emoji put on a message (``of_message``, in the same room)."""

    key: str
    of_message: str


@dataclass(frozen=True)
class Event:
    """A message (or edit, or redaction) seen in a room the bot is in."""

    platform: Platform
    room_id: RoomId
    message_id: str
    sender_id: UserId
    sender_name: str
    text: str = ""
    html: str | None = None
    reply_to: str | None = None
    reply_quote: str | None = None  # a few words of the message replied to, if known
    edit_of: str | None = None
    redacts: str | None = None
    is_direct: bool = False
    emote: bool = False
    forwarded_from: str | None = None
    # Sent as a channel or anonymously as the group: the sender id is shared by everyone
    # who does so, and names no one person.
    anonymous: bool = False
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    # A reaction: its own id is ``message_id``; taking it back is a ``redacts`` of that id.
    reaction: Reaction | None = None
    # The thread it belongs to, by its root's id in this room: a Telegram forum topic
    # (the topic's id) or a Matrix thread (its root event); and the topic's name if known.
    thread: str | None = None
    thread_name: str | None = None
    # What the message was when it is of a kind the other network cannot show ("a contact
    # card", "a dice roll"): announced there, never dropped without a word.
    unbridged: str | None = None
    # The room's own name (a Telegram group's title, a Matrix room's name), where known:
    # what a room set up from chat is called.
    room_name: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
