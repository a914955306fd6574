"""The scheduler with 10,000 pending reminders: load time at start, and firing lateness."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, func, select

from bench.stats import percentile
from bot.config import parse_config
from bot.dispatcher import utcnow
from bot.scheduler import ReminderScheduler
from handlers import features
from storage.database import Database
from storage.reminders import Reminder


def run(folder: Path, *, jobs: int = 10_000, firing: int = 200) -> dict:
    return asyncio.run(_run(folder, jobs, firing))


async def _run(folder: Path, jobs: int, firing: int) -> dict:
    database = Database(f"sqlite:///{folder / 'scheduler.db'}")
    database.upgrade()
    config = parse_config({"rooms": [{"name": "Caucus", "telegram_chat_id": -5}]})
    now = utcnow()
    with database.engine.begin() as conn:
        conn.execute(insert(Reminder), [
            # All due within the scheduler's 48-hour horizon, so that all are jobs.
            {"key": f"remind:bench{n}", "kind": "remind",
             "due_at": now + timedelta(hours=1, seconds=15 * n),
             "targets": "telegram:-5", "text": f"reminder {n}", "status": "pending"}
            for n in range(jobs)])
    first = ReminderScheduler(database, config, features())
    t0 = time.perf_counter()
    await first.start()  # creates 10,000 jobs in the job store
    first_start = time.perf_counter() - t0
    in_store = len(first.scheduler.get_jobs())
    # Firing lateness: reminders due over the next few seconds, while 10,000 wait.
    base = utcnow() + timedelta(seconds=2)
    with database.session() as db:
        for n in range(firing):
            db.add(Reminder(key=f"remind:soon{n}", kind="remind",
                            due_at=base + timedelta(milliseconds=15 * n),
                            targets="telegram:-5", text="soon"))
        db.commit()
    first.sync_jobs()
    deadline = time.monotonic() + 2 + firing * 0.015 + 10
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        with database.session() as db:
            done = db.exec(select(func.count()).where(col(Reminder.key).startswith("remind:soon"))
                           .where(Reminder.status == "sent")).one()
        if done == firing:
            break
    first.stop()
    again = ReminderScheduler(database, config, features())
    t0 = time.perf_counter()
    await again.start()  # a restart: jobs are loaded from the store and checked
    restart = time.perf_counter() - t0
    again.stop()
    with database.session() as db:
        late = []
        for n in range(firing):
            row = db.get(Reminder, f"remind:soon{n}")
            assert row is not None
            if row.fired_at is not None:
                late.append((row.fired_at - row.due_at).total_seconds() * 1000)
    database.dispose()
    return {"jobs": jobs, "jobs_in_store": in_store, "first_start_s": round(first_start, 2),
            "restart_load_s": round(restart, 2), "fired": len(late), "of": firing,
            "lateness_p50_ms": round(percentile(late, 50), 1),
            "lateness_p95_ms": round(percentile(late, 95), 1)}
