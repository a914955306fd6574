"""Files from the other side, sent the way Telegram shows each kind.

A voice note must arrive as a voice note (it plays in the chat), a video as a video,
a GIF as an animation; anything Telegram would refuse under its own method (a voice
note that is not OGG/Opus, a sticker that is not WebP, a photo over 10 MB) goes the
next best way, so that it still arrives. The file is uploaded from the spool on disk
as it is read, never whole in memory.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.constants import ParseMode

from bot.deliveries import FileRef
from bot.outbox import FileData

PHOTO_LIMIT = 10 * 1024 * 1024  # sendPhoto's own limit; larger images go as documents
VOICE_TYPES = ("audio/ogg", "audio/opus")  # what Telegram plays as a voice note


def takes_caption(source: FileRef) -> bool:
    """A sticker carries no caption: its sender is named in a message before it."""
    return not (source.kind == "sticker" and source.mime == "image/webp")


async def send_media(bot: Bot, chat_id: int, source: FileRef, file: FileData,
                     caption: str | None, reply: ReplyParameters | None,
                     thread: int | None = None) -> Message:
    """Send ``file`` as its kind; ``caption`` is HTML, or None when it went as text.
    ``thread``: the forum topic it goes into."""
    with file.path.open("rb") as handle:
        upload = InputFile(handle, filename=file.name, read_file_handle=False)
        return await _send_as_kind(bot, chat_id, source, file, upload, caption, reply, thread)


async def _send_as_kind(bot: Bot, chat_id: int, source: FileRef, file: FileData,
                        upload: InputFile, caption: str | None, reply: ReplyParameters | None,
                        thread: int | None) -> Message:
    mime = file.mime.split(";")[0].strip().lower()
    where: dict[str, Any] = {"reply_parameters": reply, "message_thread_id": thread}
    told = {**where, "caption": caption, "parse_mode": ParseMode.HTML}
    shape: dict[str, Any] = {"width": source.width, "height": source.height}
    match source.kind:
        case "voice" if mime in VOICE_TYPES:
            return await bot.send_voice(chat_id, upload, duration=source.duration, **told)
        case "voice" | "audio":
            return await bot.send_audio(chat_id, upload, duration=source.duration, **told)
        case "video":
            return await bot.send_video(chat_id, upload, duration=source.duration, **shape,
                                        **told)
        case "animation":
            return await bot.send_animation(chat_id, upload, duration=source.duration,
                                            **shape, **told)
        case "sticker" if mime == "image/webp" and caption is None:
            return await bot.send_sticker(chat_id, upload, **where)
        case "image" | "sticker" if mime.startswith("image/") and file.size <= PHOTO_LIMIT:
            return await bot.send_photo(chat_id, upload, **told)
    return await bot.send_document(chat_id, upload, **told)
