"""The scheduler over a real SQLite file, with real APScheduler and offsets of seconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.dispatcher import utcnow
from bot.scheduler import DIGEST_JOB, ReminderScheduler
from storage.calendar import HrcSession
from storage.outbox import OutboxMessage
from storage.reminders import Reminder
from tests.harness import FakeBot, Network

ROOM = "telegram:-5"


@pytest.fixture
def bot(tmp_path: Path) -> FakeBot:  # one network is enough: no chat involved
    fake = FakeBot(tmp_path, Network("telegram"))
    yield fake  # type: ignore[misc]
    fake.close()


def add_reminder(bot: FakeBot, key: str, due: datetime, text: str = "Read the draft") -> None:
    with bot.database.session() as db:
        db.add(Reminder(key=key, kind="remind", due_at=due, targets=f"{ROOM} matrix:!r:x",
                        text=text, created_by="Ana"))
        db.commit()


def delivered(bot: FakeBot, key: str) -> list[OutboxMessage]:
    with bot.database.session() as db:
        return [r for r in db.exec(select(OutboxMessage)) if (r.dedupe_key or "").startswith(key)]


def status(bot: FakeBot, key: str) -> str:
    with bot.database.session() as db:
        row = db.get(Reminder, key)
        assert row is not None
        return row.status


def scheduler(bot: FakeBot) -> ReminderScheduler:
    return ReminderScheduler(bot.database, bot.config, clock=utcnow)


async def wait_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - utcnow()).total_seconds()))


async def test_fires_while_running_exactly_once_per_room(bot: FakeBot):
    due = utcnow() + timedelta(seconds=1)
    add_reminder(bot, "remind:a", due)
    s = scheduler(bot)
    await s.start()
    try:
        await wait_until(due + timedelta(seconds=1.5))
    finally:
        s.stop()
    rows = delivered(bot, "remind:a")
    assert sorted(r.room_id for r in rows) == ["matrix:!r:x", ROOM]
    assert status(bot, "remind:a") == "sent"


async def test_restart_across_the_due_time_delivers_exactly_once(bot: FakeBot):
    due = utcnow() + timedelta(seconds=1.5)
    add_reminder(bot, "remind:b", due)
    first = scheduler(bot)
    await first.start()
    first.stop()  # the bot goes down before the reminder is due
    await wait_until(due + timedelta(seconds=0.5))
    second = scheduler(bot)
    await second.start()  # within grace_hours: fires once on start
    await asyncio.sleep(1.0)  # let the persisted job (now misfired) run too, if it would
    second.stop()
    third = scheduler(bot)
    await third.start()
    await asyncio.sleep(0.3)
    third.stop()
    assert len(delivered(bot, "remind:b")) == 2  # one per room, not per start
    assert status(bot, "remind:b") == "sent"


async def test_restart_after_it_fired_sends_nothing_more(bot: FakeBot):
    due = utcnow() + timedelta(seconds=0.8)
    add_reminder(bot, "remind:c", due)
    s = scheduler(bot)
    await s.start()
    await wait_until(due + timedelta(seconds=1))
    s.stop()
    again = scheduler(bot)
    await again.start()
    await asyncio.sleep(0.3)
    again.stop()
    assert len(delivered(bot, "remind:c")) == 2


async def test_too_late_is_recorded_as_missed_and_listed(bot: FakeBot):
    add_reminder(bot, "remind:d", utcnow() - timedelta(hours=7))
    add_reminder(bot, "remind:e", utcnow() - timedelta(hours=5))
    s = scheduler(bot)
    await s.start()
    s.stop()
    assert status(bot, "remind:d") == "missed" and delivered(bot, "remind:d") == []
    assert status(bot, "remind:e") == "sent" and len(delivered(bot, "remind:e")) == 2
    bot.now = utcnow()
    listing = await bot.say("/reminders")
    assert "Missed while the bot was down:" in listing and "remind" in listing


async def test_jobs_follow_the_rows(bot: FakeBot):
    with bot.database.session() as db:
        db.add(HrcSession(code="HRC64", kind="hrc", title="Council", start=date(2027, 2, 22),
                          end=date(2027, 4, 2)))
        db.commit()
    s = scheduler(bot)
    await s.start()
    try:
        jobs = {j.id for j in s.scheduler.get_jobs()}
        assert DIGEST_JOB in jobs
        assert "session:HRC64:30d:202701230900" in jobs
        bot.dispatcher.after_commit.append(s.after_commit)
        bot.now = utcnow()
        await bot.send("/session edit HRC64 start=2027-03-01 end=2027-04-09", user=bot.admin)
        jobs = {j.id for j in s.scheduler.get_jobs()}
        assert "session:HRC64:30d:202701230900" not in jobs
        assert "session:HRC64:30d:202701300900" in jobs
        job = s.scheduler.get_job("session:HRC64:30d:202701300900")
        assert job.next_run_time == datetime(2027, 1, 30, 8, 0, tzinfo=UTC)
    finally:
        s.stop()


async def test_stale_digest_goes_to_secure_rooms_once_a_day(bot: FakeBot):
    bot.now = utcnow() - timedelta(days=5)
    await bot.send("/flag Egypt | nobody followed this up")
    s = scheduler(bot)
    assert s.fire_digest() == 2  # both sides of the secure pair
    assert s.fire_digest() == 0
    with bot.database.session() as db:
        rooms = sorted(r.room_id for r in db.exec(select(OutboxMessage)))
    assert rooms == ["matrix:!secure:example.org", "telegram:-9"]
