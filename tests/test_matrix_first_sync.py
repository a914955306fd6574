"""A Matrix send queued before the process's first sync waits for that sync, not for a retry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nio import RoomSendResponse

from bot.matrix.send import MatrixSender


class Client:
    """What the sender asks of nio's client: the rooms it knows, and room_send."""

    olm = None  # no encryption: no key sharing before a send

    def __init__(self) -> None:
        self.rooms: dict[str, object] = {}
        self.sent: list[str] = []

    async def room_send(self, room_id: str, *args: Any, **kwargs: Any) -> RoomSendResponse:
        self.sent.append(room_id)
        return RoomSendResponse("$sent", room_id)


async def test_a_send_before_the_first_sync_goes_as_soon_as_the_rooms_are_known():
    client = Client()
    sender = MatrixSender(client, verify_devices=False)  # type: ignore[arg-type]

    async def first_sync() -> None:
        await asyncio.sleep(0.2)
        client.rooms["!caucus:example.org"] = object()
        sender.synced.set()

    started = time.monotonic()
    syncing = asyncio.ensure_future(first_sync())
    event_id = await sender._send("!caucus:example.org", {"msgtype": "m.text", "body": "hi"},
                                  "caucus-1")
    await syncing
    assert event_id == "$sent" and client.sent == ["!caucus:example.org"]
    assert time.monotonic() - started < 1.0  # not the two seconds of a retry
