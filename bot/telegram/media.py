"""Files from the other side, sent the way Telegram shows each kind.

A voice note must arrive as a voice note (it plays in the chat), a video as a video,
a GIF as an animation; anything Telegram would refuse under its own method (a voice
note that is not OGG/Opus, a sticker that is not WebP, a photo over 10 MB) goes the
next best way, so that it still arrives.
"""

from __future__ import annotations

import io

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
                     caption: str | None, reply: ReplyParameters | None) -> Message:
    """Send ``file`` as its kind; ``caption`` is HTML, or None when it went as text."""
    upload = InputFile(io.BytesIO(file.data), filename=file.name)
    html, mime = ParseMode.HTML, file.mime.split(";")[0].strip().lower()
    match source.kind:
        case "voice" if mime in VOICE_TYPES:
            return await bot.send_voice(chat_id, upload, duration=source.duration,
                                        caption=caption, parse_mode=html,
                                        reply_parameters=reply)
        case "voice" | "audio":
            return await bot.send_audio(chat_id, upload, duration=source.duration,
                                        caption=caption, parse_mode=html,
                                        reply_parameters=reply)
        case "video":
            return await bot.send_video(chat_id, upload, duration=source.duration,
                                        width=source.width, height=source.height,
                                        caption=caption, parse_mode=html,
                                        reply_parameters=reply)
        case "animation":
            return await bot.send_animation(chat_id, upload, duration=source.duration,
                                            width=source.width, height=source.height,
                                            caption=caption, parse_mode=html,
                                            reply_parameters=reply)
        case "sticker" if mime == "image/webp" and caption is None:
            return await bot.send_sticker(chat_id, upload, reply_parameters=reply)
        case "image" | "sticker" if mime.startswith("image/") and len(file.data) <= PHOTO_LIMIT:
            return await bot.send_photo(chat_id, upload, caption=caption, parse_mode=html,
                                        reply_parameters=reply)
    return await bot.send_document(chat_id, upload, caption=caption, parse_mode=html,
                                   reply_parameters=reply)
