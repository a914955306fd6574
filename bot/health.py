"""Whether this process is fit to serve, as ``/healthz`` answers it, and what ``/metrics``
reads: the runner keeps one of these for the life of the process, leader or standby.

Healthy means: the database answers, and (while this process leads) every configured
network answered a poll or sync within the last minute. A standby is healthy when its
database answers: it is ready to take over, and says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import text

from bot import metrics
from bot.adapter import NetworkAdapter
from bot.config import Config
from bot.dispatcher import utcnow
from bot.leadership import Leadership
from storage.database import Database

STALE_SECONDS = 60.0  # a network silent for longer makes the bot unhealthy
DATABASE_TIMEOUT = 5.0


class Health:
    def __init__(self, config: Config, leadership: Leadership, *,
                 clock: Callable[[], datetime] = utcnow):
        self.config = config
        self.leadership = leadership
        # A handle of its own, so that a standby (which has no service) can be checked too.
        self.database = Database(config.bot.database_url)
        self.adapters: list[NetworkAdapter] = []  # the serving adapters, set by the runner
        self.registry: CollectorRegistry = metrics.registry(metrics.StateCollector(
            config, self.database, leading=lambda: leadership.leading,
            last_contact=self.last_contact, now=clock, monotonic=time.monotonic))

    def networks(self) -> list[str]:
        return [name for name in ("telegram", "matrix") if getattr(self.config, name)]

    def last_contact(self) -> dict[str, float | None]:
        """When each configured network last answered (``time.monotonic()``), if it has."""
        heard = {adapter.platform: adapter.last_contact for adapter in self.adapters}
        return {name: heard.get(name) for name in self.networks()}

    async def check(self) -> tuple[bool, list[str]]:
        """(healthy, one line per part: what is right or what is wrong)."""
        lines: list[str] = []
        try:
            await asyncio.wait_for(asyncio.to_thread(self._ping), DATABASE_TIMEOUT)
            healthy = True
            lines.append("database: answers")
        except Exception as exc:  # any failure to answer is the finding, never a crash
            healthy = False
            lines.append(f"database: does not answer ({type(exc).__name__})")
        if not self.leadership.leading:
            lines.append("standby: another caucus-bot serves; this one takes over when it stops")
            return healthy, lines
        now = time.monotonic()
        for network, at in self.last_contact().items():
            verb = "synced" if network == "matrix" else "polled"
            if at is None:
                healthy = False
                lines.append(f"{network}: not {verb} yet")
            elif now - at > STALE_SECONDS:
                healthy = False
                lines.append(f"{network}: last {verb} {now - at:.0f} s ago (more than "
                             f"{STALE_SECONDS:.0f} s)")
            else:
                lines.append(f"{network}: {verb} {now - at:.0f} s ago")
        return healthy, lines

    async def metrics(self) -> bytes:
        """The Prometheus text format; read on a thread, since it queries the database."""
        return await asyncio.to_thread(generate_latest, self.registry)

    def _ping(self) -> None:
        with self.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self.database.dispose()
