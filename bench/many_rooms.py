"""Many rooms: 500 bridged pairs in the config, 50 of them active at once.

The real bot (``caucus-bot run``) against Synapse and the Bot API double, with 500
pairs, each a group of the double and a Matrix room Alice made and the bot joined
(made 8 at a time before the bot starts; the setup's seconds are in the result).
Measured in one run:

- start to ready on an empty database (the bot's first sync reads all 500 rooms) and on
  a restart, the idle RSS after each (5 s after it relayed its first messages), from the
  restart to a message relayed each way, and beside them the seconds a process takes to
  import the libraries alone (the floor on this machine at that moment);
- latency under one load in one room, then the same load spread over 50 rooms, in
  alternating blocks: messages at random moments (Poisson), ``RATE`` a second, half
  each way. The 50 rooms' p95 over the one room's is the ratio; per-room order and
  nothing lost are checked on every message;
- one pair's Telegram group under flood control (429 with ``retry_after``) for 30 s
  while the spread load goes on: the other rooms' p95 meanwhile, and the limited
  room's messages arriving after the 30 s, in order, none lost. (Synapse's rate limits
  are per user, not per room, so the Matrix side cannot be limited for one room alone.)
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomCreateResponse, RoomMessageText, SyncResponse

from bench.relay import TOKEN, Receiver, body
from bench.servers import (
    READY,
    cpu_seconds,
    rss_mb,
    servers,
    spawn_bot,
    wait_for_line,
    write_config,
)
from bench.stats import summary_ms
from tests.botapi_double import BotApiDouble
from tests.synapse_server import Account, Synapse

PAIRS, ACTIVE = 500, 50
FIRST_CHAT = -1002000000000
RATE = 4.0  # messages a second, both ways together (10 saturates Synapse on 2 shared cores)
BLOCK_SECONDS, BLOCKS = 10.0, 4  # of each load: one room, then 50, and again
FLOOD_SECONDS = 30
IN_FLIGHT = 8  # Synapse requests at once while setting up
LIBRARIES = ("import nio, telegram, sqlalchemy.orm, sqlmodel, alembic, aiohttp.web, httpx, "
             "apscheduler.schedulers.asyncio, prometheus_client")
# Alice's sync: a large page (no event left out) and members read lazily (500 rooms).
ALICE_FILTER = {"room": {"timeline": {"limit": 200}, "state": {"lazy_load_members": True}}}


class Arrivals(dict[int, float]):
    """When each token arrived, and in which order in each room or chat."""

    def __init__(self) -> None:
        super().__init__()
        self.order: dict[Any, list[int]] = {}

    def add(self, where: Any, token: int, now: float) -> None:
        if token not in self:
            self[token] = now
            self.order.setdefault(where, []).append(token)


class MatrixSide(Receiver):
    """Alice: she made the rooms, posts in them, and sees what the bot posts there."""

    def __init__(self, synapse: Synapse, alice: Account, bot_user: str):
        super().__init__(synapse, alice)
        self.bot_user = bot_user
        self.arrived: Arrivals = Arrivals()
        self.limited_rooms: set[str] = set()  # rooms whose sync page left events out
        self._room_locks: dict[str, asyncio.Lock] = {}

    async def start(self) -> None:
        first = await self.client.sync(timeout=0, full_state=True, sync_filter=ALICE_FILTER)
        assert isinstance(first, SyncResponse), first
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            response = await self.client.sync(timeout=30_000, since=self.client.next_batch,
                                              sync_filter=ALICE_FILTER)
            now = time.perf_counter()
            if not isinstance(response, SyncResponse):
                await asyncio.sleep(0.1)
                continue
            for room_id, joined in response.rooms.join.items():
                if joined.timeline.limited:
                    self.limited_rooms.add(room_id)
                for event in joined.timeline.events:
                    match = TOKEN.search(getattr(event, "body", "")) \
                        if isinstance(event, RoomMessageText) else None
                    if match and event.sender == self.bot_user:
                        self.arrived.add(room_id, int(match.group(1)), now)
            self.changed.set()

    async def say(self, room: str, token: int) -> float:
        """Post ``token`` in ``room`` (one request at a time a room: Synapse orders them as
        sent); returns when the request went out."""
        async with self._room_locks.setdefault(room, asyncio.Lock()):
            t0 = time.perf_counter()
            sent = await self.client.room_send(room, "m.room.message", body("load", token))
            assert hasattr(sent, "event_id"), sent
            return t0


def telegram_arrivals(api: BotApiDouble, arrived: Arrivals, read: int) -> int:
    """Scan what the bot sent to the double since ``read``; returns the new position."""
    for sent in api.sent[read:]:
        match = TOKEN.search(sent.text)
        if match:
            arrived.add(sent.chat_id, int(match.group(1)), sent.at)
    return len(api.sent)


@dataclass
class Load:
    """Messages sent in one measured load: by token, where and which way, and when."""

    sent_at: dict[int, float] = field(default_factory=dict)
    where: dict[int, tuple[str, Any]] = field(default_factory=dict)  # ("t2m"|"m2t", room)
    order: dict[Any, list[int]] = field(default_factory=dict)  # as sent, a room or chat
    cpu: dict[str, float] = field(default_factory=lambda: {"bot": 0.0, "synapse": 0.0})

    def latencies(self, matrix: Arrivals, telegram: Arrivals,
                  tokens: Iterable[int] | None = None) -> list[float]:
        out = []
        for token in tokens if tokens is not None else self.sent_at:
            way = self.where[token][0]
            arrived = (matrix if way == "t2m" else telegram)[token]
            out.append(arrived - self.sent_at[token])
        return out


class Bench:
    def __init__(self, api: BotApiDouble, alice: MatrixSide, rooms: list[str],
                 chats: list[int], synapse: Synapse):
        self.api, self.alice, self.rooms, self.chats = api, alice, rooms, chats
        self.pids = {"synapse": synapse.process.pid if synapse.process else 0, "bot": 0}
        self.telegram = Arrivals()
        self._read = 0
        self._token = 0
        self.ana = api.user(4242, "Ana")
        self.random = random.Random(19)

    def next_token(self) -> int:
        self._token += 1
        return self._token

    async def send(self, load: Load, pair: int, way: str) -> int:
        token = self.next_token()
        if way == "t2m":
            chat = self.chats[pair]
            load.order.setdefault(self.rooms[pair], []).append(token)
            load.where[token] = (way, self.rooms[pair])
            load.sent_at[token] = time.perf_counter()
            await self.api.user_message(chat, self.ana, f"load #{token}")
        else:
            load.order.setdefault(self.chats[pair], []).append(token)
            load.where[token] = (way, self.chats[pair])
            load.sent_at[token] = await self.alice.say(self.rooms[pair], token)
        return token

    async def run_load(self, pairs: list[int], seconds: float, load: Load | None = None
                       ) -> Load:
        """Messages at random moments for ``seconds``, ``RATE`` a second, each to a random
        pair of ``pairs`` and a random way; waits until all have arrived."""
        load = load or Load()
        cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        tasks, started = [], time.perf_counter()
        at = self.random.expovariate(RATE)
        while at < seconds:
            delay = started + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(
                load, self.random.choice(pairs), self.random.choice(("t2m", "m2t")))))
            at += self.random.expovariate(RATE)
        tokens = await asyncio.gather(*tasks)
        await self.wait_all(tokens, load)
        for name, pid in self.pids.items():
            load.cpu[name] += cpu_seconds(pid) - cpu[name]
        return load

    async def wait_all(self, tokens: Iterable[int], load: Load, seconds: float = 120) -> None:
        tokens = list(tokens)
        to_matrix = [t for t in tokens if load.where[t][0] == "t2m"]
        to_telegram = {t for t in tokens if load.where[t][0] == "m2t"}

        def on_telegram() -> bool:
            self._read = telegram_arrivals(self.api, self.telegram, self._read)
            return to_telegram <= self.telegram.keys()
        await self.alice.wait(to_matrix, seconds)
        try:
            await self.api.wait_for(on_telegram, seconds)
        except AssertionError:
            raise TimeoutError(f"{len(to_telegram - self.telegram.keys())} messages did "
                               "not reach Telegram") from None

    def check_order(self, load: Load) -> int:
        """Rooms whose messages arrived out of the order they were sent in (0 expected)."""
        bad = 0
        for where, sent in load.order.items():
            arrivals = self.alice.arrived if isinstance(where, str) else self.telegram
            mine = set(sent)
            arrived = [t for t in arrivals.order.get(where, []) if t in mine]
            bad += arrived != sent
        return bad


async def make_rooms(synapse: Synapse, alice: AsyncClient, bot: Account, n: int) -> list[str]:
    """``n`` rooms made by Alice with the bot invited, and joined by the bot."""
    bot_client = AsyncClient(synapse.url, bot.user_id)
    bot_client.restore_login(bot.user_id, bot.device_id, bot.access_token)
    rooms: list[str] = [""] * n
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def make(k: int) -> None:
        async with gate:
            made = await alice.room_create(name=f"Working group {k}", invite=[bot.user_id])
            assert isinstance(made, RoomCreateResponse), made
            joined = await bot_client.join(made.room_id)
            assert hasattr(joined, "room_id"), joined
            rooms[k] = made.room_id
    try:
        await asyncio.gather(*(make(k) for k in range(n)))
    finally:
        await bot_client.close()
    return rooms


def run(folder: Path, *, pairs: int = PAIRS) -> dict[str, Any]:
    return asyncio.run(_run(folder, pairs))


async def _start(config: Path, log: Path) -> tuple[Any, float]:
    process = spawn_bot(config, log)
    return process, await wait_for_line(log, READY, process, seconds=180)


async def _run(folder: Path, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"pairs": n, "active": min(ACTIVE, n), "rate_per_s": RATE}
    async with servers(folder / "many-rooms") as (synapse, api):
        bot = synapse.register("caucusbot")
        alice = MatrixSide(synapse, synapse.register("alice"), bot.user_id)
        started = time.perf_counter()
        rooms = await make_rooms(synapse, alice.client, bot, n)
        out["setup_s"] = round(time.perf_counter() - started, 1)
        await alice.start()
        chats = [FIRST_CHAT - k for k in range(n)]
        for k, chat in enumerate(chats):
            api.chat(chat, f"Working group {k}")
        config = write_config(folder, synapse, bot, api, [
            {"name": f"Working group {k}", "telegram_chat_id": chats[k],
             "matrix_room_id": rooms[k]} for k in range(n)], name="many-rooms.toml")
        bench = Bench(api, alice, rooms, chats, synapse)
        out["libraries_import_s"] = [await libraries_import()]
        process, ready = await _start(config, folder / "many-rooms-0.log")
        bench.pids["bot"] = process.pid
        try:
            # First connections and caches, not measured; then its memory, idle, once it
            # serves both networks (its first sync of 500 rooms may end after "ready").
            await bench.run_load([0], 3)
            await asyncio.sleep(5)
            out["first_start"] = {"start_to_ready_s": round(ready, 2),
                                  "idle_rss_mb": round(rss_mb(process.pid), 1)}
            active = list(range(min(ACTIVE, n)))
            one, spread = Load(), Load()
            for _ in range(BLOCKS):
                await bench.run_load([0], BLOCK_SECONDS, one)
                await bench.run_load(active, BLOCK_SECONDS, spread)
            out["one_room"] = _summary(bench, one)
            out["spread"] = _summary(bench, spread)
            out["p95_ratio"] = round(out["spread"]["all"]["p95_ms"]
                                     / out["one_room"]["all"]["p95_ms"], 2)
            out["flood"] = await _flood(bench, active)
            out["rss_after_load_mb"] = round(rss_mb(process.pid), 1)
        finally:
            process.terminate()
            process.wait(timeout=30)
        out["libraries_import_s"].append(await libraries_import())
        process, ready = await _start(config, folder / "many-rooms-1.log")
        try:
            t0 = time.perf_counter() - ready
            load = Load()
            tokens = [await bench.send(load, 1, "t2m"), await bench.send(load, 1, "m2t")]
            await bench.wait_all(tokens, load)
            relayed = max(bench.alice.arrived[tokens[0]], bench.telegram[tokens[1]])
            await asyncio.sleep(5)
            out["restart"] = {"start_to_ready_s": round(ready, 2),
                              "start_to_relayed_both_ways_s": round(relayed - t0, 2),
                              "idle_rss_mb": round(rss_mb(process.pid), 1)}
        finally:
            process.terminate()
            process.wait(timeout=30)
            await alice.stop()
    out["alice_pages_cut"] = len(alice.limited_rooms)
    return out


def _summary(bench: Bench, load: Load) -> dict[str, Any]:
    by_way = {way: [t for t in load.sent_at if load.where[t][0] == way]
              for way in ("t2m", "m2t")}
    n = len(load.sent_at)
    return {"all": summary_ms(load.latencies(bench.alice.arrived, bench.telegram)),
            **{way: summary_ms(load.latencies(bench.alice.arrived, bench.telegram, tokens))
               for way, tokens in by_way.items()},
            "rooms_out_of_order": bench.check_order(load), "lost": 0,
            "cpu_ms_per_message": {name: round(seconds / n * 1000, 2)
                                   for name, seconds in load.cpu.items()}}


async def libraries_import() -> float:
    """Seconds a process takes to import the libraries the bot runs on, and nothing of
    ours: the floor under "start to ready" on this machine at this moment."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", LIBRARIES)
    await process.wait()
    return round(time.perf_counter() - started, 2)


