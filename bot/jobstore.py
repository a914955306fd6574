"""APScheduler's SQLAlchemy job store, able to take many new jobs in one transaction.

The stock store writes each added job in a transaction of its own, with a statement
built for it: 10,000 reminders due within the horizon took 3.7 s to schedule at a first
start, most of it commits. Inside :meth:`JobStore.batch` the jobs are kept and written
together when the block ends, in one transaction with one prebuilt statement.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy.exc import IntegrityError

from storage.database import upsert


class JobStore(SQLAlchemyJobStore):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._batch: list[dict[str, Any]] | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Jobs added in the block are written when it ends, together.

        The block must not yield to the event loop: until it ends the scheduler believes
        in jobs the store does not have yet. They are written even if the block fails,
        since the scheduler was told they were added.
        """
        self._batch = []
        try:
            yield
        finally:
            rows, self._batch = self._batch, None
            if rows:
                self._write(rows)

    def add_job(self, job: Job) -> None:
        if self._batch is None:
            super().add_job(job)
            return
        self._batch.append({
            "id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)})

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(self.jobs_t.insert(), rows)
        except IntegrityError:
            # A job id taken meanwhile (the batch asked only for new ones): the newer
            # job replaces it, as add_job(replace_existing=True) would have done.
            with self.engine.begin() as connection:
                for row in rows:
                    upsert(connection, self.jobs_t, "id", row)
