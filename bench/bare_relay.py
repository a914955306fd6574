"""The floor for the relay benchmark: a bare relay, run as its own process.

``python -m bench.bare_relay SETTINGS_JSON`` relays one Telegram chat and one Matrix
room both ways with the same client libraries as the bot (python-telegram-bot,
matrix-nio) and sends the same messages the bot sends (the sender's name in bold,
Telegram HTML, Matrix ``formatted_body``), so the servers do the same work for both.
It has no storage, no outbox, no de-duplication, no gap filling and no retries: it is
what a relay costs when it does nothing but relay. It says ``ready`` on stderr once it is.
"""

from __future__ import annotations

import asyncio
import html
import json
import sys

from nio import AsyncClient, RoomMessageText, SyncResponse
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode


async def relay(settings: dict[str, str]) -> None:
    room, chat = settings["room"], int(settings["chat"])
    tg = Bot(settings["token"], base_url=settings["base_url"])
    await tg.initialize()
    mx = AsyncClient(settings["homeserver"], settings["user_id"])
    mx.restore_login(settings["user_id"], settings["device_id"], settings["access_token"])
    await mx.join(room)
    first = await mx.sync(timeout=0, full_state=True)
    assert isinstance(first, SyncResponse), first

    async def telegram_to_matrix() -> None:
        offset = 0
        while True:
            for update in await tg.get_updates(offset=offset, timeout=10):
                offset = update.update_id + 1
                message = update.message
                if message and message.chat.id == chat and message.text:
                    name = message.from_user.full_name if message.from_user else "?"
                    await mx.room_send(room, "m.room.message", {
                        "msgtype": "m.text", "body": f"{name}: {message.text}",
                        "format": "org.matrix.custom.html",
                        "formatted_body": f"<b>{html.escape(name)}</b>: "
                                          f"{html.escape(message.text)}"})

    async def matrix_to_telegram() -> None:
        while True:
            response = await mx.sync(timeout=30_000, since=mx.next_batch)
            if not isinstance(response, SyncResponse):
                continue
            joined = response.rooms.join.get(room)
            matrix_room = mx.rooms.get(room)
            for event in joined.timeline.events if joined and matrix_room else []:
                if isinstance(event, RoomMessageText) and event.sender != mx.user_id:
                    name = matrix_room.user_name(event.sender) or event.sender
                    await tg.send_message(
                        chat, f"<b>{html.escape(name)}</b>: {html.escape(event.body)}",
                        parse_mode=ParseMode.HTML,
                        link_preview_options=LinkPreviewOptions(is_disabled=True))

    print("ready", file=sys.stderr, flush=True)
    await asyncio.gather(telegram_to_matrix(), matrix_to_telegram())


if __name__ == "__main__":
    asyncio.run(relay(json.loads(sys.argv[1])))
