"""Pairing from chat end to end: real Synapse, the Bot API double, the real bot between.

No room is in the config: an admin asks for a code in one room and types it in the
other, and messages cross at once, without a restart; unpairing stops them; the
pair survives a restart; a code works once and ten minutes; members cannot pair;
and a long outage is said, never a silent gap.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice, RoomMessageText

import bot.matrix
from bot.config import parse_config
from bot.service import Service
from storage import inbound
from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import ADMIN, CAUCUS, stop
from tests.integration.matrix_fixtures import Human
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
GROUP, OTHER_GROUP, THIRD_GROUP = -1001000000077, -1001000000078, -1001000000079


class Chat(Pair):
    """Telegram and Matrix served, admins named, and no room in the config."""

    def __init__(self, synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
        super().__init__(synapse, api, tmp_path, database_url)
        self.admin = api.user(ADMIN, "Admin")
        self.shift = timedelta()  # the bot's clock, ahead of the real one by this much

    def config_data(self) -> dict[str, Any]:
        return {**super().config_data(), "rooms": []}

    def clock(self) -> datetime:
        return datetime.now(UTC) + self.shift

    async def start(self) -> Service:
        service = Service(parse_config(self.config_data(), env={}), clock=self.clock,
                          poll_timeout=1, outbox_poll_seconds=0.2)
        await service.start()
        self.services.append(service)
        return service

    async def matrix_room(self, name: str, invite: tuple[str, ...] = ()) -> str:
        room = await self.alice.create_room(invite=[self.bot.user_id, *invite], name=name)
        await self.alice.wait_member(room, self.bot.user_id)
        return room

    def notices(self, room: str) -> list[Any]:
        return [e for e in self.alice.from_user(room, self.bot.user_id)
                if isinstance(e, RoomMessageNotice)]

    def texts(self, room: str) -> list[str]:
        return [e.body for e in self.alice.from_user(room, self.bot.user_id)
                if isinstance(e, RoomMessageText) and not isinstance(e, RoomMessageNotice)]

    async def matrix_says(self, room: str, text: str, start: str) -> str:
        """Alice types ``text``; returns the bot's next notice that starts with ``start``."""
        def answers() -> list[str]:
            return [n.body for n in self.notices(room) if n.body.startswith(start)]
        before = len(answers())
        await self.alice.say(room, text)
        return str((await self.alice.wait_for(lambda: answers()[before:]))[0])

    async def telegram_says(self, chat: int, user: dict[str, Any], text: str,
                            start: str) -> str:
        def answers() -> list[str]:
            return [s.plain for s in self.api.sent_to(chat) if s.plain.startswith(start)]
        before = len(answers())
        await self.api.user_message(chat, user, text)
        return str((await self.api.wait_for(lambda: answers()[before:]))[0])


@pytest.fixture
async def chat(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str
               ) -> AsyncIterator[Chat]:
    c = Chat(synapse, api, tmp_path, database_url)
    yield c
    for service in c.services:
        if not service.stopped.is_set():
            await stop(service)
    await c.alice.close()


def code_of(answer: str) -> str:
    found = re.search(r"Pairing code: ([A-Z0-9]{8})", answer)
    assert found, answer
    return found.group(1)


async def nothing_more(count: Callable[[], int], seconds: float = 2.5) -> int:
    """Wait, then say how many there are: to see that nothing else arrived."""
    before = count()
    await asyncio.sleep(seconds)
    assert count() == before
    return before


