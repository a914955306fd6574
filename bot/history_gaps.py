"""When a network last answered the bot, so that a gap in what reached it is seen.

Telegram keeps a bot's undelivered updates for about a day: after a longer
outage (the bot stopped, or Telegram unreachable), what was sent before then is
gone. Each adapter keeps its last contact in the resume points (``storage.inbound``)
and, when a gap is seen, calls its ``on_history_lost``; the service has the
affected pairs told (``handlers/history_notice.py``), never a silent gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import inbound
from storage.database import Database

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

    def touch(self, now: datetime) -> datetime | None:
        """Contact now; returns the contact before it (when the silence began)."""
        before, self.at = self.at, now
        if self._written is None or now - self._written >= WRITE_EVERY or \
                before is None or now - before >= WRITE_EVERY:
            with self.database.session() as db:
                inbound.set_resume(db, self.name, now.isoformat())
                db.commit()
            self._written = now
        return before
