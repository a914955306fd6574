"""Telegram's objects to ours and back: Events from Messages, HTML chunks from Replies."""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import timedelta
from functools import partial

from telegram import (
    BotCommand,
    Message,
    MessageReactionUpdated,
    Poll,
    ReactionType,
    ReactionTypeEmoji,
)
from telegram.constants import ReactionEmoji
from telegram.error import RetryAfter

from bot.commands import Registry, Role
from bot.dispatcher import permitted
from bot.events import Attachment, Event, Location, Reaction
from bot.replies import Reply
from storage.ids import RoomId, telegram_room_id, user_id_for

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


def to_event(message: Message, *, edited: bool, topic_rooms: Container[str] = ()) -> Event:
    """``topic_rooms``: the rooms that are one forum topic each (``telegram:<chat>/<topic>``);
    a message in one of them is that room's, not a thread of the group's room."""
    chat = message.chat
    sender = message.from_user
    attachments = attachments_of(message)
    location = location_of(message)
    unbridged = None if attachments or location else unbridged_kind(message)
    thread, thread_name, replied = topic_of(message)
    room_id = telegram_room_id(chat.id)
    if thread is not None and telegram_room_id(chat.id, int(thread)) in topic_rooms:
        room_id, thread, thread_name = telegram_room_id(chat.id, int(thread)), None, None
    text = message.text or message.caption or ""
    if message.poll is not None:
        text = poll_text(message.poll)
    elif unbridged and message.sticker is not None and message.sticker.emoji:
        # An animated sticker with no still picture to show: its emoji says what it meant.
        text, unbridged = f"{message.sticker.emoji} (an animated sticker)", None
    html = (message.text_html if message.text else message.caption_html) if text else None
    anonymous = message.sender_chat is not None or sender is None or \
        sender.id in SHARED_SENDERS
    if anonymous:
        on_behalf = message.sender_chat or chat
        name = message.author_signature or on_behalf.title or str(on_behalf.id)
    else:
        name = sender.full_name  # type: ignore[union-attr]
    return Event(
        platform="telegram", room_id=room_id, message_id=str(message.message_id),
        sender_id=user_id_for("telegram", sender.id if sender else chat.id),
        sender_name=name, anonymous=anonymous,
        text=text, html=html,
        reply_to=str(replied.message_id) if replied else None, reply_quote=_quote(replied),
        edit_of=str(message.message_id) if edited else None,
        is_direct=chat.type == "private", forwarded_from=_forwarded_from(message),
        attachments=attachments, location=location, unbridged=unbridged,
        thread=thread, thread_name=thread_name, timestamp=message.edit_date or message.date,
        room_name=chat.title)


