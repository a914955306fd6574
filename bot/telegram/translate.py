"""Telegram's objects to ours and back: Events from Messages, HTML chunks from Replies."""

from __future__ import annotations

from datetime import timedelta

from telegram import BotCommand, Message
from telegram.error import RetryAfter

from bot.commands import Registry, Role
from bot.dispatcher import permitted
from bot.events import Attachment, Event
from bot.replies import Reply

MAX_TEXT = 4096
MAX_CAPTION = 1024
# Accounts Telegram puts in ``from`` for messages no one person signs: posts "as a
# channel" (Channel_Bot), anonymous group admins (GroupAnonymousBot) and automatic
# forwards from a linked channel (777000). Everyone who posts that way shares the id.
SHARED_SENDERS = frozenset({136817688, 1087968824, 777000})


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(reply: Reply, limit: int = MAX_TEXT) -> list[str]:
    """Telegram HTML chunks under ``limit``, cut between lines so no tag is split."""
    chunks: list[str] = []
    current = ""
    for ln in reply.lines:
        rendered = Reply((ln,)).html(html_lists=False)
        if utf16_len(rendered) > limit:  # one huge line: send it as escaped plain text
            plain = Reply((ln,)).plain()
            step = limit // 5  # escaping can grow text fivefold ("&" -> "&amp;")
            pieces = [plain[i:i + step] for i in range(0, len(plain), step)]
            rendered_pieces = [Reply.text(p).html(html_lists=False) for p in pieces]
        else:
            rendered_pieces = [rendered]
        for piece in rendered_pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if current and utf16_len(candidate) > limit:
                chunks.append(current)
                candidate = piece
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def to_event(message: Message, *, edited: bool) -> Event:
    chat = message.chat
    sender = message.from_user
    attachments: list[Attachment] = []
    if message.photo:
        biggest = message.photo[-1]
        attachments.append(Attachment("image", "photo.jpg", "image/jpeg", biggest.file_size,
                                      biggest.file_id))
    if message.document:
        doc = message.document
        attachments.append(Attachment("file", doc.file_name or "file",
                                      doc.mime_type or "application/octet-stream",
                                      doc.file_size, doc.file_id))
    text = message.text or message.caption or ""
    html = (message.text_html if message.text else message.caption_html) if text else None
    anonymous = message.sender_chat is not None or sender is None or \
        sender.id in SHARED_SENDERS
    if anonymous:
        on_behalf = message.sender_chat or chat
        name = message.author_signature or on_behalf.title or str(on_behalf.id)
    else:
        name = sender.full_name  # type: ignore[union-attr]
    return Event(
        platform="telegram", room_id=f"telegram:{chat.id}", message_id=str(message.message_id),
        sender_id=f"telegram:{sender.id}" if sender else f"telegram:{chat.id}",
        sender_name=name, anonymous=anonymous,
        text=text, html=html,
        reply_to=str(message.reply_to_message.message_id) if message.reply_to_message else None,
        reply_quote=_quote(message.reply_to_message),
        edit_of=str(message.message_id) if edited else None,
        is_direct=chat.type == "private", forwarded_from=_forwarded_from(message),
        attachments=tuple(attachments), timestamp=message.edit_date or message.date)


def _quote(original: Message | None) -> str | None:
    if original is None:
        return None
    text = original.text or original.caption or ""
    return text if len(text) <= 80 else text[:79] + "…"


def _forwarded_from(message: Message) -> str | None:
    origin = message.forward_origin
    if origin is None:
        return None
    for attr in ("sender_user", "sender_chat", "chat"):
        who = getattr(origin, attr, None)
        if who is not None:
            return getattr(who, "full_name", None) or getattr(who, "title", None)
    return getattr(origin, "sender_user_name", None) or "someone"


def menu(registry: Registry) -> list[BotCommand]:
    """The command menu a member sees: the same entries as their /help."""
    out = []
    for name in registry.names():
        group = [c for c in registry.group(name) if permitted(c, Role.MEMBER)]
        if group:
            out.append(BotCommand(name, group[0].help[:256]))
    return out
