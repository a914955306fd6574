"""Rooms are delivered in parallel: one pair under Telegram's flood control for 30 s never
holds up the others, and its own messages arrive afterwards, in order, none lost."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import RoomMessageText

from bot.config import parse_config
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import MEMBER, stop
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
async def pairs(synapse: Synapse, api: BotApiDouble, tmp_path: Path) -> AsyncIterator[Pairs]:
    p = Pairs(synapse, api, tmp_path)
    await p.start()
    yield p
    for service in p.services:
        if not service.stopped.is_set():
            await stop(service)
    await p.alice.close()


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
