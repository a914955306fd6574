"""Relay latency and throughput on loopback, ours against a bare relay, in one run.

Both relays run against the same Synapse and the same Bot API double, with the
same client libraries (python-telegram-bot, matrix-nio). The bare relay is a
few lines with no storage and no outbox: the floor that Synapse's send and sync
and the HTTP round trips set. Latency is from the send on one side to the
receipt on the other, measured by one clock in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomMessageText, SyncResponse
from telegram import Bot

from bench.servers import servers
from bench.stats import summary_ms
from bot.config import parse_config
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.synapse_server import Account, Synapse

TOKEN = re.compile(r"#(\d+)")


class Receiver:
    """Alice's client: records when each numbered message from ``sender`` arrives."""

    def __init__(self, synapse: Synapse, alice: Account):
        self.client = AsyncClient(synapse.url, alice.user_id)
        self.client.restore_login(alice.user_id, alice.device_id, alice.access_token)
        self.arrived: dict[int, float] = {}
        self.watch: dict[str, str] = {}  # room -> the relay's user whose messages count
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        first = await self.client.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse)
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            response = await self.client.sync(timeout=30_000, since=self.client.next_batch)
            now = time.perf_counter()
            if not isinstance(response, SyncResponse):
                await asyncio.sleep(0.1)
                continue
            for room_id, joined in response.rooms.join.items():
                for event in joined.timeline.events:
                    if isinstance(event, RoomMessageText) and \
                            event.sender == self.watch.get(room_id):
                        match = TOKEN.search(event.body)
                        if match:
                            self.arrived.setdefault(int(match.group(1)), now)
            self.changed.set()

    async def wait(self, token: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while token not in self.arrived:
            self.changed.clear()
            if time.monotonic() > deadline:
                raise TimeoutError(f"message #{token} did not arrive")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


async def telegram_arrival(api: BotApiDouble, chat: int, token: int, seconds: float = 30) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for sent in api.sent_to(chat):
            if f"#{token}" in sent.text:
                return sent.at
        await asyncio.sleep(0.001)
    raise TimeoutError(f"message #{token} did not reach Telegram")


@dataclass
class Side:
    """One relay under test: where its Telegram chat and Matrix room are."""

    label: str
    api: BotApiDouble
    chat: int
    room: str
    t_to_m: list[float] = field(default_factory=list)
    m_to_t: list[float] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)


class Tokens:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


async def paced(side: Side, receiver: Receiver, alice: AsyncClient, tokens: Tokens,
                n: int) -> None:
    user = side.api.user(4242, "Ana")
    for _ in range(n):
        token = tokens.next()
        t0 = time.perf_counter()
        await side.api.user_message(side.chat, user, f"paced #{token}")
        await receiver.wait(token)
        side.t_to_m.append(receiver.arrived[token] - t0)
    for _ in range(n):
        token = tokens.next()
        t0 = time.perf_counter()
        await alice.room_send(side.room, "m.room.message", {"msgtype": "m.text",
                                                            "body": f"paced #{token}"})
        side.m_to_t.append(await telegram_arrival(side.api, side.chat, token) - t0)


async def burst(side: Side, receiver: Receiver, alice: AsyncClient, tokens: Tokens,
                n: int) -> None:
    user = side.api.user(4242, "Ana")
    start, first = time.perf_counter(), tokens.n + 1
    for _ in range(n):
        await side.api.user_message(side.chat, user, f"burst #{tokens.next()}")
    await receiver.wait(tokens.n, seconds=300)
    last = max(receiver.arrived[t] for t in range(first, tokens.n + 1))
    side.rates["throughput_t_to_m_per_s"] = round(n / (last - start), 1)
    start = time.perf_counter()
    for _ in range(n):
        await alice.room_send(side.room, "m.room.message", {
            "msgtype": "m.text", "body": f"burst #{tokens.next()}"})
    arrived = await telegram_arrival(side.api, side.chat, tokens.n, seconds=300)
    side.rates["throughput_m_to_t_per_s"] = round(n / (arrived - start), 1)


def report(side: Side) -> dict[str, Any]:
    return {"label": side.label, "telegram_to_matrix": summary_ms(side.t_to_m),
            "matrix_to_telegram": summary_ms(side.m_to_t), **side.rates}


