"""Messages in as an adapter hands them over (Inbound), for tests of whole flows:
commands answered through the outbox, chat relayed across the bridge."""

from __future__ import annotations

import itertools

from bot.events import Event
from bot.inbound import Inbound
from tests.harness import FakeBot

# Message ids: one sequence for every Flow, since a message id seen before is skipped.
MESSAGE_IDS = itertools.count(100)


class Flow:
    def __init__(self, bot: FakeBot):
        self.bot = bot
        self.inbound = Inbound(bot.dispatcher, bot.database, lambda: bot.now, lambda *r, **q: None)

    async def say(self, text: str, *, user: str, room: str | None = None, name: str = "Ana",
                  dm: bool = False) -> None:
        net = self.bot.net
        room = room or (net.dm(user) if dm else net.room)
        await self.inbound.receive(Event(
            platform=net.name, room_id=room, message_id=str(next(MESSAGE_IDS)), sender_id=user,
            sender_name=name, text=text, is_direct=dm, timestamp=self.bot.now))
