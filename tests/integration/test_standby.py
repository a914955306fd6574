"""Two ``caucus-bot run`` on one database: on PostgreSQL one leads and one stands by, and
the standby takes over when the leader dies or loses its database connection; on SQLite the
second one is refused. Real processes, real Synapse, the Bot API double."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, RoomMessagesResponse, RoomMessageText

from tests.botapi_double import BotApiDouble
from tests.conftest import DATABASES
from tests.integration.bot_process import STARTUP, exited, run_bot, stop_bot, toml
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS
from tests.integration.matrix_fixtures import Human
from tests.postgres_server import Postgres
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
READY = "caucus-bot is ready"
STANDBY = "standby: another caucus-bot leads"
BURST = 300  # messages each way


# A standby needs PostgreSQL (skipped when the tests run on SQLite only).
on_postgresql = pytest.mark.parametrize(
    "database_url", [name for name in DATABASES if name == "postgresql"], indirect=True)


async def wait_for_log(log: Path, marker: str, process: subprocess.Popen[bytes], *,
                       seconds: float = 60, after: int = 0) -> float:
    """The moment (time.monotonic()) ``marker`` appears in ``log`` past offset ``after``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = await asyncio.to_thread(log.read_text, errors="replace")
        if marker in text[after:]:
            return time.monotonic()
        if process.poll() is not None:
            raise AssertionError(f"{log.name} exited with {process.returncode}:\n{text[-3000:]}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {marker!r} in {log.name} within {seconds:.0f} s:\n{text[-3000:]}")


async def timeline(human: Human, room: str, sender: str, *, at_least: int = 0,
                   seconds: float = 180) -> list[str]:
    """What ``sender`` said in the room, oldest first, read from the room's history (a sync
    after a pause hands over only the newest events); waits until there are ``at_least``."""
    deadline = time.monotonic() + seconds
    while True:
        await human.sync()
        start, bodies = human.client.next_batch, []
        while True:
            page = await human.client.room_messages(room, start=start, limit=1000)
            assert isinstance(page, RoomMessagesResponse), page
            bodies += [e.body for e in page.chunk if isinstance(e, RoomMessageText)
                       and e.sender == sender and "m.new_content" not in e.source["content"]]
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        if len(bodies) >= at_least or time.monotonic() > deadline:
            return bodies[::-1]
        await asyncio.sleep(1)


async def flood(client: AsyncClient, room: str, texts: list[str]) -> None:
    """Alice posts every text in order (one request at a time keeps her order)."""
    for body in texts:
        sent = await client.room_send(room, "m.room.message", {"msgtype": "m.text",
                                                               "body": body})
        assert hasattr(sent, "event_id"), sent


class Two:
    """The same config twice, as two processes: ``a`` starts first and leads."""

    def __init__(self, pair: Pair, tmp_path: Path):
        self.pair, self.tmp = pair, tmp_path
        self.config = tmp_path / "config.toml"
        self.config.write_text(toml(pair.config_data()))
        self.logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    async def start(self, name: str, marker: str) -> subprocess.Popen[bytes]:
        process = self.processes[name] = run_bot(self.config, self.logs[name])
        await wait_for_log(self.logs[name], marker, process)
        return process

    async def stop(self) -> None:
        await stop_bot(*self.processes.values())


@pytest.fixture
async def two(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str) -> Any:
    pair = Pair(synapse, api, tmp_path, database_url)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id])
    both = Two(pair, tmp_path)
    yield both
    api.release_sends()
    await both.stop()
    await pair.alice.close()