async def test_pair_relay_unpair_restart_and_pair_again_the_other_way(
        chat: Chat, caplog: pytest.LogCaptureFixture):
    service = await chat.start()
    room = await chat.matrix_room("Geneva caucus")
    code = code_of(await chat.matrix_says(room, "!bridge pair", "Pairing code: "))
    await chat.api.bot_added(GROUP, chat.admin, "Geneva caucus")
    [hello] = await chat.api.wait_for(lambda: chat.api.sent_to(GROUP))
    assert "silent until an admin sets this group up" in hello.plain and GROUP not in \
        chat.api.left
    await chat.api.user_message(GROUP, chat.ana, "anyone here?")  # not set up: not relayed
    answer = await chat.telegram_says(GROUP, chat.admin, f"/bridge pair {code}", "Bridged")
    assert answer.startswith("Bridged with the Matrix room Geneva caucus. Messages now cross")
    told = await chat.alice.wait_for(lambda: [n.body for n in chat.notices(room)
                                              if n.body.startswith("Bridged")])
    assert told == ["Bridged with the Telegram group Geneva caucus. Messages now cross both "
                    "ways. !bridge unpair stops it."]

    await chat.api.user_message(GROUP, chat.ana, "Hello from Telegram")
    await chat.alice.wait_for(lambda: "Ana: Hello from Telegram" in chat.texts(room))
    assert "Ana: anyone here?" not in chat.texts(room)
    await chat.alice.say(room, "Hi from Matrix")
    await chat.api.wait_for(lambda: any(s.plain == "alice: Hi from Matrix"
                                        for s in chat.api.sent_to(GROUP)))

    status = await chat.matrix_says(room, "!bridge status", "1 bridged pair")
    assert (f"Geneva caucus (telegram:{GROUP} ⇄ matrix:{room}) — paired in chat by "
            "telegram:1 on ") in status
    assert "the bot is not an admin of the Telegram group Geneva caucus" in status
    assert "the bot cannot redact messages in the Matrix room Geneva caucus" in status

    await stop(service)  # the pair is in the database: it survives a restart
    caplog.set_level(logging.INFO, logger="bot.service")
    service = await chat.start()
    assert service._report is not None
    await asyncio.wait_for(service._report, 30)  # at start, the pair in one line
    [said] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pair ")]
    assert said.startswith("pair Geneva caucus cannot work as it should: the bot is not an "
                           "admin of the Telegram group")
    assert "cannot delete messages" in said and "redact messages" in said
    await chat.api.user_message(GROUP, chat.ana, "After the restart")
    await chat.alice.wait_for(lambda: "Ana: After the restart" in chat.texts(room))

    question = await chat.matrix_says(room, "!bridge unpair", "Stop bridging")
    assert question.endswith("To confirm, send: !bridge unpair confirm")
    await chat.matrix_says(room, "!bridge unpair confirm", "Unpaired.")
    await chat.api.wait_for(lambda: any(s.plain.startswith("Unpaired.")
                                        for s in chat.api.sent_to(GROUP)))
    await chat.api.user_message(GROUP, chat.ana, "Nobody on Matrix reads this")
    await chat.alice.say(room, "Nobody on Telegram reads this")
    await nothing_more(lambda: len(chat.texts(room)) + len(chat.api.sent_to(GROUP)))
    assert "Ana: Nobody on Matrix reads this" not in chat.texts(room)

    code = code_of(await chat.telegram_says(GROUP, chat.admin, "/bridge pair",
                                            "Pairing code: "))
    await chat.matrix_says(room, f"!bridge pair {code}", "Bridged with the Telegram group")
    await chat.api.user_message(GROUP, chat.ana, "Paired again")
    await chat.alice.wait_for(lambda: "Ana: Paired again" in chat.texts(room))


