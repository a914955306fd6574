"""Long history: the bot with a million relayed messages already in its database, beside
the same bot on an empty one, on SQLite and on PostgreSQL, in one run.

The history is written in SQL by this process before the bots start (a million rows of
each of the outbox, the message links and the inbound records, as the bridge leaves them:
half Telegram->Matrix, half back, over the last year, their text sealed with the data
key), at the migration before the history indexes, which are then built by the upgrade
a start would run (timed). Four ``caucus-bot run`` processes then serve, each with its
own chat and room: empty and full, on each engine; their relay latency is measured in
alternating blocks of ten (``bench.relay``), their start to ready over restarts, and
``/bridge status`` in this process against each database.

Growth: bytes per relayed message, from the databases' sizes (SQLite's pages; PostgreSQL's
``pg_database_size``) around what the empty bots relay, without retention; then over
``CYCLES`` cycles of retention (as the daily job runs it, the clock moved past every
period; on PostgreSQL followed by the VACUUM that autovacuum runs) and as many messages
again, from one cycle's end to the next: new rows take the space of the deleted ones.
And the first retention run over the million-message history, with the default periods.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, func, select, text

from bench.relay import OURS_CHAT, Receiver, Side, TelegramWatch, Tokens, bursts, paced
from bench.servers import (
    READY,
    postgres,
    servers,
    spawn_bot,
    wait_for_line,
    wait_joined,
    write_config,
)
from bench.stats import summary_ms
from bot.config import parse_config
from bot.deliveries import Relay, Text
from bot.dispatcher import Dispatcher
from bot.events import Event
from handlers import build_registry
from storage.crypto import new_key, seal, set_data_keys
from storage.database import Database, alembic_config
from storage.ids import room_id_for, user_id_for
from storage.links import LINKS
from storage.retention import apply_retention
from tests.botapi_double import BotApiDouble
from tests.synapse_server import Synapse

HISTORY = 1_000_000
FIRST_ID = 10_000_000  # Telegram message ids of the history: above any the double hands out
PAYLOADS = 1000  # distinct sealed payloads the history's rows take in turn
BLOCK = 10
RESTARTS = 3
CYCLES = 3  # retention runs, each followed by as many messages as before it
# One series of numbers and one random Matrix event id per row, in each dialect.
SERIES = {"sqlite": "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                    "WHERE i < :n) SELECT i FROM s",
          "postgresql": "SELECT i FROM generate_series(1, :n) AS g(i)"}
EVENT_ID = {"sqlite": "'$' || substr(hex(randomblob(22)), 1, 43)",
            "postgresql": "'$' || substr(md5(random()::text) || md5(random()::text), 1, 43)"}
AT = {"sqlite": "datetime(:start, '+' || (i * :step) || ' seconds') || '.000000'",
      "postgresql": "CAST(:start AS timestamp) + (i * :step) * interval '1 second'"}


@dataclass
class Bot:
    """One bot under test: its database, its config and its side of the relay."""

    label: str
    url: str
    config: Path
    log: Path
    api: BotApiDouble
    chat: int
    room: str  # the Matrix room's own id
    user_id: str
    side: Side | None = None
    starts: list[float] | None = None


def size_bytes(url: str) -> int:
    """What the database takes: SQLite's pages (the file, write-ahead log included), or
    PostgreSQL's ``pg_database_size``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                pages = conn.execute(text("PRAGMA page_count")).scalar_one()
                return int(pages) * int(conn.execute(text("PRAGMA page_size")).scalar_one())
            return int(conn.execute(text("SELECT pg_database_size(current_database())"))
                       .scalar_one())
    finally:
        engine.dispose()


def used_bytes(url: str) -> int:
    """What the database's rows and indexes take: SQLite's pages less its free ones (a
    deleted row's page is kept for new rows, not given back); on PostgreSQL its size
    (VACUUM keeps the space of deleted rows for new ones too)."""
    if not url.startswith("sqlite"):
        return size_bytes(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            free = int(conn.execute(text("PRAGMA freelist_count")).scalar_one())
            page = int(conn.execute(text("PRAGMA page_size")).scalar_one())
    finally:
        engine.dispose()
    return size_bytes(url) - free * page


def links_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(LINKS)).scalar_one())
    finally:
        engine.dispose()


def migrate(url: str, verb: str, revision: str) -> None:
    database = Database(url)
    with database.engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        getattr(command, verb)(cfg, revision)
    database.dispose()