@on_postgresql
async def test_the_standby_takes_over_a_killed_leader_mid_burst_losing_and_repeating_nothing(
        two: Two):
    pair, api = two.pair, two.pair.api
    leader = await two.start("a", READY)
    await pair.alice.wait_member(pair.room, pair.bot.user_id, seconds=STARTUP)
    await two.start("b", STANDBY)
    from_telegram = [f"tg {n:03d}" for n in range(BURST)]
    from_matrix = [f"mx {n:03d}" for n in range(BURST)]
    matrix_side = asyncio.create_task(flood(pair.alice.client, pair.room, from_matrix))
    for text in from_telegram:
        await api.user_message(CAUCUS, pair.ana, text)
    bot = pair.bot.user_id
    await timeline(pair.alice, pair.room, bot, at_least=60, seconds=120)
    await api.wait_for(lambda: len(pair.on_telegram()) >= 60, seconds=120)
    # The kill lands while the leader has a Telegram send on the wire: Telegram's Bot API
    # has no idempotency key, so a kill in the instant after Telegram took a message and
    # before the bot recorded it would repeat that one message (the README says so).
    api.hold_sends()
    await api.wait_for(lambda: api.held > 0, seconds=30)
    leader.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await exited(leader, 10)
    relayed_before = (len(await timeline(pair.alice, pair.room, bot)), len(pair.on_telegram()))
    await asyncio.sleep(0.5)  # the double sees the dead sender's connection close
    api.release_sends()
    ready = await wait_for_log(two.logs["b"], READY, two.processes["b"], seconds=30)
    assert ready - killed < 10, f"the standby took {ready - killed:.1f} s to take over"
    assert relayed_before[0] < BURST or relayed_before[1] < BURST, "the kill came too late"
    await matrix_side
    await timeline(pair.alice, pair.room, bot, at_least=BURST)
    await api.wait_for(lambda: len(pair.on_telegram()) >= BURST, seconds=180)
    await asyncio.sleep(2)  # nothing more may come: no repeats
    on_matrix = await timeline(pair.alice, pair.room, bot)
    assert on_matrix == [f"Ana: {t}" for t in from_telegram], (
        f"Matrix: duplicates or gaps after the kill at {relayed_before}")
    assert [m.plain for m in pair.on_telegram()] == [f"alice: {t}" for t in from_matrix], (
        f"Telegram: duplicates or gaps after the kill at {relayed_before}")


@on_postgresql
async def test_a_leader_that_loses_its_database_connection_steps_down_and_the_standby_serves(
        two: Two, postgres: Postgres):
    pair, api = two.pair, two.pair.api
    await two.start("a", READY)
    await pair.alice.wait_member(pair.room, pair.bot.user_id, seconds=STARTUP)
    await two.start("b", STANDBY)
    await api.user_message(CAUCUS, pair.ana, "before the cut")
    await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 1)
    seen = len(two.logs["a"].read_text())
    assert postgres.terminate("caucus-bot leader") == 1  # the server drops its session
    cut = time.monotonic()
    ready = await wait_for_log(two.logs["b"], READY, two.processes["b"], seconds=30)
    assert ready - cut < 10, f"the standby took {ready - cut:.1f} s to take over"
    await wait_for_log(two.logs["a"], "stopped serving: the connection that holds the leader "
                       "lock failed", two.processes["a"], after=seen)
    await wait_for_log(two.logs["a"], STANDBY, two.processes["a"], after=seen)
    await api.user_message(CAUCUS, pair.ana, "after the cut")
    await pair.alice.say(pair.room, "from Matrix after the cut")
    await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 2, seconds=60)
    await api.wait_for(lambda: len(pair.on_telegram()) == 1, seconds=60)
    await asyncio.sleep(2)
    await pair.alice.sync(timeout_ms=1000)
    assert [e.body for e in pair.on_matrix()] == ["Ana: before the cut", "Ana: after the cut"]
    assert [m.plain for m in pair.on_telegram()] == ["alice: from Matrix after the cut"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_second_process_is_refused_at_start(two: Two):
    await two.start("a", READY)
    second = run_bot(two.config, two.logs["b"])
    assert await exited(second, 60) == 1
    said = two.logs["b"].read_text()
    pid = two.processes["a"].pid
    assert f"caucus-bot run: refused: another caucus-bot (process {pid}) is running on " in said
    assert "for a standby that takes over, use PostgreSQL" in said
    assert two.processes["a"].poll() is None  # the first one serves on