async def test_a_code_works_once_for_ten_minutes_and_only_for_admins(chat: Chat):
    await chat.start()
    bob = chat.synapse.accounts["bob"]  # type: ignore[attr-defined]
    room = await chat.matrix_room("Annex", invite=(bob.user_id,))
    member = Human(chat.synapse, chat.synapse.login(bob), chat.tmp / "bob")
    try:
        await member.client.join(room)
        await member.say(room, "!bridge pair")  # not an admin: the bot stays silent
        code = code_of(await chat.matrix_says(room, "!bridge pair", "Pairing code: "))
        assert [n.body for n in chat.notices(room)
                if n.body.startswith("Pairing code")] == [f"Pairing code: {code} (valid 10 "
                                                          f"minutes, once).\nIn the Telegram "
                                                          f"group to bridge with this one, an "
                                                          f"admin sends: /bridge pair {code}"]
    finally:
        await member.close()
    for group in (GROUP, OTHER_GROUP, THIRD_GROUP):
        await chat.api.bot_added(group, chat.admin, f"Group {group}")
    await chat.api.user_message(GROUP, chat.ana, f"/bridge pair {code}")  # a member: silence
    await chat.telegram_says(GROUP, chat.admin, f"/bridge pair {code}", "Bridged with")
    used = await chat.telegram_says(OTHER_GROUP, chat.admin, f"/bridge pair {code}", "That")
    assert used.startswith("That pairing code is not valid: mistyped, or used already")
    hello, bridged = [s.plain for s in chat.api.sent_to(GROUP)]  # nothing for the member
    assert hello.startswith("Caucus Bot is here") and bridged.startswith("Bridged with")

    late_room = await chat.matrix_room("Late")
    late = code_of(await chat.matrix_says(late_room, "!bridge pair", "Pairing code: "))
    chat.shift = timedelta(minutes=11)
    expired = await chat.telegram_says(THIRD_GROUP, chat.admin, f"/bridge pair {late}", "That")
    assert expired.startswith("That pairing code has expired: a code works for 10 minutes.")
    await chat.api.user_message(THIRD_GROUP, chat.ana, "still unpaired")
    await nothing_more(lambda: len(chat.texts(late_room)))
    assert chat.texts(late_room) == []


async def test_a_telegram_outage_longer_than_a_day_is_said_on_matrix(pair: Pair):
    service = pair.services[0]
    await pair.api.user_message(CAUCUS, pair.ana, "before")
    await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 1)
    await stop(service)
    away_since = datetime.now(UTC) - timedelta(hours=30)  # as if the bot stopped then
    with service.database.session() as db:
        inbound.set_resume(db, "telegram.contact_at", away_since.isoformat())
        db.commit()
    await pair.api.user_message(CAUCUS, pair.ana, "within the day")
    await pair.start()

    def gap_notices() -> list[str]:
        return [e.body for e in pair.on_matrix(RoomMessageNotice)
                if e.body.startswith("Messages sent on Telegram")]

    [notice] = await pair.alice.wait_for(gap_notices)
    local = away_since.astimezone(service.config.bot.tz)
    assert notice.startswith(f"Messages sent on Telegram between {local:%a %-d %b %Y, %H:%M} "
                             "and ")
    assert notice.endswith("could not be relayed: Telegram keeps a bot's messages for about a "
                           "day, and the bot was away longer. Read them in the Telegram group.")
    await pair.alice.wait_for(lambda: "Ana: within the day" in [e.body for e in
                                                               pair.on_matrix()])
    await stop(pair.services[-1])
    await pair.start()  # told once: a second start finds the contact fresh
    await nothing_more(lambda: len(gap_notices()))


async def test_a_matrix_gap_too_long_to_fetch_is_said_on_telegram(
        pair: Pair, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(bot.matrix, "SYNC_FILTER", {"room": {"timeline": {"limit": 5}}})
    monkeypatch.setattr(bot.matrix, "MISSED_PAGE", 5)
    monkeypatch.setattr(bot.matrix, "MISSED_PAGES", 1)
    await pair.alice.say(pair.room, "before the stop")
    await pair.api.wait_for(lambda: len(pair.on_telegram()) == 1)
    await stop(pair.services[0])
    for n in range(20):
        await pair.alice.client.room_send(pair.room, "m.room.message",
                                          {"msgtype": "m.text", "body": f"while down {n:02d}"})
    await pair.start()
    notice = await pair.api.wait_for(lambda: [s.plain for s in pair.on_telegram()
                                              if s.plain.startswith("Messages sent on Matrix")],
                                     seconds=30)
    assert notice[0].endswith("could not be relayed: more were sent while the bot was away "
                              "than it fetches at once. Read them in the Matrix room.")
    relayed = await pair.api.wait_for(lambda: [s.plain for s in pair.on_telegram()
                                               if "while down 19" in s.plain], seconds=30)
    assert relayed == ["alice: while down 19"]  # the newest still arrive