def fill(url: str, telegram: str, matrix: str, n: int) -> dict[str, float]:
    """``n`` relayed messages of history in SQL, at migration 0014; then the upgrade."""
    database = Database(url)
    migrate(url, "upgrade", "0014")
    dialect = database.engine.dialect.name
    empty = size_bytes(url)
    started = time.perf_counter()
    payloads = [{"k": k, "p": seal(Relay(Text(f"Ana: message {k} about the session",
                                              f"<b>Ana</b>: message {k} about the session"))
                                  .payload())} for k in range(PAYLOADS)]
    first = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=365)
    event_id, at = EVENT_ID[dialect], AT[dialect]
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE bench_payload (k INTEGER PRIMARY KEY, "
                          "p TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO bench_payload (k, p) VALUES (:k, :p)"), payloads)
        # Even rows crossed from Telegram to Matrix, odd ones back; a row's ids on the
        # Telegram side are FIRST_ID + i, on the Matrix side a random event id.
        conn.execute(text(
            "INSERT INTO outboxmessage (room_id, kind, payload, created_at, status, attempts, "
            "next_attempt_at, sent_message_id, sent_at, source_room, source_message) "
            f"SELECT CASE i % 2 WHEN 0 THEN :m ELSE :t END, 'relay', bench_payload.p, {at}, "
            f"'sent', 1, {at}, CASE i % 2 WHEN 0 THEN {event_id} ELSE CAST(:first + i AS TEXT)"
            f" END, {at}, CASE i % 2 WHEN 0 THEN :t ELSE :m END, CASE i % 2 WHEN 0 THEN "
            f"CAST(:first + i AS TEXT) ELSE {event_id} END "
            f"FROM ({SERIES[dialect]}) AS s JOIN bench_payload ON bench_payload.k = i % "
            f"{PAYLOADS} ORDER BY i"),
            {"n": n, "m": matrix, "t": telegram, "first": FIRST_ID, "start": first,
             "step": 365 * 86400 / n})
        conn.execute(text("INSERT INTO inboundseen (room_id, message_id, version, seen_at) "
                          "SELECT source_room, source_message, '', created_at "
                          "FROM outboxmessage ORDER BY id"))
        conn.execute(text("INSERT INTO messagelink (source_room, source_message, target_room, "
                          "target_message, at) SELECT source_room, source_message, room_id, "
                          "sent_message_id, sent_at FROM outboxmessage ORDER BY id"))
        conn.execute(text("DROP TABLE bench_payload"))
    filled = time.perf_counter()
    database.upgrade()
    upgraded = time.perf_counter()
    database.dispose()
    full = size_bytes(url)
    return {"fill_s": round(filled - started, 1), "migration_0015_s": round(upgraded - filled, 1),
            "bytes": full, "bytes_per_message": round((full - empty) / n)}


async def bridge_status_ms(url: str, telegram_chat: int, matrix_room: str, repeats: int = 50
                           ) -> dict[str, float]:
    """``/bridge status`` as the dispatcher runs it, handler and database only."""
    config = parse_config({"bot": {"admins": ["telegram:1"]}, "rooms": [
        {"name": "Pair", "telegram_chat_id": telegram_chat, "matrix_room_id": matrix_room}]})
    database = Database(url)
    dispatcher = Dispatcher(config=config, registry=build_registry(), database=database,
                            clock=lambda: datetime.now(UTC))
    room = room_id_for("telegram", telegram_chat)

    async def timed() -> list[float]:
        out = []
        for k in range(repeats):
            event = Event(platform="telegram", room_id=room, message_id=f"s{k}",
                          sender_id=user_id_for("telegram", 1), sender_name="Admin",
                          text="/bridge status")
            t0 = time.perf_counter()
            reply = (await dispatcher.handle(event)).reply
            out.append(time.perf_counter() - t0)
            assert reply is not None and "bridged pair" in reply.plain(), reply
        return out
    try:
        return summary_ms((await timed())[5:])  # the first few fill caches
    finally:
        database.dispose()


def retain(url: str, now: datetime, **periods: int) -> dict[str, Any]:
    """The daily job's rules at ``now``, timed; PostgreSQL's dead rows then vacuumed."""
    database = Database(url)
    started = time.perf_counter()
    with database.session() as db:
        result = apply_retention(db, now=now, relay_days=periods.get("relay_days", 7),
                                 closed_case_days=None, link_days=periods.get("link_days", 180))
        db.commit()
    seconds = time.perf_counter() - started
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM"))
    database.dispose()
    return {"seconds": round(seconds, 1), "deleted_messages": result.messages,
            "deleted_inbound": result.seen, "deleted_links": result.links}


