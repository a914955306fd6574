"""Sending to Telegram: each delivery kind by its Bot API method, errors made retries.

Telegram's errors become :class:`RetryLater` (flood control, network) or
:class:`DeliveryFailed` (the bot was removed, a message Telegram refuses), so the
outbox worker waits or keeps the row as failed; nothing is dropped. A room may be
one forum topic of a group (``telegram:<chat>/<topic>``): everything sent there
carries the topic's ``message_thread_id``. Files are downloaded in chunks into the
outbox's spool, never whole in memory.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import NamedTuple, assert_never

import httpx
from telegram import Bot, InputFile, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.deliveries import (
    BotReply,
    Delete,
    Edit,
    Media,
    React,
    Redact,
    Relay,
    SharedLocation,
    Text,
)
from bot.outbox import Delivery, DeliveryFailed, RetryLater
from bot.replies import Reply
from bot.telegram.media import send_media, takes_caption
from bot.telegram.translate import (
    MAX_CAPTION,
    MAX_TEXT,
    bot_reaction,
    retry_seconds,
    split_html,
    utf16_len,
)
from storage.ids import chat_number, topic_number

log = logging.getLogger(__name__)

# What a reaction the bot set is called in the message links (it has no message id).
REACTION = "reaction:"
CHUNK = 64 * 1024


@contextlib.contextmanager
def telegram_errors() -> Iterator[None]:
    """Telegram's answers as the outbox understands them: wait and retry, or give up."""
    try:
        yield
    except RetryAfter as exc:
        raise RetryLater(f"flood control: {exc}", after=retry_seconds(exc),
                         flood=True) from exc
    except (Forbidden, ChatMigrated) as exc:
        raise DeliveryFailed(f"Telegram refused: {exc}") from exc
    except BadRequest as exc:
        raise DeliveryFailed(f"Telegram refused the message: {exc}") from exc
    except (TimedOut, NetworkError) as exc:
        raise RetryLater(f"network: {exc}") from exc


class Chat(NamedTuple):
    """Where a row goes: a chat, and the forum topic in it when the room is one topic."""

    id: int
    topic: int | None

# Files a Telegram chat shows as pictures (sendPhoto); any other goes as a document.
PHOTO_TYPES = ("image/png", "image/jpeg")


