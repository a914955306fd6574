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
        self.sender = ""
        self.room = ""
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
            joined = response.rooms.join.get(self.room)
            for event in joined.timeline.events if joined else []:
                if isinstance(event, RoomMessageText) and event.sender == self.sender:
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


async def measure(label: str, api: BotApiDouble, receiver: Receiver, alice: AsyncClient,
                  room: str, chat: int, n: int, first: int) -> dict[str, Any]:
    """Paced latency (one at a time) and burst throughput, both directions."""
    user = api.user(4242, "Ana")
    t_to_m, m_to_t = [], []
    token = first
    for _ in range(n):
        token += 1
        t0 = time.perf_counter()
        await api.user_message(chat, user, f"paced #{token}")
        await receiver.wait(token)
        t_to_m.append(receiver.arrived[token] - t0)
    for _ in range(n):
        token += 1
        t0 = time.perf_counter()
        await alice.room_send(room, "m.room.message", {"msgtype": "m.text",
                                                       "body": f"paced #{token}"})
        m_to_t.append(await telegram_arrival(api, chat, token) - t0)
    start, burst_first = time.perf_counter(), token + 1
    for _ in range(n):
        token += 1
        await api.user_message(chat, user, f"burst #{token}")
    await receiver.wait(token, seconds=300)
    tm_rate = n / (max(receiver.arrived[t] for t in range(burst_first, token + 1)) - start)
    start, burst_first = time.perf_counter(), token + 1
    for _ in range(n):
        token += 1
        await alice.room_send(room, "m.room.message", {"msgtype": "m.text",
                                                       "body": f"burst #{token}"})
    last = await telegram_arrival(api, chat, token, seconds=300)
    mt_rate = n / (last - start)
    return {"label": label, "telegram_to_matrix": summary_ms(t_to_m),
            "matrix_to_telegram": summary_ms(m_to_t),
            "throughput_t_to_m_per_s": round(tm_rate, 1),
            "throughput_m_to_t_per_s": round(mt_rate, 1), "last_token": token}


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
    async with servers(folder / "relay") as (synapse, api):
        bot = synapse.register("caucusbot")
        bare = synapse.register("barebot")
        alice = synapse.register("alice")
        receiver = Receiver(synapse, alice)
        await receiver.start()
        results = []
        # Ours: the full bot, storage and outbox included.
        room = (await receiver.client.room_create(name="ours", invite=[bot.user_id])).room_id
        config = parse_config({
            "bot": {"database_url": f"sqlite:///{folder / 'bot.db'}"},
            "telegram": {"token": api.token, "base_url": api.base_url,
                         "base_file_url": api.base_file_url},
            "matrix": {"homeserver": synapse.url, "user_id": bot.user_id,
                       "access_token": bot.access_token, "device_id": bot.device_id,
                       "store_path": str(folder / "store")},
            "rooms": [{"name": "Pair", "telegram_chat_id": -100111, "matrix_room_id": room}]},
            env={})
        service = Service(config, poll_timeout=10, outbox_poll_seconds=1)
        await service.start()
        await _wait_joined(receiver.client, room, bot.user_id)
        receiver.room, receiver.sender = room, bot.user_id
        results.append(await measure("ours", api, receiver, receiver.client, room, -100111, n,
                                     0))
        service.stopped.set()
        await service.stop()
        # The bare relay, same servers, a room and chat of its own.
        room = (await receiver.client.room_create(name="bare", invite=[bare.user_id])).room_id
        stop = await bare_relay(api, synapse, bare, room, -100222)
        receiver.room, receiver.sender = room, bare.user_id
        results.append(await measure("bare", api, receiver, receiver.client, room, -100222, n,
                                     results[0]["last_token"]))
        await stop()
        await receiver.stop()
    ours, floor = results
    ratios = {f"{d}_{p}": round(ours[d][p] / floor[d][p], 2)
              for d in ("telegram_to_matrix", "matrix_to_telegram")
              for p in ("p50_ms", "p95_ms", "p99_ms")}
    return {"messages_per_direction": n, "ours": ours, "bare": floor, "ratios": ratios}


async def _wait_joined(client: AsyncClient, room: str, user: str) -> None:
    for _ in range(100):
        members = await client.joined_members(room)
        if any(m.user_id == user for m in getattr(members, "members", [])):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{user} did not join {room}")
