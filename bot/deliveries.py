"""The outbox contract: one dataclass per kind of delivery, and the one reader of them.

An outbox row keeps a ``kind`` and a JSON ``payload`` (storage knows nothing more);
this module is where both are written and read, so that a sender sees a typed value
and ``match``-es on it, and mypy checks that every kind is handled (``assert_never``).
A row whose kind is not one of these cannot be delivered: :func:`parse` raises
:class:`UnknownDelivery`, and the worker keeps the row as failed rather than guess.

New kinds of message the bridge learns (voice, location, reaction, ...) are added
here, then in each adapter's ``match``: mypy names every place that must follow.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, cast, get_args

from sqlalchemy import Connection
from sqlmodel import Session

from bot.events import AttachmentKind
from bot.replies import Reply
from storage import outbox


class Text(NamedTuple):
    """Words as both renderings a network takes: plain, and HTML in its dialect."""

    plain: str
    html: str


@dataclass(frozen=True)
class FileRef:
    """A file on the network it came from: downloaded by that network's adapter at send.

    ``kind`` says how a person should get it (a voice note plays, a sticker shows);
    ``duration`` is in seconds.
    """

    platform: str
    ref: str  # the adapter's handle: a Telegram file_id, an mxc:// URI or encrypted file
    name: str
    mime: str = "application/octet-stream"
    size: int | None = None
    kind: AttachmentKind = "file"
    duration: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class BotReply:
    """The bot's own answer, notice or reminder."""

    KIND: ClassVar[str] = "reply"
    reply: Reply

    def payload(self) -> str:
        return self.reply.to_json()


@dataclass(frozen=True)
class Relay:
    """A message from the other side of the bridge, with its sender named in ``text``.

    ``quote`` is a few words of the message it answers, shown when the answered
    message has no copy in this room to reply to.
    """

    KIND: ClassVar[str] = "relay"
    text: Text
    quote: Text | None = None
    thread: str | None = None  # the thread root's id in the source room (see Event.thread)

    def payload(self) -> str:
        data: dict[str, Any] = {"plain": self.text.plain, "html": self.text.html}
        if self.quote is not None:
            data["quote"] = list(self.quote)
        if self.thread is not None:
            data["thread"] = self.thread
        return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class Media:
    """A photo or file from the other side, with ``caption`` naming its sender."""

    KIND: ClassVar[str] = "file"
    caption: Text
    source: FileRef
    thread: str | None = None

    def payload(self) -> str:
        return json.dumps({"plain": self.caption.plain, "html": self.caption.html,
                           "file": asdict(self.source), "thread": self.thread},
                          ensure_ascii=False)


@dataclass(frozen=True)
class SharedLocation:
    """A place shared on the other side; ``caption`` names the sender (and the place)."""

    KIND: ClassVar[str] = "location"
    caption: Text
    latitude: float
    longitude: float
    title: str = ""
    thread: str | None = None

    def payload(self) -> str:
        return json.dumps({"plain": self.caption.plain, "html": self.caption.html,
                           "lat": self.latitude, "lon": self.longitude, "title": self.title,
                           "thread": self.thread}, ensure_ascii=False)


@dataclass(frozen=True)
class React:
    """Put ``key`` (an emoji) on the counterpart, in this room, of ``of_message``.

    The row's own source message is the reaction's id, so that taking the reaction
    back (a Redact of that id) finds what this row sent.
    """

    KIND: ClassVar[str] = "reaction"
    key: str
    of_message: str

    def payload(self) -> str:
        return json.dumps({"key": self.key, "of": self.of_message}, ensure_ascii=False)


@dataclass(frozen=True)
class Edit:
    """New words for the copy of a relayed message (the row names its original)."""

    KIND: ClassVar[str] = "edit"
    text: Text

    def payload(self) -> str:
        return json.dumps({"plain": self.text.plain, "html": self.text.html},
                          ensure_ascii=False)


@dataclass(frozen=True)
class Redact:
    """Remove the copy of a message that was deleted on the other side."""

    KIND: ClassVar[str] = "redact"

    def payload(self) -> str:
        return "{}"


@dataclass(frozen=True)
class Delete:
    """Remove a person's message in this very room: words that should not be there."""

    KIND: ClassVar[str] = "delete"

    def payload(self) -> str:
        return "{}"


Content = BotReply | Relay | Media | SharedLocation | React | Edit | Redact | Delete
KINDS: dict[str, type[Content]] = {c.KIND: c for c in (BotReply, Relay, Media, SharedLocation,
                                                       React, Edit, Redact, Delete)}


class UnknownDelivery(ValueError):
    """A row of a kind this version cannot deliver (written by a newer one, or damaged)."""


def parse(kind: str, payload: str) -> Content:
    """The typed value of a stored row."""
    if kind == "reply":
        return BotReply(Reply.from_json(payload))
    if kind in ("redact", "delete"):
        return Redact() if kind == "redact" else Delete()
    if kind not in KINDS:
        raise UnknownDelivery(f"unknown delivery kind {kind!r}")
    try:
        data = json.loads(payload)
        text = Text(data.get("plain", ""), data.get("html", ""))
        thread = data.get("thread")
        if kind == "relay":
            quote = data.get("quote")
            return Relay(text, Text(*quote) if quote else None, thread)
        if kind == "edit":
            return Edit(text)
        if kind == "reaction":
            return React(str(data["key"]), str(data["of"]))
        if kind == "location":
            return SharedLocation(text, float(data["lat"]), float(data["lon"]),
                                  data.get("title", ""), thread)
        f = data["file"]
        mime = f.get("mime") or "application/octet-stream"
        # Rows queued before files had a kind: an image went as one, anything else as a file.
        kind_of = f.get("kind")
        if kind_of not in get_args(AttachmentKind):
            kind_of = "image" if mime.startswith("image/") else "file"
        return Media(text, FileRef(f["platform"], f["ref"], f["name"], mime, f.get("size"),
                                   cast(AttachmentKind, kind_of), f.get("duration"),
                                   f.get("width"), f.get("height")), thread)
    except (ValueError, KeyError, TypeError) as exc:
        raise UnknownDelivery(f"a {kind} row whose payload cannot be read: "
                              f"{type(exc).__name__}") from None


def queue(db: Session | Connection, room_id: str, content: Content, *, now: datetime,
          dedupe_key: str | None = None, **fields: Any) -> int | None:
    """Queue one delivery for a room (see :func:`storage.outbox.add`)."""
    return outbox.add(db, room_id, kind=content.KIND, payload=content.payload(), now=now,
                      dedupe_key=dedupe_key, **fields)


def enqueue(db: Session | Connection, room_id: str, reply: Reply, *, now: datetime,
            dedupe_key: str | None = None, **fields: Any) -> int | None:
    """Queue the bot's own answer for a room: the usual case, said briefly."""
    return queue(db, room_id, BotReply(reply), now=now, dedupe_key=dedupe_key, **fields)
