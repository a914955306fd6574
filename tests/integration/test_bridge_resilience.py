"""Nothing lost, nothing twice: the bot killed mid-burst or mid-file, the homeserver down
for 20 s."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from nio import DownloadResponse, RoomMessagesError, UploadResponse

from bot.config import parse_config
from bot.matrix import MISSED_PAGE, MatrixAdapter
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.integration.bot_process import STARTUP, exited, run_bot, stop_bot, toml
from tests.integration.conftest import CAUCUS, stop
from tests.integration.test_bridge import Pair
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
async def test_kill_mid_burst_then_restart_delivers_each_once_in_order(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    pair = Pair(synapse, api, tmp_path, database_url)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id])
    config = tmp_path / "config.toml"
    config.write_text(toml(pair.config_data()))
    process = run_bot(config, tmp_path / "bot.log")
    try:
        await pair.alice.wait_member(pair.room, pair.bot.user_id, seconds=STARTUP)
        for n in range(200):
            await api.user_message(CAUCUS, pair.ana, f"burst {n:03d}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 40, seconds=60)
        process.send_signal(signal.SIGKILL)
        await exited(process, 10)
        arrived_before = len(pair.on_matrix())
        assert arrived_before < 200, "the kill came too late to test anything"
        process = run_bot(config, tmp_path / "bot.log")
        relayed = await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 200 and
                                            pair.on_matrix(), seconds=180)
        await pair.alice.sync(timeout_ms=2000)
        bodies = [e.body for e in pair.on_matrix()]
        assert bodies == [f"Ana: burst {n:03d}" for n in range(200)], (
            f"{len(bodies)} relayed; duplicates or gaps after the kill at {arrived_before}")
        assert len(relayed) == 200
    finally:
        await stop_bot(process)
        await pair.alice.close()


async def test_kill_with_files_in_flight_both_ways_then_restart_delivers_each_once(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    """kill -9 while a video downloads from Telegram and another uploads to it: after the
    restart every file arrives once, whole, in order; the half-written copies are removed."""
    pair = Pair(synapse, api, tmp_path, database_url)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id])
    config = tmp_path / "config.toml"
    config.write_text(toml(pair.config_data()))
    temp = tmp_path / "tmp"
    temp.mkdir()
    spool = temp / f"caucus-bot-media-{os.getuid()}"
    # Larger than what the sockets between the bot and the double can buffer, so that a
    # held upload is really cut short by the kill.
    videos = [bytes([n]) * 16 + os.urandom(8 * 1024 * 1024) for n in range(3)]
    process = run_bot(config, tmp_path / "bot.log", TMPDIR=str(temp))
    try:
        await pair.alice.wait_member(pair.room, pair.bot.user_id, seconds=STARTUP)
        api.files.hold()
        for n, data in enumerate(videos):
            await api.user_message(CAUCUS, pair.ana, f"clip {n}", extra={
                "video": api.stored_file(data, mime_type="video/mp4", file_name=f"t{n}.mp4",
                                         width=640, height=360, duration=30)})
        await pair.alice.sync()
        for n, data in enumerate(videos):
            upload, _ = await pair.alice.client.upload(
                lambda *_, d=data: d, content_type="video/mp4", filename=f"m{n}.mp4",
                filesize=len(data))
            assert isinstance(upload, UploadResponse), upload
            await pair.alice.say(pair.room, f"m{n}.mp4", msgtype="m.video", url=upload.content_uri,
                                 info={"mimetype": "video/mp4", "size": len(data)})
        await api.wait_for(lambda: api.files.downloading and api.files.uploading, seconds=60)
        process.send_signal(signal.SIGKILL)
        await exited(process, 10)
        [left] = [d for d in spool.iterdir() if d.name.startswith(f"{process.pid}-")]
        assert list(left.iterdir()), "the killed bot was mid-file"
        api.files.release()
        await asyncio.sleep(1)
        assert not [s for s in pair.on_telegram() if s.method == "sendVideo"], (
            "the killed bot's upload reached the double whole: the test needs it cut short")
        process = run_bot(config, tmp_path / "bot.log", TMPDIR=str(temp))

        def videos_on_matrix() -> list[Any]:
            return [e for e in pair.alice.from_user(pair.room, pair.bot.user_id)
                    if e.source["content"].get("msgtype") == "m.video"]

        def videos_on_telegram() -> list[Any]:
            return [s for s in pair.on_telegram() if s.method == "sendVideo"]

        await pair.alice.wait_for(lambda: len(videos_on_matrix()) >= 3, seconds=120)
        await api.wait_for(lambda: len(videos_on_telegram()) >= 3, seconds=120)
        await asyncio.sleep(2)  # nothing more, nothing twice
        await pair.alice.sync(timeout_ms=1000)
        arrived = videos_on_matrix()
        assert [e.source["content"]["body"] for e in arrived] == ["t0.mp4", "t1.mp4", "t2.mp4"]
        for event, data in zip(arrived, videos, strict=True):
            stored = await pair.alice.client.download(event.source["content"]["url"])
            assert isinstance(stored, DownloadResponse) and stored.body == data
        assert [s.media for s in videos_on_telegram()] == [
            (f"m{n}.mp4", data) for n, data in enumerate(videos)]
        assert not left.exists()  # removed by the next start
    finally:
        api.files.release()
        await stop_bot(process)
        await pair.alice.close()
    assert list(spool.iterdir()) == []  # a bot that stops cleanly leaves no file behind
async def test_a_restart_after_a_quiet_spell_knows_its_rooms_and_the_senders_names(pair: Pair):
    """nio drops a sync answer whose token it holds already; after a restart with nothing new
    the first (full-state) sync answers with the stored token, and must be read all the same:
    without it the bot knew no room, relayed "@alice:localhost" and said it was not in the
    room."""
    await pair.api.user_message(CAUCUS, pair.ana, "before the restart")
    await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 1)
    await stop(pair.services[0])
    restarted = await pair.start()
    await pair.alice.say(pair.room, "after the restart")
    [copy] = await pair.api.wait_for(pair.on_telegram)
    assert copy.plain == "alice: after the restart"
    assert not [f for f in restarted.dispatcher.setup.values()
                if f.problem and "not in the" in f.problem]


async def test_homeserver_outage_of_20_seconds_loses_nothing(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    pair = Pair(synapse, api, tmp_path, database_url)
    service = await pair.start()
    try:
        for n in range(5):
            await api.user_message(CAUCUS, pair.ana, f"before {n}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 5)
        synapse.stop()
        for n in range(10):
            await api.user_message(CAUCUS, pair.ana, f"during {n}")
            await asyncio.sleep(2)  # traffic goes on for the whole 20 s
        synapse.start()
        for n in range(5):
            await api.user_message(CAUCUS, pair.ana, f"after {n}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 20, seconds=120)
        await pair.alice.sync(timeout_ms=1000)
        expected = ([f"Ana: before {n}" for n in range(5)] + [f"Ana: during {n}" for n in range(10)]
                    + [f"Ana: after {n}" for n in range(5)])
        assert [e.body for e in pair.on_matrix()] == expected
    finally:
        if synapse.process is None:
            synapse.start()
        service.stopped.set()
        await service.stop()
        await pair.alice.close()


def failing_first(calls: int, method: Callable[..., Awaitable[Any]]
                  ) -> Callable[..., Awaitable[Any]]:
    """``method``, except that its first ``calls`` calls answer with a homeserver error."""
    failed = 0

    async def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if failed < calls:
            failed += 1
            return RoomMessagesError("Internal server error", "M_UNKNOWN")
        return await method(*args, **kwargs)
    return call


@pytest.mark.parametrize("failing_fetches", [0, 2])
async def test_matrix_backlog_longer_than_a_sync_page_is_relayed_whole_after_a_restart(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        failing_fetches: int, database_url: str):
    """A sync after a gap hands over only the newest events (``limited``); the rest must
    be fetched, or what was said while the bot was down never reaches Telegram; when that
    fetch fails, the bot syncs again from where it was rather than skip the gap. And the
    restarted bot must still know the senders' display names."""
    pair = Pair(synapse, api, tmp_path, database_url)
    service = await pair.start()
    backlog = MISSED_PAGE + 30  # longer than one sync page and one /messages page
    try:
        await pair.alice.say(pair.room, "before the stop")
        await api.wait_for(lambda: len(pair.on_telegram()) == 1)
        service.stopped.set()
        await service.stop()
        for n in range(backlog):
            sent = await pair.alice.client.room_send(pair.room, "m.room.message", {
                "msgtype": "m.text", "body": f"while down {n:03d}"})
            assert hasattr(sent, "event_id"), sent
        caplog.set_level(logging.INFO, logger="bot.matrix")
        service = Service(parse_config(pair.config_data(), env={}), poll_timeout=1,
                          outbox_poll_seconds=0.2)
        matrix = service.adapters[1]
        assert isinstance(matrix, MatrixAdapter)
        matrix.client.room_messages = failing_first(  # type: ignore[method-assign]
            failing_fetches, matrix.client.room_messages)
        await service.start()
        await api.wait_for(lambda: len(pair.on_telegram()) >= backlog + 1, seconds=60)
        await asyncio.sleep(1)  # nothing more, nothing twice
        assert [m.plain for m in pair.on_telegram()] == (
            ["alice: before the stop"] + [f"alice: while down {n:03d}" for n in range(backlog)])
        logged = [r.getMessage() for r in caplog.records]
        assert any("events a sync left out" in line for line in logged)
        assert sum("fetching missed messages" in line for line in logged) == failing_fetches
    finally:
        service.stopped.set()
        await service.stop()
        await pair.alice.close()


async def test_an_encrypted_backlog_is_fetched_decrypted_and_relayed(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    """What /messages hands back in an encrypted room is decrypted with the keys that
    arrived, as to-device messages, in the same sync."""
    pair = Pair(synapse, api, tmp_path, database_url)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id], encrypted=True)
    service = await pair.start()
    backlog = MISSED_PAGE + 10
    try:
        await pair.alice.say(pair.room, "before the stop")
        await api.wait_for(lambda: len(pair.on_telegram()) == 1, seconds=30)
        service.stopped.set()
        await service.stop()
        for n in range(backlog):
            await pair.alice.say(pair.room, f"while down {n:03d}")
        service = await pair.start()
        await api.wait_for(lambda: len(pair.on_telegram()) >= backlog + 1, seconds=90)
        assert [m.plain for m in pair.on_telegram()] == (
            ["alice: before the stop"] + [f"alice: while down {n:03d}" for n in range(backlog)])
    finally:
        service.stopped.set()
        await service.stop()
        await pair.alice.close()