async def bare_relay(api: BotApiDouble, synapse: Synapse, bot: Account, room: str,
                     chat: int) -> Callable[[], Awaitable[None]]:
    """The floor: getUpdates -> room_send and sync -> sendMessage, nothing else."""
    tg = Bot(api.token, base_url=api.base_url)
    await tg.initialize()
    mx = AsyncClient(synapse.url, bot.user_id)
    mx.restore_login(bot.user_id, bot.device_id, bot.access_token)
    await mx.join(room)
    first = await mx.sync(timeout=0, full_state=True)
    assert isinstance(first, SyncResponse)

    async def telegram_to_matrix() -> None:
        offset = 0
        while True:
            for update in await tg.get_updates(offset=offset, timeout=10):
                offset = update.update_id + 1
                if update.message and update.message.chat.id == chat and update.message.text:
                    name = update.message.from_user.full_name if update.message.from_user \
                        else "?"
                    await mx.room_send(room, "m.room.message", {
                        "msgtype": "m.text", "body": f"{name}: {update.message.text}"})

    async def matrix_to_telegram() -> None:
        while True:
            response = await mx.sync(timeout=30_000, since=mx.next_batch)
            if not isinstance(response, SyncResponse):
                continue
            joined = response.rooms.join.get(room)
            for event in joined.timeline.events if joined else []:
                if isinstance(event, RoomMessageText) and event.sender != bot.user_id:
                    await tg.send_message(chat, f"{event.sender}: {event.body}")

    tasks = [asyncio.create_task(telegram_to_matrix()), asyncio.create_task(matrix_to_telegram())]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await tg.shutdown()
        await mx.close()

    return stop


def run(folder: Path, *, messages: int = 1000) -> dict[str, Any]:
    return asyncio.run(_run(folder, messages))


async def _run(folder: Path, n: int) -> dict[str, Any]:
    """Both relays run at once, each with its own chat, room and Bot API double; the
    measurements alternate between them in blocks, so that a warmer homeserver or a
    noisy neighbour favours neither."""
    async with servers(folder / "relay") as (synapse, api):
        bare_api = BotApiDouble()
        await bare_api.start()
        bot, bare = synapse.register("caucusbot"), synapse.register("barebot")
        receiver = Receiver(synapse, synapse.register("alice"))
        await receiver.start()
        alice = receiver.client
        ours_room = (await alice.room_create(name="ours", invite=[bot.user_id])).room_id
        bare_room = (await alice.room_create(name="bare", invite=[bare.user_id])).room_id
        config = parse_config({
            "bot": {"database_url": f"sqlite:///{folder / 'bot.db'}"},
            "telegram": {"token": api.token, "base_url": api.base_url,
                         "base_file_url": api.base_file_url},
            "matrix": {"homeserver": synapse.url, "user_id": bot.user_id,
                       "access_token": bot.access_token, "device_id": bot.device_id,
                       "store_path": str(folder / "store")},
            "rooms": [{"name": "Pair", "telegram_chat_id": -100111,
                       "matrix_room_id": ours_room}]}, env={})
        service = Service(config, poll_timeout=10, outbox_poll_seconds=1)
        await service.start()
        stop_bare = await bare_relay(bare_api, synapse, bare, bare_room, -100222)
        await _wait_joined(alice, ours_room, bot.user_id)
        await _wait_joined(alice, bare_room, bare.user_id)
        receiver.watch = {ours_room: bot.user_id, bare_room: bare.user_id}
        ours = Side("ours", api, -100111, ours_room)
        floor = Side("bare", bare_api, -100222, bare_room)
        tokens = Tokens()
        block = max(1, min(50, n))
        for k in range(0, n, block):
            order = (ours, floor) if (k // block) % 2 == 0 else (floor, ours)
            for side in order:
                await paced(side, receiver, alice, tokens, min(block, n - k))
        for side in (ours, floor):
            await burst(side, receiver, alice, tokens, n)
        service.stopped.set()
        await service.stop()
        await stop_bare()
        await receiver.stop()
        await bare_api.stop()
    mine, base = report(ours), report(floor)
    ratios = {f"{d}_{p}": round(mine[d][p] / base[d][p], 2)
              for d in ("telegram_to_matrix", "matrix_to_telegram")
              for p in ("p50_ms", "p95_ms", "p99_ms")}
    return {"messages_per_direction": n, "ours": mine, "bare": base, "ratios": ratios}


async def _wait_joined(client: AsyncClient, room: str, user: str) -> None:
    for _ in range(100):
        members = await client.joined_members(room)
        if any(m.user_id == user for m in getattr(members, "members", [])):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{user} did not join {room}")