async def _flood(bench: Bench, active: list[int]) -> dict[str, Any]:
    """Pair 1's group refuses the bot for FLOOD_SECONDS while the spread load goes on."""
    limited = bench.chats[1]
    bench.api.flood_chat(limited, FLOOD_SECONDS)
    ends = time.perf_counter() + FLOOD_SECONDS
    load = Load()
    await bench.send(load, 1, "m2t")  # queued at once: its first send meets the 429
    await bench.run_load(active, FLOOD_SECONDS + 5, load)
    held = [t for t, (way, where) in load.where.items() if where == limited]
    others = [t for t in load.sent_at if t not in held and load.sent_at[t] < ends]
    arrived = [bench.telegram[t] for t in held]
    return {"seconds": FLOOD_SECONDS, "others_during": summary_ms(
                load.latencies(bench.alice.arrived, bench.telegram, others)),
            "limited_messages": len(held),
            "limited_first_arrival_after_end_s": round(min(arrived) - ends, 2),
            "limited_last_arrival_after_end_s": round(max(arrived) - ends, 2),
            "rooms_out_of_order": bench.check_order(load), "lost": 0}


def rows(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    one, spread, flood = out["one_room"]["all"], out["spread"]["all"], out["flood"]
    yes = {True: "yes", False: "NO"}
    pairs = f"{out['pairs']} pairs"
    return [
        (f"{pairs}: setup (rooms made, bot joined)", f"{out['setup_s']} s", "", ""),
        (f"{pairs}: start to ready, first start / restart",
         f"{out['first_start']['start_to_ready_s']} / {out['restart']['start_to_ready_s']} s",
         "< 3 s", yes[max(out['first_start']['start_to_ready_s'],
                          out['restart']['start_to_ready_s']) < 3]),
        ("  the libraries alone, imported (floor): then / then",
         " / ".join(f"{s} s" for s in out["libraries_import_s"]), "", ""),
        ("  restart to a message relayed both ways",
         f"{out['restart']['start_to_relayed_both_ways_s']} s", "", ""),
        (f"{pairs}: idle RSS, first start / restart",
         f"{out['first_start']['idle_rss_mb']} / {out['restart']['idle_rss_mb']} MB",
         "≤ 150 MB", yes[max(out['first_start']['idle_rss_mb'],
                             out['restart']['idle_rss_mb']) <= 150]),
        (f"{out['active']} rooms / 1 room, {out['rate_per_s']:g} msg/s, p95",
         f"{spread['p95_ms']} / {one['p95_ms']} ms = {out['p95_ratio']}x", "≤ 1.2x",
         yes[out["p95_ratio"] <= 1.2]),
        ("  p50 (50 rooms / 1 room)", f"{spread['p50_ms']} / {one['p50_ms']} ms", "", ""),
        ("  CPU a message, bot / Synapse (50 rooms; 1 room)",
         f"{_cpu(out['spread'])}; {_cpu(out['one_room'])} ms", "", ""),
        ("  rooms out of order; lost", f"{out['spread']['rooms_out_of_order']}; 0 of "
         f"{spread['n']}", "0; 0", yes[out["spread"]["rooms_out_of_order"] == 0]),
        (f"  one group under 429 for {flood['seconds']} s: others' p95",
         f"{flood['others_during']['p95_ms']} ms", "≤ 1.2x one room",
         yes[flood["others_during"]["p95_ms"] <= 1.2 * one["p95_ms"]]),
        ("  its messages: arrived after the 429s ended",
         f"{flood['limited_messages']}, {flood['limited_first_arrival_after_end_s']}-"
         f"{flood['limited_last_arrival_after_end_s']} s after, "
         f"{flood['rooms_out_of_order']} out of order", "all, in order",
         yes[flood["rooms_out_of_order"] == 0]),
    ]


if __name__ == "__main__":
    import json
    import sys
    import tempfile

    count = int(sys.argv[1]) if len(sys.argv) > 1 else PAIRS
    print(json.dumps(run(Path(tempfile.mkdtemp()), pairs=count), indent=1))


def _cpu(phase: dict[str, Any]) -> str:
    cpu = phase["cpu_ms_per_message"]
    return f"{cpu['bot']} / {cpu['synapse']}"
