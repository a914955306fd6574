"""The bridge engine: what a message in one room of a pair becomes in the other.

It knows neither ``telegram`` nor ``nio``: it turns Events into outbox rows
(relay, edit, redact, file) for the paired room, rendered in that network's
dialect, and the adapters send them. Replies, edits and redactions name their
original by its source id; the outbox resolves it to the other room's id when
the row is sent, after the original's own row (rows of a room go in order).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from bot.config import Config
from bot.events import Attachment, Event
from bot.formatting import convert, escape
from bot.replies import Reply
from storage import outbox

# Bots may download up to 20 MB from Telegram and upload up to 50 MB to it;
# Synapse's default upload limit is 50 MB.
DOWNLOAD_LIMIT = {"telegram": 20 * 1024 * 1024, "matrix": 50 * 1024 * 1024}
UPLOAD_LIMIT = {"telegram": 50 * 1024 * 1024, "matrix": 50 * 1024 * 1024}


def size_words(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} kB"


class Bridge:
    def __init__(self, config: Config):
        self.pairs: dict[str, str] = {}
        for room in config.rooms:
            if room.bridged:
                a, b = room.ids
                self.pairs[a], self.pairs[b] = b, a

    def partner(self, room_id: str) -> str | None:
        return self.pairs.get(room_id)

    def relay(self, db: Session, event: Event, now: datetime, *,
              subject: str | None = None) -> int:
        """Queue what the paired room must see of this event; returns the rows queued.

        ``subject``: the record a command's words are about (see ``Context.subject``).
        """
        target = self.partner(event.room_id)
        if target is None:
            return 0
        network = target.split(":", 1)[0]
        common = {"now": now, "source_room": event.room_id, "subject": subject}
        if event.redacts is not None:
            outbox.add(db, target, kind="redact", payload="{}", source_message=event.redacts,
                       **common)
            return 1
        name = escape(event.sender_name, network)
        plain, html = convert(event.html, event.text, network)
        if event.edit_of is not None:
            outbox.add(db, target, kind="edit", payload=json.dumps(
                {"plain": f"{event.sender_name}: {plain}", "html": f"<b>{name}</b>: {html}"}),
                source_message=event.edit_of, **common)
            return 1
        head_plain, head_html = self._head(event, name)
        text = (f"{head_plain}{plain}", f"{head_html}{html}") if plain else (
            head_plain.rstrip(": "), head_html.removesuffix(": "))
        payload: dict = {"plain": text[0], "html": text[1]}
        if event.reply_quote:
            quote = event.reply_quote[:200]
            payload["quote"] = (f"> {quote}",
                                f"<blockquote>{escape(quote, network)}</blockquote>")
        reply = {"reply_source_room": event.room_id,
                 "reply_source_message": event.reply_to} if event.reply_to else {}
        if not event.attachments:
            outbox.add(db, target, kind="relay", payload=json.dumps(payload),
                       source_message=event.message_id, **common, **reply)
            return 1
        for n, attachment in enumerate(event.attachments):
            caption = text if n == 0 else (head_plain.rstrip(": "), head_html)
            outbox.add(db, target, **self._file_row(event, attachment, network, caption, n),
                       **common, **reply)
        return len(event.attachments)

    def _head(self, event: Event, name: str) -> tuple[str, str]:
        if event.emote:
            return f"* {event.sender_name} ", f"* <b>{name}</b> "
        head = (f"{event.sender_name}: ", f"<b>{name}</b>: ")
        if event.forwarded_from:
            origin = escape(event.forwarded_from, "matrix")
            head = (f"{head[0]}↪ forwarded from {event.forwarded_from}: ",
                    f"{head[1]}<i>↪ forwarded from {origin}</i>: ")
        return head

    def _file_row(self, event: Event, attachment: Attachment, network: str,
                  caption: tuple[str, str], n: int) -> dict[str, str]:
        """The kind, payload and source of one attachment's row."""
        source_network = event.platform
        limit = min(DOWNLOAD_LIMIT.get(source_network, 0), UPLOAD_LIMIT[network])
        source_message = event.message_id if n == 0 else f"{event.message_id}#{n}"
        if attachment.size is not None and attachment.size > limit:
            words = (f"{event.sender_name} sent {attachment.name} ({size_words(attachment.size)})"
                     " — too large to relay; see the other side.")
            return {"kind": "relay", "payload": json.dumps(
                {"plain": words, "html": escape(words, network)}),
                "source_message": source_message}
        payload = {"plain": caption[0], "html": caption[1],
                   "file": {"platform": source_network, "ref": attachment.ref,
                            "name": attachment.name, "mime": attachment.mime,
                            "size": attachment.size}}
        return {"kind": "file", "payload": json.dumps(payload), "source_message": source_message}

    def mirror(self, db: Session, event: Event, reply: Reply, now: datetime, *,
               subject: str | None = None) -> None:
        """The bot's answer to a command, shown on the other side too, under the command."""
        target = self.partner(event.room_id)
        if target is not None:
            outbox.enqueue(db, target, reply, now=now, reply_source_room=event.room_id,
                           reply_source_message=event.message_id, subject=subject)
