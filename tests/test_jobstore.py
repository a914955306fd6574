"""The job store's batch: jobs written together at the end of the block, none lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.jobstore import JobStore
from storage.database import Database

LATER = datetime.now(UTC) + timedelta(days=1)


async def noop(_n: int) -> None:
    """A job's function: it must be importable by path, as stored jobs name it."""


@pytest.fixture
async def store(database_url: str):
    store = JobStore(engine=Database(database_url).engine)
    scheduler = AsyncIOScheduler(jobstores={"default": store})
    scheduler.start(paused=True)
    yield scheduler, store
    scheduler.shutdown(wait=False)


def add(scheduler: AsyncIOScheduler, job_id: str, when: datetime = LATER) -> None:
    scheduler.add_job(noop, DateTrigger(run_date=when), id=job_id, args=[1],
                      replace_existing=True)


def stored(store: JobStore) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in store.get_all_jobs()}


async def test_batched_jobs_are_written_when_the_block_ends(store):
    scheduler, jobs = store
    with jobs.batch():
        for n in range(50):
            add(scheduler, f"job{n}")
        assert stored(jobs) == {}  # not yet: one transaction at the end
    assert sorted(stored(jobs)) == sorted(f"job{n}" for n in range(50))


async def test_outside_a_batch_each_job_is_written_at_once(store):
    scheduler, jobs = store
    add(scheduler, "alone")
    assert list(stored(jobs)) == ["alone"]


async def test_jobs_added_before_a_failure_in_the_block_are_still_written(store):
    scheduler, jobs = store
    with pytest.raises(RuntimeError), jobs.batch():
        add(scheduler, "kept")
        raise RuntimeError("the caller broke")
    assert list(stored(jobs)) == ["kept"]


async def test_a_taken_id_in_a_batch_is_replaced_not_lost(store):
    scheduler, jobs = store
    add(scheduler, "taken")  # written at once
    moved = LATER + timedelta(hours=5)
    with jobs.batch():
        add(scheduler, "fresh")
        add(scheduler, "taken", moved)  # the batch cannot see the conflict until it writes
    assert stored(jobs) == {"fresh": LATER, "taken": moved}
