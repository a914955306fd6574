"""The running bot: storage, dispatcher, outbox, scheduler, the network adapters, and the
sign-on pages when ``[web]`` is configured. (``bot.runner`` decides when it may run:
signals, leadership, the health server.)

Each part has ``start()``/``stop()``; the service starts them in dependency
order and stops them in reverse, so a stop never leaves a half-sent message
unrecorded (rows stay pending and the next start resumes them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import handlers
from bot import metrics
from bot.adapter import NetworkAdapter
from bot.config import Config
from bot.dispatcher import Clock, Dispatcher, utcnow
from bot.features import HistoryGap
from bot.inbound import Inbound
from bot.outbox import OutboxWorker
from bot.rooms import PairCheck, check_pairs
from bot.scheduler import ReminderScheduler
from bot.startup import prepare
from storage.ids import RoomId, platform_of

if TYPE_CHECKING:
    from bot.web.app import WebServer

log = logging.getLogger(__name__)


class Service:
    def __init__(self, config: Config, *, clock: Clock = utcnow, poll_timeout: int = 30,
                 outbox_poll_seconds: float = 5.0):
        self.config = config
        self.clock = clock
        features = self.features = handlers.features()
        self.database = prepare(config, features)
        self.dispatcher = Dispatcher(config=config, registry=features.registry,
                                     database=self.database, clock=clock)
        self.adapters: list[NetworkAdapter] = []
        self.outbox = OutboxWorker(self.database, {}, clock, poll_seconds=outbox_poll_seconds)
        self.inbound = Inbound(self.dispatcher, self.database, clock, self.outbox.wake)
        self.scheduler = ReminderScheduler(self.database, config, features, clock=clock,
                                           wake_outbox=self.outbox.wake)
        self.dispatcher.after_commit += [lambda changes: self.outbox.wake(),
                                         self.scheduler.after_commit]
        self.dispatcher.on_outcome.append(metrics.count_command)
        self.stopped = asyncio.Event()
        self.fatal: str | None = None
        self._report: asyncio.Task[None] | None = None
        if config.telegram is not None:
            from bot.telegram import TelegramAdapter

            self.adapters.append(TelegramAdapter(
                config.telegram, config, database=self.database, dispatcher=self.dispatcher,
                inbound_handler=self.inbound, clock=clock, poll_timeout=poll_timeout))
        if config.matrix is not None:
            from bot.matrix import MatrixAdapter

            self.adapters.append(MatrixAdapter(
                config.matrix, config, database=self.database, dispatcher=self.dispatcher,
                inbound_handler=self.inbound, clock=clock, sync_timeout_ms=poll_timeout * 1000))
        by_platform = {adapter.platform: adapter for adapter in self.adapters}
        self.dispatcher.can_delete = lambda room_id: (
            platform_of(room_id) in by_platform
            and by_platform[platform_of(room_id)].can_delete(room_id))
        self.web: WebServer | None = None
        if config.web is not None:
            from bot.web.app import WebServer

            self.web = WebServer(config, self.database, features, clock=clock,
                                 on_queued=self.outbox.wake)
        for adapter in self.adapters:
            self.outbox.senders[adapter.platform] = adapter.send
            self.outbox.fetchers[adapter.platform] = adapter.fetch_file
            adapter.on_fatal = self._fatal
            adapter.on_recovered = partial(self.outbox.retry_now, adapter.platform)
            adapter.on_history_lost = self._history_lost

    def _history_lost(self, platform: str, start: datetime | None, end: datetime,
                      room: RoomId | None) -> None:
        """Messages of one network that will never reach the bot: each pair is told."""
        with self.database.session() as db:
            told = self.features.history_lost(db, self.dispatcher.rooms.current,
                                              HistoryGap(platform, start, end, room),
                                              self.config, self.clock())
            db.commit()
        if told:
            self.outbox.wake(*told)

    def _fatal(self, reason: str) -> None:
        self.fatal = reason
        self.stopped.set()

    async def start(self) -> None:
        # The networks side by side: each start is a few round trips (Telegram's getMe and
        # webhook; Matrix's login, keys and display name), a second or more on a slow link.
        await _together([adapter.start() for adapter in self.adapters])
        await self.outbox.start()
        await self.scheduler.start()
        if self.web is not None:
            await self.web.start()
        log.info("caucus-bot is ready: %s", ", ".join(
            [a.platform for a in self.adapters] + (["web"] if self.web else [])))
        self._report = asyncio.create_task(self.report_pairs(), name="pair checks")

    async def report_pairs(self, wait: float = 30.0) -> None:
        """At start, one line per pair: it can work, or what to do (the adapters check
        their rooms as they start; this waits for them, a little)."""
        def checks() -> list[tuple[str, PairCheck]]:
            pairs = self.dispatcher.rooms.current.pairs
            return list(zip([room.name for room in pairs], check_pairs(
                pairs, self.dispatcher.setup.values(), self.config), strict=True))

        for _ in range(int(wait * 2)):  # the checks run in the adapters' own tasks
            if all(c.checked for _, c in checks()):
                break
            await asyncio.sleep(0.5)
        for name, check in checks():
            if check.problems:
                log.warning("pair %s cannot work as it should: %s", name,
                            " ".join(check.problems))
            else:
                log.info("pair %s can work: %s", name, "; ".join(check.fine))

    async def stop(self) -> None:
        if self.web is not None:
            await self.web.stop()
        if self._report is not None:
            self._report.cancel()
            await asyncio.gather(self._report, return_exceptions=True)
        self.scheduler.stop()
        await self.outbox.stop()
        for adapter in reversed(self.adapters):
            await adapter.stop()
        self.database.dispose()


async def _together(starts: list[Coroutine[Any, Any, None]]) -> None:
    """Run them side by side; the first to fail stops the others and is raised, as it
    would have been one after another."""
    tasks = [asyncio.ensure_future(start) for start in starts]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
