"""When a network last answered the bot, so that a gap in what reached it is seen.

Telegram keeps a bot's undelivered updates for about a day: after a longer
outage (the bot stopped, or Telegram unreachable), what was sent before then is
gone. Each adapter keeps its last contact in the resume points (``storage.inbound``)
and, when a gap is seen, calls its ``on_history_lost``; the service has the
affected pairs told (``handlers/history_notice.py``), never a silent gap.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from storage import inbound
from storage.database import Database

log = logging.getLogger(__name__)
# How long Telegram keeps an update the bot has not fetched.
TELEGRAM_KEEPS = timedelta(hours=24)
# The last contact is written at most this often: a day's gap does not need seconds.
WRITE_EVERY = timedelta(minutes=1)


class LastContact:
    """When the network last answered, kept in the resume points as ``name``."""

    def __init__(self, database: Database, name: str):
        self.database = database
        self.name = name
        self.at: datetime | None = None
        self._written: datetime | None = None

    def load(self) -> None:
        with self.database.session() as db:
            stored = inbound.get_resume(db, self.name)
        self.at = self._written = datetime.fromisoformat(stored) if stored else None

    def touch(self, now: datetime) -> None:
        """Contact now. Written when it is news (a minute since the last write, or after a
        silence); a database that cannot take it now is tried again at the next touch."""
        before, self.at = self.at, now
        if self._written is not None and now - self._written < WRITE_EVERY and \
                before is not None and now - before < WRITE_EVERY:
            return
        try:
            with self.database.session() as db:
                inbound.set_resume(db, self.name, now.isoformat())
                db.commit()
        except SQLAlchemyError as exc:
            log.warning("could not store %s (%s); trying again later", self.name,
                        type(exc).__name__)
            return
        self._written = now
