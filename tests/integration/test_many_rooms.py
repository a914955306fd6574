"""Rooms are delivered in parallel: one pair under Telegram's flood control for 30 s never
holds up the others, and its own messages arrive afterwards, in order, none lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from nio import RoomMessageText

from bot.config import parse_config
from bot.deliveries import BotReply
from bot.outbox import Delivery
from bot.replies import Reply
from bot.service import Service
from storage.ids import RoomId
from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS, MEMBER, started
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration

CHATS = (-1001000000101, -1001000000102, -1001000000103)  # the first one is flood-limited
FLOOD_SECONDS = 30


class Pairs(Pair):
    """Three bridged pairs, each a Telegram group with its own Matrix room."""

    rooms: list[str]

    def config_data(self) -> dict:
        data = super().config_data()
        data["rooms"] = [{"name": f"Group {n}", "telegram_chat_id": chat,
                          "matrix_room_id": room}
                         for n, (chat, room) in enumerate(zip(CHATS, self.rooms, strict=True))]
        return data

    async def start(self) -> Service:
        self.rooms = [await self.alice.create_room(invite=[self.bot.user_id], name=f"Group {n}")
                      for n in range(len(CHATS))]
        service = Service(parse_config(self.config_data(), env={}), poll_timeout=1,
                          outbox_poll_seconds=0.2)
        await service.start()
        self.services.append(service)
        for room in self.rooms:
            await self.alice.wait_member(room, self.bot.user_id)
        return service

    def texts_on_matrix(self, room: str) -> list[str]:
        return [e.body for e in self.alice.from_user(room, self.bot.user_id)
                if isinstance(e, RoomMessageText)]

    def texts_on_telegram(self, chat: int) -> list[str]:
        return [s.plain for s in self.api.sent_to(chat)]


@pytest.fixture
async def pairs(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str
                ) -> AsyncIterator[Pairs]:
    async for running in started(Pairs(synapse, api, tmp_path, database_url)):
        yield running


async def test_a_room_under_flood_control_holds_up_no_other_and_loses_nothing(pairs: Pairs):
    api, alice = pairs.api, pairs.alice
    limited, *others = CHATS
    limited_room, *other_rooms = pairs.rooms
    api.flood_chat(limited, FLOOD_SECONDS)
    flood_ends = time.monotonic() + FLOOD_SECONDS
    await alice.say(limited_room, "limited 0")
    # Its first row is refused (429, retry after 30 s) before any other room has a row: a
    # worker that delivered rooms one after another would now sit out the whole wait.
    await api.wait_for(lambda: any(method == "sendMessage" and int(p["chat_id"]) == limited
                                   for method, p in api.calls), seconds=20)
    started = time.monotonic()
    for n in range(1, 5):
        await alice.say(limited_room, f"limited {n}")
    for n in range(5):
        for room in other_rooms:
            await alice.say(room, f"flowing {n}")
    await api.user_message(limited, api.user(MEMBER, "Ana"), "the other way flows too")

    expected = [f"alice: flowing {n}" for n in range(5)]
    await api.wait_for(lambda: all(pairs.texts_on_telegram(c) == expected for c in others),
                       seconds=15)
    await alice.wait_for(lambda: pairs.texts_on_matrix(limited_room), seconds=15)
    flowed_after = time.monotonic() - started
    assert time.monotonic() < flood_ends - 5, "the others waited for the limited room"
    assert pairs.texts_on_telegram(limited) == []  # refused so far, none given up
    assert pairs.texts_on_matrix(limited_room) == ["Ana: the other way flows too"]

    await api.wait_for(lambda: len(pairs.texts_on_telegram(limited)) >= 5,
                       seconds=FLOOD_SECONDS + 20)
    assert time.monotonic() >= flood_ends  # nothing went through the flood control
    assert pairs.texts_on_telegram(limited) == [f"alice: limited {n}" for n in range(5)]
    assert all(pairs.texts_on_telegram(c) == expected for c in others)
    assert flowed_after < 10, f"the other rooms took {flowed_after:.1f} s"


async def test_groups_slow_to_answer_leave_connections_for_the_others(
        api: BotApiDouble, start_bot: Callable[..., Awaitable[Service]]):
    """Twelve groups whose sends each take 5 s (large uploads, a slow link) are on the wire
    at once; a message to another group goes meanwhile, without a wait for a connection
    or a failed try: it is sent while all twelve are still on the wire (with a pool of
    8 connections it waited for one of them to end). No time limit of its own: one
    missed by 20 ms on a loaded machine."""
    service = await start_bot()
    telegram = next(a for a in service.adapters if a.platform == "telegram")
    slow = [-1001000000200 - n for n in range(12)]
    for chat in slow:
        api.slow_chat(chat, 5.0)
    held = [asyncio.create_task(telegram.send(Delivery(
        n, RoomId(f"telegram:{chat}"), f"{n}-x", BotReply(Reply.text("slow")))))
        for n, chat in enumerate(slow)]
    await api.wait_for(lambda: len([m for m, _ in api.calls if m == "sendMessage"]) >= 8)
    await telegram.send(Delivery(99, RoomId(f"telegram:{CAUCUS}"), "99-x",
                                 BotReply(Reply.text("quick"))))
    assert not any(task.done() for task in held)
    await asyncio.gather(*held)
    assert [s.plain for s in api.sent_to(CAUCUS)] == ["quick"]


async def test_flood_control_while_reading_the_rights_at_start_is_waited_out(
        api: BotApiDouble, start_bot: Callable[..., Awaitable[Service]]):
    """With hundreds of groups Telegram may refuse some of the start's questions for a
    while: the answer is waited for, not taken for "the bot is not in the group"."""
    api.fail("getChatMember", 429, "Too Many Requests: retry after 1", retry_after=1,
             chat_id=CAUCUS)
    service = await start_bot()
    setup = service.dispatcher.setup
    found = await api.wait_for(lambda: setup.get(f"telegram.member:{CAUCUS}"), seconds=10)
    assert found.problem is None and found.fine == "in the Telegram group"
    assert [int(p["chat_id"]) for m, p in api.calls if m == "getChatMember"].count(CAUCUS) == 2
