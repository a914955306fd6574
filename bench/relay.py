"""Relay latency, throughput and CPU on loopback, ours against a bare relay, in one run;
ours twice, on SQLite and on PostgreSQL.

Each relay runs as its own process, as in production: ours is ``caucus-bot run``,
the floor is ``bench.bare_relay`` (the same client libraries and the same output,
with no storage and no outbox). This process plays the people: it posts on the Bot
API double and in Synapse, and times, on its one clock, the send on one side and
the receipt on the other. Both relays run at once, each with its own chat and room,
and are measured in alternating blocks of ten messages, so that neither gets the warmer
homeserver or the quieter minute (with blocks of fifty, the T->M ratio of 300-message
runs ranged from 0.96 to 1.12; with ten, from 1.07 to 1.12).

Synapse is a server of its own, and on a small machine the slowest part: its ceiling
(events it persists a second in one room, and its CPU per event) is measured here
too, because no relay can write to Matrix faster than it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomMessageText, SyncResponse

from bench.servers import (
    READY,
    cpu_seconds,
    servers,
    spawn,
    spawn_bot,
    stop_processes,
    wait_for_line,
    wait_joined,
    write_config,
)
from bench.stats import summary_ms
from tests.botapi_double import BotApiDouble
from tests.synapse_server import Account, Synapse

TOKEN = re.compile(r"#(\d+)")
OURS_CHAT, BARE_CHAT, PG_CHAT = -100111, -100222, -100333
SENDERS = 8  # requests Alice keeps in flight when she floods a room
BLOCK = 10  # messages a relay is timed for before the other's turn


class Receiver:
    """Alice's client: records when each numbered message from a relay arrives."""

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
                    self.note(room_id, event, now)
            self.changed.set()

    def note(self, room_id: str, event: Any, now: float) -> None:
        """One event of a sync, arrived at ``now``."""
        if isinstance(event, RoomMessageText) and event.sender == self.watch.get(room_id):
            match = TOKEN.search(event.body)
            if match:
                self.arrived.setdefault(int(match.group(1)), now)

    async def wait(self, tokens: Iterable[int], seconds: float = 30) -> None:
        wanted = set(tokens)
        deadline = time.monotonic() + seconds
        while not wanted <= self.arrived.keys():
            self.changed.clear()
            if time.monotonic() > deadline:
                missing = sorted(wanted - self.arrived.keys())
                raise TimeoutError(f"{len(missing)} messages did not reach Matrix, "
                                   f"first #{missing[0]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()


class TelegramWatch:
    """When each numbered message reached a chat of the Bot API double (its own stamp)."""

    def __init__(self, api: BotApiDouble, chat: int):
        self.api, self.chat = api, chat
        self.arrived: dict[int, float] = {}
        self._read = 0

    def _scan(self) -> None:
        for sent in self.api.sent[self._read:]:
            match = TOKEN.search(sent.text) if sent.chat_id == self.chat else None
            if match:
                self.arrived.setdefault(int(match.group(1)), sent.at)
        self._read = len(self.api.sent)

    async def wait(self, tokens: Iterable[int], seconds: float = 30) -> None:
        wanted = set(tokens)

        def done() -> bool:
            self._scan()
            return wanted <= self.arrived.keys()
        try:
            await self.api.wait_for(done, seconds)
        except AssertionError:
            raise TimeoutError(f"{len(wanted - self.arrived.keys())} messages did not reach "
                               "Telegram") from None


@dataclass
class Side:
    """One relay under test: its process, its Telegram chat and its Matrix room."""

    label: str
    api: BotApiDouble
    chat: int
    room: str
    process: subprocess.Popen[bytes]
    telegram: TelegramWatch
    t_to_m: list[float] = field(default_factory=list)
    m_to_t: list[float] = field(default_factory=list)
    cpu: float = 0.0  # seconds of the relay's CPU in its paced blocks
    relayed: int = 0
    rates: dict[str, float] = field(default_factory=dict)


class Tokens:
    def __init__(self) -> None:
        self.n = 0

    def take(self, count: int) -> list[int]:
        self.n += count
        return list(range(self.n - count + 1, self.n + 1))


def body(kind: str, token: int) -> dict[str, str]:
    return {"msgtype": "m.text", "body": f"{kind} #{token}"}


async def flood(alice: AsyncClient, room: str, kind: str, tokens: list[int]) -> None:
    """Alice posts every token, ``SENDERS`` requests in flight (Synapse orders them)."""
    queue = list(tokens)

    async def sender() -> None:
        while queue:
            token = queue.pop(0)
            sent = await alice.room_send(room, "m.room.message", body(kind, token))
            assert hasattr(sent, "event_id"), sent
    await asyncio.gather(*(sender() for _ in range(SENDERS)))


async def paced(side: Side, receiver: Receiver, alice: AsyncClient, tokens: Tokens, n: int,
                *, record: bool = True) -> None:
    """One message at a time each way: latency with nothing else in flight."""
    user = side.api.user(4242, "Ana")
    cpu = cpu_seconds(side.process.pid)
    for token in tokens.take(n):
        t0 = time.perf_counter()
        await side.api.user_message(side.chat, user, f"paced #{token}")
        await receiver.wait([token])
        if record:
            side.t_to_m.append(receiver.arrived[token] - t0)
    for token in tokens.take(n):
        t0 = time.perf_counter()
        await alice.room_send(side.room, "m.room.message", body("paced", token))
        await side.telegram.wait([token])
        if record:
            side.m_to_t.append(side.telegram.arrived[token] - t0)
    if record:
        side.cpu += cpu_seconds(side.process.pid) - cpu
        side.relayed += 2 * n


async def bursts(side: Side, receiver: Receiver, alice: AsyncClient, tokens: Tokens,
                 n: int) -> None:
    """Everything at once, each way: messages a second from the first sent to the last in."""
    user = side.api.user(4242, "Ana")
    batch, start = tokens.take(n), time.perf_counter()
    for token in batch:
        await side.api.user_message(side.chat, user, f"burst #{token}")
    await receiver.wait(batch, seconds=300)
    last = max(receiver.arrived[t] for t in batch)
    side.rates["throughput_t_to_m_per_s"] = round(n / (last - start), 1)
    batch, start = tokens.take(n), time.perf_counter()
    await flood(alice, side.room, "burst", batch)
    await side.telegram.wait(batch, seconds=300)
    last = max(side.telegram.arrived[t] for t in batch)
    side.rates["throughput_m_to_t_per_s"] = round(n / (last - start), 1)


async def drain(side: Side, alice: AsyncClient, tokens: Tokens, n: int) -> None:
    """The relay's own pace: it is paused while ``n`` messages pile up in its room, then
    resumed; messages a second from the resume to the last one on Telegram. (Only ours:
    the bare relay does not fetch what a sync leaves out, so it would drop the backlog.)"""
    batch = tokens.take(n)
    os.kill(side.process.pid, signal.SIGSTOP)
    try:
        await flood(alice, side.room, "backlog", batch)
    finally:
        start = time.perf_counter()
        os.kill(side.process.pid, signal.SIGCONT)
    await side.telegram.wait(batch, seconds=300)
    last = max(side.telegram.arrived[t] for t in batch)
    side.rates["drain_m_to_t_per_s"] = round(n / (last - start), 1)


async def synapse_ceiling(synapse: Synapse, alice: AsyncClient, n: int = 100
                          ) -> dict[str, float]:
    """What Synapse alone allows: sends to one room, one by one and ``SENDERS`` at once."""
    assert synapse.process is not None
    room = (await alice.room_create(name="ceiling")).room_id
    tokens = Tokens()
    await flood(alice, room, "warm", tokens.take(20))
    cpu, start = cpu_seconds(synapse.process.pid), time.perf_counter()
    for token in tokens.take(n):
        await alice.room_send(room, "m.room.message", body("one", token))
    one_by_one = n / (time.perf_counter() - start)
    cpu_per_event = (cpu_seconds(synapse.process.pid) - cpu) / n
    start = time.perf_counter()
    await flood(alice, room, "many", tokens.take(n))
    at_once = n / (time.perf_counter() - start)
    return {"one_room_per_s": round(one_by_one, 1), "one_room_concurrent_per_s":
            round(at_once, 1), "cpu_ms_per_event": round(cpu_per_event * 1000, 1)}


def report(side: Side) -> dict[str, Any]:
    return {"label": side.label, "telegram_to_matrix": summary_ms(side.t_to_m),
            "matrix_to_telegram": summary_ms(side.m_to_t),
            "cpu_ms_per_message": round(side.cpu / side.relayed * 1000, 2), **side.rates}


def run(folder: Path, *, messages: int = 1000, postgres_url: str | None = None
        ) -> dict[str, Any]:
    return asyncio.run(_run(folder, messages, postgres_url))


async def _run(folder: Path, n: int, postgres_url: str | None) -> dict[str, Any]:
    async with servers(folder / "relay") as (synapse, api):
        bare_api, pg_api = BotApiDouble(), BotApiDouble()
        await bare_api.start()
        await pg_api.start()
        bot, bare = synapse.register("caucusbot"), synapse.register("barebot")
        pg_bot = synapse.register("pgbot")
        receiver = Receiver(synapse, synapse.register("alice"))
        await receiver.start()
        alice = receiver.client
        ceiling = await synapse_ceiling(synapse, alice)
        ours_room = (await alice.room_create(name="ours", invite=[bot.user_id])).room_id
        bare_room = (await alice.room_create(name="bare", invite=[bare.user_id])).room_id
        config = write_config(folder, synapse, bot, api, [
            {"name": "Pair", "telegram_chat_id": OURS_CHAT, "matrix_room_id": ours_room}])
        processes = [spawn_bot(config, folder / "ours.log"), spawn(
            ["bench.bare_relay", json.dumps({
                "token": bare_api.token, "base_url": bare_api.base_url, "chat": BARE_CHAT,
                "homeserver": synapse.url, "user_id": bare.user_id, "room": bare_room,
                "access_token": bare.access_token, "device_id": bare.device_id})],
            folder / "bare.log", cwd=folder)]
        pg_room = ""
        if postgres_url is not None:
            pg_room = (await alice.room_create(name="pg", invite=[pg_bot.user_id])).room_id
            pg_config = write_config(folder, synapse, pg_bot, pg_api, [
                {"name": "Pair", "telegram_chat_id": PG_CHAT, "matrix_room_id": pg_room}],
                database=postgres_url, name="postgresql.toml")
            processes.append(spawn_bot(pg_config, folder / "ours-postgresql.log"))
        try:
            await wait_for_line(folder / "ours.log", READY, processes[0])
            await wait_for_line(folder / "bare.log", "ready", processes[1])
            await wait_joined(alice, ours_room, bot.user_id)
            await wait_joined(alice, bare_room, bare.user_id)
            receiver.watch = {ours_room: bot.user_id, bare_room: bare.user_id}
            ours = Side("ours", api, OURS_CHAT, ours_room, processes[0],
                        TelegramWatch(api, OURS_CHAT))
            floor = Side("bare", bare_api, BARE_CHAT, bare_room, processes[1],
                         TelegramWatch(bare_api, BARE_CHAT))
            sides = [ours, floor]
            if postgres_url is not None:
                await wait_for_line(folder / "ours-postgresql.log", READY, processes[2])
                await wait_joined(alice, pg_room, pg_bot.user_id)
                receiver.watch[pg_room] = pg_bot.user_id
                sides.append(Side("ours on PostgreSQL", pg_api, PG_CHAT, pg_room, processes[2],
                                  TelegramWatch(pg_api, PG_CHAT)))
            tokens = Tokens()
            for side in sides:  # first connections and caches, not measured
                await paced(side, receiver, alice, tokens, 10, record=False)
            block = max(1, min(BLOCK, n))
            for k in range(0, n, block):
                turn = (k // block) % len(sides)  # each takes the first turn as often
                for side in sides[turn:] + sides[:turn]:
                    await paced(side, receiver, alice, tokens, min(block, n - k))
            for side in sides:
                await bursts(side, receiver, alice, tokens, n)
            for side in sides:
                if side is not floor:
                    await drain(side, alice, tokens, n)
        finally:
            stop_processes(processes)
            await receiver.stop()
            await bare_api.stop()
            await pg_api.stop()
    base = report(floor)
    out: dict[str, Any] = {"messages_per_direction": n, "synapse": ceiling, "bare": base}
    for key, side in (("ours", ours), ("ours_postgresql", sides[2] if len(sides) > 2 else None)):
        if side is None:
            continue
        mine = report(side)
        ratios = {f"{d}_{p}": round(mine[d][p] / base[d][p], 2)
                  for d in ("telegram_to_matrix", "matrix_to_telegram")
                  for p in ("p50_ms", "p95_ms", "p99_ms")}
        ratios["cpu_per_message"] = round(mine["cpu_ms_per_message"]
                                          / base["cpu_ms_per_message"], 2)
        out[key], out[f"ratios{key[4:]}"] = mine, ratios
    return out
