"""Files crossing the bridge wait on disk, and go once their delivery is done or failed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import deliveries
from bot.deliveries import FileRef, Media, Text
from bot.outbox import Delivery, DeliveryFailed, OutboxWorker, RetryLater
from bot.spool import Spool
from storage import outbox
from storage.database import Database


def now() -> datetime:
    return datetime.now(UTC)


def queue_video(database: Database) -> None:
    with database.session() as db:
        deliveries.queue(db, "telegram:-5", Media(Text("Ana", "<b>Ana</b>"), FileRef(
            "matrix", "mxc://x/video", "march.mp4", "video/mp4", 5 * 1024 * 1024, "video")),
            now=now())
        db.commit()


def left_in(spool: Spool) -> list[Path]:
    assert spool.folder is not None
    return list(spool.folder.iterdir())


async def test_a_file_is_downloaded_to_disk_sent_from_there_and_removed(
        database: Database, tmp_path: Path):
    spool = Spool(tmp_path / "spool")
    seen: list[tuple[bytes, int]] = []

    async def fetch(ref: str, path: Path) -> None:
        await asyncio.to_thread(path.write_bytes, b"\x00" * 1000)

    async def send(d: Delivery) -> str:
        assert d.file is not None and d.file.path.parent == spool.folder
        seen.append((d.file.path.read_bytes()[:2], d.file.size))
        return "7"

    queue_video(database)
    worker = OutboxWorker(database, {"telegram": send}, now, fetchers={"matrix": fetch},
                          spool=spool)
    await worker.drain()
    assert seen == [(b"\x00\x00", 1000)]
    assert left_in(spool) == []


@pytest.mark.parametrize("where", ["download", "upload", "refused"])
async def test_the_file_is_removed_when_its_delivery_fails(database: Database, tmp_path: Path,
                                                           where: str):
    spool = Spool(tmp_path / "spool")
    tried: list[Path] = []

    async def fetch(ref: str, path: Path) -> None:
        tried.append(path)
        await asyncio.to_thread(path.write_bytes, b"half a vid")
        if where == "download":
            raise RetryLater("network: the connection dropped mid-file")

    async def send(d: Delivery) -> str:
        if where == "refused":
            raise DeliveryFailed("Telegram refused the message: Bad Request")
        raise ConnectionResetError("the upload broke off")

    queue_video(database)
    worker = OutboxWorker(database, {"telegram": send}, now, fetchers={"matrix": fetch},
                          spool=spool)
    await worker.drain(seconds=1)
    assert tried and not tried[0].exists() and left_in(spool) == []
    with database.session() as db:
        row = db.get(outbox.OutboxMessage, 1)
        assert row is not None
        assert row.status == (outbox.FAILED if where == "refused" else outbox.PENDING)


async def test_a_stopped_worker_leaves_no_folder(database: Database, tmp_path: Path):
    spool = Spool(tmp_path / "spool")
    worker = OutboxWorker(database, {}, now, spool=spool, poll_seconds=0.05)
    await worker.start()
    assert spool.folder is not None and spool.folder.is_dir()
    await worker.stop()
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_start_removes_what_a_killed_bot_left_and_keeps_what_a_running_one_uses(
        tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    left = tmp_path / f"{dead.stdout.strip()}-abc"
    left.mkdir(parents=True)
    (left / "tmpvideo").write_bytes(b"half a video")
    running = tmp_path / f"{os.getppid()}-def"
    running.mkdir()
    spool = Spool(tmp_path)
    spool.open()
    assert not left.exists() and running.is_dir()
    assert spool.folder is not None and spool.folder.name.startswith(f"{os.getpid()}-")
    spool.close()


async def test_files_of_rooms_sent_at_once_do_not_meet(database: Database, tmp_path: Path):
    spool = Spool(tmp_path / "spool")
    paths: list[Path] = []

    async def fetch(ref: str, path: Path) -> None:
        paths.append(path)
        await asyncio.to_thread(path.write_bytes, ref.encode())
        await asyncio.sleep(0.01)

    async def send(d: Delivery) -> str:
        assert d.file is not None and isinstance(d.content, Media)
        assert d.file.path.read_bytes() == d.content.source.ref.encode()
        return "1"

    with database.session() as db:
        for room in ("telegram:-5", "telegram:-6"):
            deliveries.queue(db, room, Media(Text("a", "a"), FileRef("matrix", f"mxc://{room}",
                                                                      "f.bin")), now=now())
        db.commit()
    await OutboxWorker(database, {"telegram": send}, now, fetchers={"matrix": fetch},
                       spool=spool).drain()
    assert len(set(paths)) == 2 and left_in(spool) == []