class TelegramSender:
    def __init__(self, bot: Bot):
        self.bot = bot

    async def send(self, delivery: Delivery) -> str:
        """Send one outbox row; Telegram's errors become retries or failures."""
        chat = Chat(chat_number(delivery.room_id), topic_number(delivery.room_id))
        chat_id = chat.id
        with telegram_errors():
            match delivery.content:
                case Redact() if delivery.target.startswith(REACTION):
                    # Taking back a reaction: the bot's own reaction on that message goes.
                    target = delivery.target.removeprefix(REACTION).split(":")[0]
                    await self.bot.set_message_reaction(chat_id, int(target), None)
                    return ""
                case Redact() | Delete():
                    await self.bot.delete_message(chat_id, int(delivery.target))
                    return ""
                case React(key=key):
                    return await self._react(chat_id, int(delivery.target), key)
                case Edit(text=text):
                    return await self._relayed(self._edit, chat, delivery, text)
                case BotReply(reply=reply):
                    return await self._send_reply(chat, reply, delivery.reply_to)
                case Relay(text=text) | Media(caption=text):
                    return await self._relayed(self._send_relay, chat, delivery, text)
                case SharedLocation() as place:
                    return await self._send_location(chat, place, delivery.reply_to)
                case unknown:
                    assert_never(unknown)

    async def _relayed(self, send: Callable[[Chat, Delivery, Text], Awaitable[str]],
                       chat: Chat, delivery: Delivery, text: Text) -> str:
        """Send relayed text; if Telegram cannot parse its HTML, the same words as plain text.

        The converter only writes HTML that Telegram documents, but Telegram's parser is the
        judge: a message from the other side must arrive, formatted or not.
        """
        try:
            return await send(chat, delivery, text)
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.warning("telegram: row %s was refused as HTML (%s); sending it as plain text",
                        delivery.row_id, exc)
            return await send(chat, delivery,
                              Text(text.plain, html.escape(text.plain, quote=False)))

    @staticmethod
    def _reply_params(reply_to: str | None) -> ReplyParameters | None:
        if reply_to and reply_to.isdigit():
            return ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True)
        return None

    async def _send_texts(self, chat: Chat, chunks: list[str], reply_to: str | None) -> list[int]:
        params, sent = self._reply_params(reply_to), []
        for chunk in chunks:
            message = await self.bot.send_message(
                chat.id, chunk, parse_mode=ParseMode.HTML, reply_parameters=params,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                message_thread_id=chat.topic)
            sent.append(message.message_id)
            params = None
        return sent

    async def _send_reply(self, chat: Chat, reply: Reply, reply_to: str | None) -> str:
        chunks = split_html(reply) if reply.lines else []
        caption = None
        if reply.file is not None and len(chunks) == 1 and utf16_len(chunks[0]) <= MAX_CAPTION:
            caption, chunks = chunks[0], []
        sent = await self._send_texts(chat, chunks, reply_to)
        if reply.file is not None:
            upload = InputFile(io.BytesIO(reply.file.data), filename=reply.file.name)
            # A chart is shown as a picture; an export arrives as a document to open.
            send = (self.bot.send_photo if reply.file.mime in PHOTO_TYPES
                    else self.bot.send_document)
            message = await send(
                chat.id, upload, caption=caption, parse_mode=ParseMode.HTML,
                reply_parameters=None if sent else self._reply_params(reply_to),
                message_thread_id=chat.topic)
            sent.append(message.message_id)
        return str(sent[0]) if sent else ""

    @staticmethod
    def _relay_chunks(text: Text) -> list[str]:
        if utf16_len(text.html) <= MAX_TEXT:
            return [text.html] if text.html else []
        return split_html(Reply.text(text.plain))  # too long: plain text, split between lines

    async def _send_relay(self, chat: Chat, delivery: Delivery, text: Text) -> str:
        if delivery.file is None:
            return str((await self._send_texts(chat, self._relay_chunks(text),
                                               delivery.reply_to))[0])
        assert isinstance(delivery.content, Media)
        fits = utf16_len(text.html) <= MAX_CAPTION and takes_caption(delivery.content.source)
        caption = text.html if fits else None
        sent = [] if caption is not None else await self._send_texts(
            chat, self._relay_chunks(text), delivery.reply_to)
        params = None if sent else self._reply_params(delivery.reply_to)
        message = await send_media(self.bot, chat.id, delivery.content.source, delivery.file,
                                   caption, params, chat.topic)
        return str(message.message_id)

    async def _react(self, chat_id: int, message_id: int, key: str) -> str:
        """Telegram lets a bot react with its own short list of emoji, one at a time."""
        emoji = bot_reaction(key)
        if emoji is None:
            raise DeliveryFailed(f"Telegram does not let bots react with {key}")
        await self.bot.set_message_reaction(chat_id, message_id, emoji)
        return f"{REACTION}{message_id}:{emoji}"

    async def _send_location(self, chat: Chat, place: SharedLocation,
                             reply_to: str | None) -> str:
        """A venue: Telegram shows its title, which names the sender (a bare location
        has no words at all)."""
        message = await self.bot.send_venue(
            chat.id, place.latitude, place.longitude, title=place.caption.plain[:256],
            address=place.title or f"{place.latitude:.5f}, {place.longitude:.5f}",
            reply_parameters=self._reply_params(reply_to), message_thread_id=chat.topic)
        return str(message.message_id)

    async def _edit(self, chat: Chat, delivery: Delivery, text: Text) -> str:
        try:
            await self.bot.edit_message_text(text.html, chat_id=chat.id,
                                             message_id=int(delivery.target),
                                             parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if "not modified" not in str(exc):
                raise
        return delivery.target

    async def fetch_file(self, file_id: str, path: Path) -> None:
        """Download a file for the bridge into ``path``, a chunk at a time.

        The file's address holds the bot's token, so no error said here quotes it.
        """
        with telegram_errors():
            file = await self.bot.get_file(file_id)
        if not file.file_path:
            raise DeliveryFailed("Telegram gave no address for the file")
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10)) as client, \
                    client.stream("GET", file.file_path) as response:
                if response.status_code != 200:
                    error = DeliveryFailed if response.status_code in (400, 403, 404) \
                        else RetryLater
                    raise error(f"downloading a file from Telegram: HTTP {response.status_code}")
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise RetryLater(f"downloading a file from Telegram: {type(exc).__name__}") from None
