"""Scheduled reminders: APScheduler 3 on asyncio, its job store in the bot's database.

Reminder rows (``storage.reminders``) say what is due where; this module keeps
one APScheduler job per pending row (job id = row key), fires it by queueing
its messages in the outbox and marking the row sent in one transaction, and
deals with what came due while the bot was down: within ``grace_hours`` it
fires once on start, later it is recorded as missed. Never twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import deliveries
from bot.config import Config
from bot.dispatcher import Clock, utcnow
from bot.features import Features
from bot.jobstore import JobStore
from bot.rooms import Rooms
from storage import reminders
from storage.database import Database
from storage.reminders import Reminder
from storage.retention import RetentionResult, apply_retention

log = logging.getLogger(__name__)
DIGEST_JOB = "digest:stale-cases"
MONTHLY_JOB = "digest:indicators-monthly"
REFILL_JOB = "plan:horizon"
RETENTION_JOB = "privacy:retention"
OWN_JOBS = {DIGEST_JOB, MONTHLY_JOB, REFILL_JOB, RETENTION_JOB}
MEMORY = "memory"  # the store of the bot's own jobs, added again at each start
# Retention runs at night, bot time, away from the hours people chat.
RETENTION_HOUR = 3
# Only reminders due within this horizon are jobs in APScheduler's store; an hourly
# job tops it up. Thousands of far-off jobs would make every restart (which reads them
# all) heavier, for no gain.
HORIZON = timedelta(hours=48)


async def run_reminder(key: str) -> None:
    """What a reminder's job runs: nothing itself.

    A job in a persistent store can name only a module-level function, which would
    need a global to find the running scheduler; instead the scheduler that owns the
    store hears the job's submission and fires the reminder it names
    (``ReminderScheduler._on_due``). The bot's own jobs, added again at each start,
    live in memory and run bound methods.
    """


class ReminderScheduler:
    def __init__(self, database: Database, config: Config, features: Features, *,
                 clock: Clock = utcnow, wake_outbox: Callable[[], None] | None = None):
        self.database = database
        self.config = config
        self.features = features
        self.clock = clock
        self.wake_outbox = wake_outbox or (lambda: None)
        self.grace = reminders.grace_window(config.reminders.grace_hours)
        # Its own engine on the same database: APScheduler disposes the engine it
        # was given when it shuts down, and the bot's own must outlive it.
        self.store = JobStore(engine=Database(database.url).engine)
        self.scheduler = AsyncIOScheduler(
            timezone=config.bot.tz,
            jobstores={"default": self.store, MEMORY: MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(1, int(self.grace.total_seconds()))})
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._on_due, EVENT_JOB_SUBMITTED)

    async def start(self) -> None:
        now = self.clock()
        with self.database.session() as db:
            self.features.replan(db, self.config, now)
            db.commit()
        self.catch_up(now)
        self.scheduler.start()
        for job_id in OWN_JOBS:  # kept in the database by versions before 2026-11
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id, jobstore="default")
        self.sync_jobs()
        send, tz = self.config.reminders.send_time, self.config.bot.tz
        own = {"jobstore": MEMORY, "replace_existing": True}
        self.scheduler.add_job(self.fire_digest, CronTrigger(hour=send.hour, minute=send.minute,
                                                             timezone=tz), id=DIGEST_JOB, **own)
        # The indicators digest: the first of the month, at the reminder hour.
        self.scheduler.add_job(self.fire_monthly, CronTrigger(day=1, hour=send.hour,
                                                              minute=send.minute, timezone=tz),
                               id=MONTHLY_JOB, **own)
        self.scheduler.add_job(self.sync_jobs, IntervalTrigger(hours=1), id=REFILL_JOB, **own)
        self.scheduler.add_job(self.fire_retention, CronTrigger(hour=RETENTION_HOUR, timezone=tz),
                               id=RETENTION_JOB, **own)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def catch_up(self, now: datetime) -> None:
        """What came due while the bot was down: fire once if recent, else record it missed."""
        with self.database.session() as db:
            late = reminders.overdue(db, now)
        for row in late:
            if now - row.due_at <= self.grace:
                self.fire(row.key)
            else:
                self._mark_missed(row.key)

    def sync_jobs(self) -> None:
        """One job per pending row due within the horizon, and no job without one."""
        now = self.clock()
        with self.database.session() as db:
            rows = {r.key: r for r in reminders.pending(db, after=now, before=now + HORIZON)}
        jobs = {job.id for job in self.scheduler.get_jobs() if job.id not in OWN_JOBS}
        new = [row for key, row in rows.items() if key not in jobs]
        if new:
            # One transaction for them all, and one wake-up: the scheduler otherwise
            # looks for due jobs (two queries) after every job added.
            running = self.scheduler.state == STATE_RUNNING
            if running:
                self.scheduler.pause()
            try:
                with self.store.batch():
                    for row in new:
                        self.scheduler.add_job(run_reminder, DateTrigger(run_date=row.due_at),
                                               id=row.key, args=[row.key],
                                               replace_existing=True)
            finally:
                if running:
                    self.scheduler.resume()
        for key in jobs - rows.keys():
            self.scheduler.remove_job(key)

    def after_commit(self, changes: frozenset[str]) -> None:
        if "schedule" in changes:
            self.sync_jobs()

    def fire(self, key: str) -> int:
        """Queue a reminder's messages and mark it sent, in one transaction; 0 if done before."""
        now = self.clock()
        with self.database.session() as db:
            row = db.get(Reminder, key)
            if row is None or row.status != reminders.PENDING:
                return 0
            reply = self.features.render_reminder(db, row, self.config, now)
            queued = 0
            if reply is not None:
                for room_id in row.rooms:
                    if deliveries.enqueue(db, room_id, reply, now=now,
                                      dedupe_key=f"{key}@{room_id}") is not None:
                        queued += 1
            row.status = reminders.SENT if reply is not None else reminders.CANCELLED
            row.fired_at = now
            db.add(row)
            db.commit()
        if queued:
            self.wake_outbox()
        log.info("reminder %s fired to %d room(s)", key, queued)
        return queued

    def fire_digest(self) -> int:
        now = self.clock()
        key = f"digest:{now.astimezone(self.config.bot.tz):%Y-%m-%d}"
        with self.database.session() as db:
            secure = [i for room in Rooms.read(self.config, db).all if room.secure
                      for i in room.ids]
            if db.get(Reminder, key) is not None or not secure:
                return 0
            digest = self.features.stale_digest(db, now, self.config.cases.stale_days)
            db.add(Reminder(key=key, kind="digest", due_at=now, targets=" ".join(secure),
                            status=reminders.SENT, fired_at=now))
            queued = 0
            if digest is not None:
                for room_id in secure:
                    deliveries.enqueue(db, room_id, digest, now=now, dedupe_key=f"{key}@{room_id}")
                    queued += 1
            db.commit()
        if queued:
            self.wake_outbox()
        return queued

    def fire_monthly(self) -> int:
        """The monthly indicators digest to the rooms that asked for it; once a month."""
        now = self.clock()
        key = f"indicators:{now.astimezone(self.config.bot.tz):%Y-%m}"
        with self.database.session() as db:
            if db.get(Reminder, key) is not None:
                return 0
            messages = self.features.monthly_indicators(db, self.config, now)
            db.add(Reminder(key=key, kind="indicators", due_at=now,
                            targets=" ".join(room for room, _ in messages),
                            status=reminders.SENT, fired_at=now))
            for room_id, reply in messages:
                deliveries.enqueue(db, room_id, reply, now=now, dedupe_key=f"{key}@{room_id}")
            db.commit()
        if messages:
            self.wake_outbox()
        return len(messages)

    def fire_retention(self) -> RetentionResult:
        """Delete old delivered messages, inbound records and links, drop closed cases'
        details ([privacy]); counts audited. Deletions commit batch by batch."""
        privacy = self.config.privacy
        with self.database.session() as db:
            result = apply_retention(db, now=self.clock(), relay_days=privacy.relay_retention_days,
                                     closed_case_days=privacy.closed_case_retention_days,
                                     web_signer_days=privacy.web_signer_retention_days,
                                     link_days=privacy.link_retention_days)
            db.commit()
        log.info("%s", result.summary())
        return result

    def _on_due(self, event: JobSubmissionEvent) -> None:
        if event.job_id not in OWN_JOBS:
            self.fire(event.job_id)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if event.job_id not in OWN_JOBS:
            self._mark_missed(event.job_id)

    def _mark_missed(self, key: str) -> None:
        with self.database.session() as db:
            row = db.get(Reminder, key)
            if row is not None and row.status == reminders.PENDING:
                row.status, row.fired_at = reminders.MISSED, None
                db.add(row)
                db.commit()
                log.warning("reminder %s was due %s while the bot was down; recorded as missed",
                            key, row.due_at.isoformat())