def topic_of(message: Message) -> tuple[str | None, str | None, Message | None]:
    """(the forum topic's id, its name if known, the message it really replies to).

    In a forum group every message of a topic "replies" to the topic's creation
    message, which names the topic: that is the topic, not a reply.
    """
    replied = message.reply_to_message
    if message.forum_topic_created is not None:
        return str(message.message_id), message.forum_topic_created.name, replied
    if not message.is_topic_message or not message.message_thread_id:
        return None, None, replied
    name = None
    if replied is not None and replied.forum_topic_created is not None:
        name = replied.forum_topic_created.name
    if replied is not None and replied.message_id == message.message_thread_id:
        replied = None
    return str(message.message_thread_id), name, replied


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The files of a message, each as what it is to a person (a voice note plays)."""
    m = message
    if m.photo:
        biggest = m.photo[-1]
        return (Attachment("image", "photo.jpg", "image/jpeg", biggest.file_size,
                           biggest.file_id, width=biggest.width, height=biggest.height),)
    if m.voice:
        return (Attachment("voice", "voice.ogg", m.voice.mime_type or "audio/ogg",
                           m.voice.file_size, m.voice.file_id, duration=_seconds(m.voice)),)
    if m.audio:
        return (Attachment("audio", m.audio.file_name or "audio.mp3",
                           m.audio.mime_type or "audio/mpeg", m.audio.file_size,
                           m.audio.file_id, duration=_seconds(m.audio)),)
    if m.video:
        return (Attachment("video", m.video.file_name or "video.mp4",
                           m.video.mime_type or "video/mp4", m.video.file_size, m.video.file_id,
                           duration=_seconds(m.video), width=m.video.width,
                           height=m.video.height),)
    if m.video_note:
        note = m.video_note
        return (Attachment("video", "video-note.mp4", "video/mp4", note.file_size, note.file_id,
                           duration=_seconds(note), width=note.length, height=note.length),)
    if m.animation:  # a GIF, which Telegram keeps as MP4; it also fills ``document``
        gif = m.animation
        return (Attachment("animation", gif.file_name or "animation.mp4",
                           gif.mime_type or "video/mp4", gif.file_size, gif.file_id,
                           duration=_seconds(gif), width=gif.width, height=gif.height),)
    if m.sticker:
        sticker = m.sticker
        if not sticker.is_animated and not sticker.is_video:
            return (Attachment("sticker", f"sticker {sticker.emoji or ''}".strip() + ".webp",
                               "image/webp", sticker.file_size, sticker.file_id,
                               width=sticker.width, height=sticker.height),)
        if sticker.thumbnail is not None:  # an animated one: its still picture
            thumb = sticker.thumbnail
            return (Attachment("sticker", f"sticker {sticker.emoji or ''}".strip() + ".webp",
                               "image/webp", thumb.file_size, thumb.file_id,
                               width=thumb.width, height=thumb.height),)
        return ()
    if m.document:
        doc = m.document
        return (Attachment("file", doc.file_name or "file",
                           doc.mime_type or "application/octet-stream", doc.file_size,
                           doc.file_id),)
    return ()


def location_of(message: Message) -> Location | None:
    if message.venue is not None:
        venue = message.venue
        return Location(venue.location.latitude, venue.location.longitude,
                        ", ".join(x for x in (venue.title, venue.address) if x))
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    return None


# What else a message may be, in words for the notice on the other side; checked in order.
UNBRIDGED = (("contact", "a contact card"), ("dice", "a dice roll"), ("game", "a game"),
             ("story", "a story"), ("paid_media", "paid media"), ("invoice", "an invoice"),
             ("sticker", "an animated sticker"), ("giveaway", "a giveaway"),
             ("checklist", "a checklist"))


def unbridged_kind(message: Message) -> str | None:
    """What a message is when the bridge cannot carry it; None for text and known kinds."""
    if message.text or message.caption or message.poll is not None:
        return None
    for attribute, words in UNBRIDGED:
        if getattr(message, attribute, None):
            return words
    return None


def poll_text(poll: Poll) -> str:
    lines = [f"📊 Poll: {poll.question}"]
    lines += [f"{n}. {option.text}" for n, option in enumerate(poll.options, 1)]
    return "\n".join(lines) + "\n(vote on the other side)"


def poll_results(poll: Poll) -> str:
    """A stopped poll's final counts, in the words of :func:`poll_text`."""
    def votes(n: int) -> str:
        return f"{n} vote{'' if n == 1 else 's'}"

    lines = [f"📊 Poll closed: {poll.question}"]
    lines += [f"{n}. {option.text} — {votes(option.voter_count)}"
              for n, option in enumerate(poll.options, 1)]
    voters = poll.total_voter_count
    return "\n".join(lines) + f"\n({voters} {'person' if voters == 1 else 'people'} voted)"


def reaction_events(change: MessageReactionUpdated, room_id: RoomId) -> list[Event]:
    """A person's reactions on a message changed: one Event per emoji added (its id names
    the person, the message and the emoji) and one redaction per emoji taken back.
    ``room_id``: the room the message is in (the update names only its chat)."""
    who = change.user
    sender = user_id_for("telegram", who.id if who else change.chat.id)
    name = who.full_name if who else (change.actor_chat.title if change.actor_chat else "")

    def emoji(reactions: Sequence[ReactionType]) -> set[str]:
        return {r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)}

    old, new = emoji(change.old_reaction), emoji(change.new_reaction)
    of = str(change.message_id)
    event = partial(Event, platform="telegram", room_id=room_id,
                    sender_id=sender, sender_name=name or "someone", anonymous=who is None,
                    timestamp=change.date)

    def own_id(key: str) -> str:
        return f"reaction:{sender}:{of}:{key}"

    return ([event(message_id=own_id(key), reaction=Reaction(key, of))
             for key in sorted(new - old)]
            + [event(message_id=f"{own_id(key)}:undone", redacts=own_id(key))
               for key in sorted(old - new)])


def bot_reaction(key: str) -> str | None:
    """The emoji as Telegram lets a bot react with it, or None (Matrix sends ❤️ where
    Telegram's list has ❤, without the variation selector)."""
    bare = key.replace("\ufe0f", "")
    for candidate in (key, bare):
        if candidate in BOT_REACTIONS:
            return candidate
    return None


BOT_REACTIONS = frozenset(e.value for e in ReactionEmoji)


def _seconds(media: object) -> int | None:
    value = getattr(media, "duration", None)
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


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
