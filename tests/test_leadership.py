"""Who may serve a database: the SQLite lock file, and PostgreSQL's leader lock."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.leadership import AdvisoryLock, AlreadyServing, FileLock, Unshared, leadership_for
from tests.conftest import DATABASES
from tests.postgres_server import Postgres

on_postgresql = pytest.mark.skipif("postgresql" not in DATABASES, reason="PostgreSQL not chosen")


def test_each_engine_gets_its_kind_of_lock(tmp_path: Path):
    assert isinstance(leadership_for(f"sqlite:///{tmp_path / 'a.db'}"), FileLock)
    assert isinstance(leadership_for("sqlite://"), Unshared)
    lock = leadership_for("postgresql+psycopg://u@127.0.0.1:1/db")
    assert isinstance(lock, AdvisoryLock)
    lock.release()


def test_a_second_process_on_one_sqlite_file_is_refused_and_named(tmp_path: Path):
    database = tmp_path / "caucus.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from bot.leadership import FileLock\n"
        f"FileLock(Path({str(database)!r})).acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyServing) as refused:
            FileLock(database).acquire()
        assert str(refused.value).startswith(
            f"another caucus-bot (process {holder.pid}) is running on {database}; ")
        assert FileLock(database).holder() == str(holder.pid)
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the lock with the process: no stale lock after a kill.
    lock = FileLock(database)
    assert lock.holder() is None
    lock.acquire()
    lock.release()


async def lead_within(lock: AdvisoryLock, seconds: float) -> bool:
    try:
        await asyncio.wait_for(lock.lead(), seconds)
        return True
    except TimeoutError:
        return False


@on_postgresql
async def test_one_leads_the_other_waits_and_takes_over_when_it_stops(postgres: Postgres):
    first = AdvisoryLock(postgres.shared, poll_seconds=0.2)
    second = AdvisoryLock(postgres.shared, poll_seconds=0.2)
    try:
        assert await lead_within(first, 5) and first.leading
        assert not await lead_within(second, 1) and not second.leading
        assert sorted(h.split(" (")[0] for h in first.holders()) == [
            "caucus-bot leader", "caucus-bot standby"]  # as pg_stat_activity names them
        first.release()
        assert await lead_within(second, 5) and second.leading
        assert [h.split(" (")[0] for h in first.holders()] == ["caucus-bot leader"]
    finally:
        first.release()
        second.release()


@on_postgresql
async def test_a_leader_whose_connection_is_cut_knows_it_at_once(postgres: Postgres):
    leader = AdvisoryLock(postgres.shared, heartbeat_seconds=0.2)
    standby = AdvisoryLock(postgres.shared, poll_seconds=0.2)
    try:
        assert await lead_within(leader, 5)
        lost = asyncio.ensure_future(leader.lost())
        await asyncio.sleep(0.5)
        assert not lost.done()  # it leads, and goes on leading
        assert postgres.terminate("caucus-bot leader") == 1
        reason = await asyncio.wait_for(lost, 5)
        assert reason.startswith("the connection that holds the leader lock failed")
        assert not leader.leading
        assert await lead_within(standby, 5)
    finally:
        leader.release()
        standby.release()


@on_postgresql
async def test_a_database_that_cannot_be_reached_stops_the_start():
    lock = AdvisoryLock("postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    try:
        with pytest.raises(OperationalError, match="Connection refused"):
            await asyncio.wait_for(lock.lead(), 20)
    finally:
        lock.release()