def run(folder: Path, *, messages: int = 300, history: int = HISTORY,
        postgresql: bool = True) -> dict[str, Any]:
    key = new_key()
    set_data_keys(key)
    (folder / "data.key").write_text(key)
    if not postgresql:
        return asyncio.run(_run(folder, messages, history, None))
    with postgres() as pg:
        return asyncio.run(_run(folder, messages, history, pg))


async def _run(folder: Path, n: int, history: int, pg: Any) -> dict[str, Any]:
    engines = ["sqlite"] + (["postgresql"] if pg is not None else [])
    out: dict[str, Any] = {"history_messages": history, "messages_per_direction": n}
    async with servers(folder / "history") as (synapse, api):
        receiver = Receiver(synapse, synapse.register("alice"))
        await receiver.start()
        bots: list[Bot] = []
        for k, engine in enumerate(engines):
            for j, label in enumerate(("empty", "full")):
                chat = OURS_CHAT - 1000 * (2 * k + j + 1)
                url = f"sqlite:///{folder / f'{label}.db'}" if engine == "sqlite" else \
                    pg.new_database(migrated=False)
                bots.append(await _make_bot(folder, synapse, receiver, api if not bots else
                                            None, f"{label} {engine}", url, chat))
        for bot in bots:
            if bot.label.startswith("full"):
                out[f"fill {bot.label.split()[1]}"] = fill(
                    bot.url, room_id_for("telegram", bot.chat),
                    room_id_for("matrix", bot.room), history)
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for bot in bots:
                bot.starts = []
                processes.append(await _start(bot))
            alice = receiver.client
            for bot in bots:
                await wait_joined(alice, bot.room, bot.user_id)
                receiver.watch[bot.room] = bot.user_id
                bot.side = Side(bot.label, bot.api, bot.chat, bot.room, processes[bots.index(bot)],
                                TelegramWatch(bot.api, bot.chat))
            tokens = Tokens()
            for bot in bots:
                assert bot.side is not None
                await paced(bot.side, receiver, alice, tokens, 10, record=False)
            before = {bot.label: (size_bytes(bot.url), links_count(bot.url)) for bot in bots}
            for k in range(0, n, BLOCK):
                turn = (k // BLOCK) % len(bots)
                for bot in bots[turn:] + bots[:turn]:
                    assert bot.side is not None
                    await paced(bot.side, receiver, alice, tokens, min(BLOCK, n - k))
            growth: dict[str, dict[str, Any]] = {}
            for bot in bots:
                size, count = size_bytes(bot.url), links_count(bot.url)
                growth[bot.label] = {"messages": count - before[bot.label][1],
                                     "bytes": size - before[bot.label][0]}
            # Retention as the daily job runs it, the clock moved past every period, then as
            # many messages again; a few times over, as the days go by. Growth is counted
            # from one cycle's end to the next's.
            empties = [bot for bot in bots if bot.label.startswith("empty")]
            ends = {bot.label: size_bytes(bot.url) for bot in empties}
            for cycle in range(CYCLES):
                later = datetime.now(UTC) + timedelta(days=400 * (cycle + 1))
                counts = {}
                for bot in empties:
                    growth[bot.label].setdefault("retention", []).append(retain(bot.url, later))
                    counts[bot.label] = links_count(bot.url)
                for bot in empties:
                    assert bot.side is not None
                    await bursts(bot.side, receiver, alice, tokens, n)
                for bot in empties:
                    size, count = size_bytes(bot.url), links_count(bot.url)
                    growth[bot.label].setdefault("cycles", []).append(
                        {"messages": count - counts[bot.label], "bytes": size - ends[bot.label]})
                    ends[bot.label] = size
            out["growth"] = growth
            for _ in range(RESTARTS - 1):
                for index, bot in enumerate(bots):
                    _stop(processes[index])
                    processes[index] = await _start(bot)
        finally:
            for process in processes:
                _stop(process)
            await receiver.stop()
            for bot in bots:
                if bot.api is not api:
                    await bot.api.stop()
    for bot in bots:
        assert bot.side is not None and bot.starts is not None
        out[bot.label] = {"relay_t_to_m": summary_ms(bot.side.t_to_m),
                          "relay_m_to_t": summary_ms(bot.side.m_to_t),
                          "start_to_ready_s": [round(s, 2) for s in bot.starts],
                          "bridge_status": await bridge_status_ms(bot.url, bot.chat, bot.room),
                          "bytes": size_bytes(bot.url)}
        if bot.label.startswith("full"):
            # The same query at the schema before 0015, for comparison: its indexes only.
            migrate(bot.url, "downgrade", "0014")
            out[bot.label]["bridge_status_at_0014"] = await bridge_status_ms(
                bot.url, bot.chat, bot.room)
            migrate(bot.url, "upgrade", "head")
            first = retain(bot.url, datetime.now(UTC))
            out[bot.label]["first_retention"] = {**first, "bytes_in_use_after": used_bytes(bot.url)}
    out["engines"] = engines
    return out


async def _make_bot(folder: Path, synapse: Synapse, receiver: Receiver,
                    api: BotApiDouble | None, label: str, url: str, chat: int) -> Bot:
    if api is None:
        api = BotApiDouble()
        await api.start()
    name = label.replace(" ", "-")
    account = synapse.register(f"bot-{name}")
    room = (await receiver.client.room_create(name=name, invite=[account.user_id])).room_id
    config = write_config(folder, synapse, account, api, [
        {"name": "Pair", "telegram_chat_id": chat, "matrix_room_id": room}],
        database=url, name=f"{name}.toml")
    config.write_text(config.read_text() + "[privacy]\n"
                      f"key_file = \"{folder / 'data.key'}\"\n")
    return Bot(label, url, config, folder / f"{name}.log", api, chat, room, account.user_id)


async def _start(bot: Bot) -> subprocess.Popen[bytes]:
    bot.log.write_text("")
    process = spawn_bot(bot.config, bot.log)
    assert bot.starts is not None
    bot.starts.append(await wait_for_line(bot.log, READY, process))
    if bot.side is not None:
        bot.side.process = process
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def rows(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    r: list[tuple[str, str, str, str]] = []
    history = f"{out['history_messages']:,}"
    for engine in out["engines"]:
        name = "SQLite" if engine == "sqlite" else "PostgreSQL"
        full, empty, made = out[f"full {engine}"], out[f"empty {engine}"], out[f"fill {engine}"]
        r.append((f"{name}: {history} messages of history written; migration 0015",
                  f"{made['fill_s']} s; {made['migration_0015_s']} s", "", ""))
        for key, short in (("relay_t_to_m", "T→M"), ("relay_m_to_t", "M→T")):
            f, e = full[key], empty[key]
            ratio = round(f["p50_ms"] / e["p50_ms"], 2)
            r.append((f"  relay {short} p50 full/empty history",
                      f"{f['p50_ms']}/{e['p50_ms']} ms = {ratio}x", "≤ 1.05x",
                      "yes" if ratio <= 1.05 else "NO"))
            r.append((f"  relay {short} p95 full/empty", f"{f['p95_ms']}/{e['p95_ms']} ms = "
                      f"{round(f['p95_ms'] / e['p95_ms'], 2)}x", "", ""))
        starts = full["start_to_ready_s"]
        r.append(("  start to ready, full (empty)", f"{min(starts)}–{max(starts)} s "
                  f"({min(empty['start_to_ready_s'])}–{max(empty['start_to_ready_s'])} s)",
                  "< 3 s", "yes" if max(starts) < 3 else "NO"))
        status = full["bridge_status"]
        before = full["bridge_status_at_0014"]
        r.append(("  /bridge status p50/p95, full, indexes before 0015",
                  f"{before['p50_ms']}/{before['p95_ms']} ms", "", ""))
        r.append(("  /bridge status p50/p95, full (empty)",
                  f"{status['p50_ms']}/{status['p95_ms']} ms ({empty['bridge_status']['p50_ms']}"
                  f"/{empty['bridge_status']['p95_ms']} ms)", "< 100 ms",
                  "yes" if status["p95_ms"] < 100 else "NO"))
        grew = out["growth"][f"empty {engine}"]
        cycles = "/".join(f"{round(c['bytes'] / c['messages']):,}" for c in grew["cycles"])
        r.append(("  bytes per message: history; relayed; with retention, by cycle",
                  f"{made['bytes_per_message']:,}; {round(grew['bytes'] / grew['messages']):,};"
                  f" {cycles}", "bounded", ""))
        first = full["first_retention"]
        r.append((f"  first retention over {history} (7/7/180 days)",
                  f"{first['seconds']} s: {first['deleted_messages']:,} rows, "
                  f"{first['deleted_inbound']:,} records, {first['deleted_links']:,} links",
                  "", ""))
    return r
