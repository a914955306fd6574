"""The scheduler over a real SQLite file, with real APScheduler and offsets of seconds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import event
from sqlmodel import select

from bot import deliveries
from bot.dispatcher import utcnow
from bot.replies import Reply
from bot.scheduler import DIGEST_JOB, REFILL_JOB, RETENTION_JOB, ReminderScheduler
from handlers import features
from storage import outbox
from storage.calendar import HrcSession
from storage.models import AuditEntry
from storage.outbox import OutboxMessage
from storage.reminders import Reminder
from tests.harness import FakeBot, Network

ROOM = "telegram:-5"


@pytest.fixture
def bot(tmp_path: Path, database_url: str) -> FakeBot:  # one network: no chat involved
    fake = FakeBot(tmp_path, Network("telegram"), database_url=database_url)
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
    return ReminderScheduler(bot.database, bot.config, features(), clock=utcnow)


async def wait_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - utcnow()).total_seconds()))


async def delivered_to(bot: FakeBot, key: str, rooms: int, seconds: float = 20) -> None:
    """Wait until ``key`` reached ``rooms`` rooms: on a loaded machine firing can be late,
    and lateness is not what these tests are about (exactly once is)."""
    for _ in range(int(seconds * 10)):
        if len(delivered(bot, key)) >= rooms:
            return
        await asyncio.sleep(0.1)


async def test_fires_while_running_exactly_once_per_room(bot: FakeBot):
    due = utcnow() + timedelta(seconds=1)
    add_reminder(bot, "remind:a", due)
    s = scheduler(bot)
    await s.start()
    try:
        await wait_until(due)
        await delivered_to(bot, "remind:a", 2)
        await asyncio.sleep(0.5)  # a second firing, if there were one, would show now
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


async def test_jobs_follow_the_rows_within_the_horizon(bot: FakeBot):
    soon = utcnow() + timedelta(days=1)
    start = (soon + timedelta(days=1)).date()  # a session whose "1 day before" is tomorrow
    with bot.database.session() as db:
        db.add(HrcSession(code="HRC64", kind="hrc", title="Council", start=start,
                          end=start + timedelta(days=30)))
        db.commit()
    s = scheduler(bot)
    await s.start()
    try:
        jobs = {j.id for j in s.scheduler.get_jobs()}
        assert {DIGEST_JOB, REFILL_JOB} <= jobs
        day_before = next(j for j in jobs if j.startswith("session:HRC64:1d:"))
        assert not any(j.startswith("session:HRC64:30d:") for j in jobs)  # beyond 48 h
        with bot.database.session() as db:
            far = db.exec(select(Reminder).where(Reminder.key.startswith(  # type: ignore[attr-defined]
                "session:HRC64:30d:"))).all()
        assert [r.status for r in far] in ([], ["pending"])  # waits as a row, not a job
        bot.dispatcher.after_commit.append(s.after_commit)
        bot.now = utcnow()
        moved = start + timedelta(days=1)
        await bot.send(f"/session edit HRC64 start={moved} end={moved + timedelta(days=30)}",
                       user=bot.admin)
        jobs = {j.id for j in s.scheduler.get_jobs()}
        assert day_before not in jobs  # the stale one is gone
        with bot.database.session() as db:
            row = db.exec(select(Reminder).where(Reminder.key.startswith(  # type: ignore[attr-defined]
                "session:HRC64:1d:")).where(Reminder.status == "pending")).one()
        assert row.due_at.astimezone(bot.config.bot.tz).date() == moved - timedelta(days=1)
        # Two days on at send time is inside the 48-hour horizon or just past it,
        # depending on the hour the test runs: a job exactly when it is inside.
        job = s.scheduler.get_job(row.key)
        inside = row.due_at - utcnow() <= timedelta(hours=48)
        assert (job is not None) == inside
        if job is not None:
            assert job.next_run_time == row.due_at
    finally:
        s.stop()


async def test_the_hourly_refill_brings_rows_into_the_horizon(bot: FakeBot):
    add_reminder(bot, "remind:later", utcnow() + timedelta(hours=49))
    s = scheduler(bot)
    await s.start()
    try:
        assert s.scheduler.get_job("remind:later") is None
        s.clock = lambda: utcnow() + timedelta(hours=2)  # two hours on
        s.sync_jobs()  # what the hourly refill job runs
        assert s.scheduler.get_job("remind:later") is not None
    finally:
        s.stop()


async def test_stale_digest_goes_to_secure_rooms_once_a_day(bot: FakeBot):
    bot.now = utcnow() - timedelta(days=5)
    await bot.send("/flag Egypt | nobody followed this up")
    s = scheduler(bot)
    assert s.fire_digest() == 2  # the secure room on each network
    assert s.fire_digest() == 0
    with bot.database.session() as db:
        rooms = sorted(r.room_id for r in db.exec(select(OutboxMessage)))
    assert rooms == ["matrix:!secure:example.org", "telegram:-9"]


async def test_the_stale_digest_shows_a_confidential_case_only_as_its_number(bot: FakeBot):
    """Every member of a secure room reads the digest, not only the secretariat."""
    bot.now = utcnow() - timedelta(days=5)
    await bot.send("/flag Egypt | Lawyer Ahmed Saleh held incommunicado --confidential")
    await bot.send("/flag Egypt | Journalist summoned")
    s = scheduler(bot)
    assert s.fire_digest() == 2
    with bot.database.session() as db:
        digests = [Reply.from_json(r.payload).plain() for r in db.exec(select(OutboxMessage))]
    for digest in digests:
        assert "#1 (confidential)" in digest and "Journalist summoned" in digest
        assert "Ahmed" not in digest and "incommunicado" not in digest


async def test_the_daily_retention_job_drops_old_delivered_text(bot: FakeBot):
    long_ago = utcnow() - timedelta(days=8)
    with bot.database.session() as db:
        old = deliveries.enqueue(db, ROOM, Reply.text("Omar Ry was arrested"), now=long_ago)
        recent = deliveries.enqueue(db, ROOM, Reply.text("Omar Ry was released"), now=utcnow())
        assert old is not None and recent is not None
        outbox.mark_sent(db, old, "41", long_ago)
        outbox.mark_sent(db, recent, "42", utcnow())
        db.commit()
    s = scheduler(bot)
    await s.start()
    try:
        job = s.scheduler.get_job(RETENTION_JOB)
        assert job is not None and job.func == s.fire_retention
        job.func()  # what the job runs, at 03:00 bot time
    finally:
        s.stop()
    with bot.database.session() as db:
        texts = {r.sent_message_id: r.payload for r in db.exec(select(OutboxMessage))}
        trail = [e.detail for e in db.exec(select(AuditEntry))]
    assert "Omar" not in texts["41"] and "Omar Ry was released" in texts["42"]
    assert trail == ["retention: dropped text of 1 delivered message; purged details of 0 "
                     "closed cases"]


async def test_many_reminders_are_scheduled_in_one_transaction_and_fire(bot: FakeBot):
    """10,000 reminders inside the horizon took 3.7 s to schedule, a commit each, and the
    scheduler looked for due jobs after every one; now they go in together."""
    soon = utcnow() + timedelta(seconds=1)
    with bot.database.session() as db:
        for n in range(300):
            db.add(Reminder(key=f"remind:many{n}", kind="remind",
                            due_at=soon + timedelta(minutes=n), targets=ROOM, text=f"n{n}"))
        db.commit()
    s = scheduler(bot)
    commits: list[int] = []
    event.listen(s.store.engine, "commit", lambda _conn: commits.append(1))
    await s.start()
    try:
        stored = {j.id for j in s.store.get_all_jobs()}
        assert {f"remind:many{n}" for n in range(300)} <= stored
        assert s.scheduler.state == STATE_RUNNING  # paused for the batch, running again
        # One commit for the 300, two for the digest and refill jobs (added one by one),
        # and the scheduler's few own reads.
        assert len(commits) < 20
        await wait_until(soon + timedelta(seconds=1.5))
        assert status(bot, "remind:many0") == "sent"
        assert status(bot, "remind:many1") == "pending"
    finally:
        s.stop()


async def test_two_schedulers_in_one_process_each_fire_their_own(bot: FakeBot, tmp_path: Path):
    """No module-level "current scheduler": the one started last used to take every job."""
    other = FakeBot(tmp_path / "other", Network("telegram"))
    try:
        due = utcnow() + timedelta(seconds=1)
        add_reminder(bot, "remind:mine", due)
        add_reminder(other, "remind:theirs", due)
        first, second = scheduler(bot), scheduler(other)
        await first.start()
        await second.start()
        try:
            await wait_until(due + timedelta(seconds=1.5))
        finally:
            first.stop()
            second.stop()
        assert status(bot, "remind:mine") == "sent" and len(delivered(bot, "remind:mine")) == 2
        assert status(other, "remind:theirs") == "sent"
    finally:
        other.close()


async def test_the_monthly_indicators_digest_goes_once_a_month_to_rooms_that_asked(bot: FakeBot):
    s = scheduler(bot)
    assert s.fire_monthly() == 0  # nobody asked: nothing sent, and the month is done
    with bot.database.session() as db:
        db.delete(db.get(Reminder, f"indicators:{utcnow().astimezone(bot.config.bot.tz):%Y-%m}"))
        db.commit()
    await bot.send("/indicators monthly on", user=bot.admin)
    assert s.fire_monthly() == 2  # both sides of the bridged pair
    assert s.fire_monthly() == 0
    with bot.database.session() as db:
        sent = list(db.exec(select(OutboxMessage)))
    assert sorted(r.room_id for r in sent) == ["matrix:!ordinary:example.org", "telegram:-5"]
    digest = Reply.from_json(sent[0].payload)
    assert digest.plain().startswith("Indicators, ") and digest.file is not None
    assert digest.file.mime == "image/png"
