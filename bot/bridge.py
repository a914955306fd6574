"""The bridge engine: what a message in one room of a pair becomes in the other.

It knows neither ``telegram`` nor ``nio``: it turns Events into outbox rows
(relay, edit, redact, file) for the paired room, rendered in that network's
dialect, and the adapters send them. Replies, edits and redactions name their
original by its source id; the outbox resolves it to the other room's id when
the row is sent, after the original's own row (rows of a room go in order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection
from sqlmodel import Session

from bot.deliveries import (
    Content,
    Edit,
    FileRef,
    Media,
    React,
    Redact,
    Relay,
    SharedLocation,
    Text,
    enqueue,
    queue,
)
from bot.events import Attachment, Event
from bot.formatting import convert, escape
from bot.replies import Reply
from storage.ids import RoomId, platform_of

# Bots may download up to 20 MB from Telegram and upload up to 50 MB to it;
# Synapse's default upload limit is 50 MB.
DOWNLOAD_LIMIT = {"telegram": 20 * 1024 * 1024, "matrix": 50 * 1024 * 1024}
UPLOAD_LIMIT = {"telegram": 50 * 1024 * 1024, "matrix": 50 * 1024 * 1024}


def size_words(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} kB"


class Partners(Protocol):
    """Which room a room is paired with now (``bot.rooms``: the config's pairs and those
    made in chat)."""

    def partner(self, room_id: str) -> RoomId | None: ...


class Bridge:
    def __init__(self, rooms: Partners):
        self.rooms = rooms

    def partner(self, room_id: str) -> RoomId | None:
        return self.rooms.partner(room_id)

    def relay(self, db: Session | Connection, event: Event, now: datetime, *,
              subject: str | None = None) -> int:
        """Queue what the paired room must see of this event; returns the rows queued.

        ``subject``: the record a command's words are about (see ``Context.subject``).
        """
        target = self.partner(event.room_id)
        if target is None:
            return 0
        network = platform_of(target)
        rows = self.contents(event, network)
        if event.thread is not None and event.platform == "telegram" and (
                rows or event.thread_name) and event.edit_of is None and event.redacts is None:
            self._topic_root(db, event, target, network, now)
        reply = {"reply_source_room": event.room_id,
                 "reply_source_message": event.reply_to} if event.reply_to else {}
        # The original's id names the row; the edits and redactions name what they change.
        source = event.redacts or event.edit_of or event.message_id
        for n, content in enumerate(rows):
            queue(db, target, content, now=now, source_room=event.room_id, subject=subject,
                  source_message=source if n == 0 else f"{source}#{n}",
                  **({} if isinstance(content, Edit | Redact | React) else reply))
        return len(rows)

    def _topic_root(self, db: Session | Connection, event: Event, target: str, network: str,
                    now: datetime) -> None:
        """A Telegram forum topic is a Matrix thread: its root, once, before its first
        message crosses (the topic's creation message is its source, so replies from
        the thread find their way back into the topic)."""
        assert event.thread is not None
        name = event.thread_name or f"topic {event.thread}"
        queue(db, target, Relay(Text(f"📂 Topic: {name}",
                                     f"<b>📂 Topic:</b> {escape(name, network)}")),
              now=now, source_room=event.room_id, source_message=event.thread,
              dedupe_key=f"topic:{event.room_id}:{event.thread}:{target}")

    def contents(self, event: Event, network: str) -> list[Content]:
        """What the event becomes in a room of ``network``: one delivery per row."""
        if event.redacts is not None:
            return [Redact()]
        if event.reaction is not None:
            return [React(event.reaction.key, event.reaction.of_message)]
        name = escape(event.sender_name, network)
        plain, html = convert(event.html, event.text, network)
        if event.edit_of is not None:
            return [Edit(Text(f"{event.sender_name}: {plain}", f"<b>{name}</b>: {html}"))]
        head_plain, head_html = self._head(event, name)
        text = Text(f"{head_plain}{plain}", f"{head_html}{html}") if plain else Text(
            head_plain.rstrip(": "), head_html.removesuffix(": "))
        if not plain and not event.attachments and event.location is None \
                and event.unbridged is None:
            return []  # a service message (someone joined, a pin): nothing a person said
        if event.unbridged is not None:
            words = f"{event.sender_name} sent {event.unbridged} (not bridged: see the other side)"
            return [Relay(Text(words, f"<i>{escape(words, network)}</i>"), thread=event.thread)]
        if event.location is not None:
            where = event.location
            title = f" {where.title}" if where.title else ""
            caption = Text(f"{event.sender_name} shared a location:{title}",
                           f"<b>{name}</b> shared a location:{escape(title, network)}")
            return [SharedLocation(caption, where.latitude, where.longitude, where.title,
                                   event.thread)]
        if not event.attachments:
            quote = None
            if event.reply_quote:
                words = event.reply_quote[:200]
                quote = Text(f"> {words}", f"<blockquote>{escape(words, network)}</blockquote>")
            return [Relay(text, quote, event.thread)]
        return [self._file(event, attachment, network,
                           text if n == 0 else Text(head_plain.rstrip(": "), head_html))
                for n, attachment in enumerate(event.attachments)]

    def _head(self, event: Event, name: str) -> tuple[str, str]:
        if event.emote:
            return f"* {event.sender_name} ", f"* <b>{name}</b> "
        head = (f"{event.sender_name}: ", f"<b>{name}</b>: ")
        if event.forwarded_from:
            origin = escape(event.forwarded_from, "matrix")
            head = (f"{head[0]}↪ forwarded from {event.forwarded_from}: ",
                    f"{head[1]}<i>↪ forwarded from {origin}</i>: ")
        return head

    def _file(self, event: Event, attachment: Attachment, network: str,
              caption: Text) -> Content:
        """One attachment: the file with its caption, or a notice when it is too large."""
        limit = min(DOWNLOAD_LIMIT.get(event.platform, 0), UPLOAD_LIMIT[network])
        if attachment.size is not None and attachment.size > limit:
            words = (f"{event.sender_name} sent {attachment.name} ({size_words(attachment.size)})"
                     " — too large to relay; see the other side.")
            return Relay(Text(words, escape(words, network)), thread=event.thread)
        return Media(caption, FileRef(event.platform, attachment.ref, attachment.name,
                                      attachment.mime, attachment.size, attachment.kind,
                                      attachment.duration, attachment.width,
                                      attachment.height), event.thread)

    def mirror(self, db: Session, event: Event, reply: Reply, now: datetime, *,
               subject: str | None = None) -> None:
        """The bot's answer to a command, shown on the other side too, under the command."""
        target = self.partner(event.room_id)
        if target is not None:
            enqueue(db, target, reply, now=now, reply_source_room=event.room_id,
                           reply_source_message=event.message_id, subject=subject)
