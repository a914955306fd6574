"""What every page handler shares: the config, the database, the features' hooks, the
clock, and the guards (CSRF key, rate limit)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from aiohttp.web import AppKey, Request, Response

from bot.config import Config
from bot.config_web import WebConfig
from bot.features import Features
from bot.web.guard import Csrf, RateLimit, client_address
from storage.database import Database

T = TypeVar("T")
# Threads for the pages: SQLite takes one writer at a time and the GIL one thinker, so a
# few are enough to overlap a commit's wait for the disk with the next page's rendering.
THREADS = 1
TURNS = 2


class PageAnswer(Exception):
    """Stop here and answer with this page (a 404 found deep in a handler)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@dataclass
class Site:
    config: Config
    web: WebConfig
    database: Database
    features: Features
    clock: Callable[[], datetime]
    limits: RateLimit
    csrf: Csrf = field(default_factory=Csrf)
    # Called after a commit that queued messages for chat rooms: wakes the outbox worker
    # when the pages are served by `caucus-bot run` (alone, the running bot's worker
    # finds the rows at its next poll).
    on_queued: Callable[[], None] = lambda: None
    # The pages' own threads: database work and rendering stay off the event loop.
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=THREADS, thread_name_prefix="web"))
    _loop: asyncio.AbstractEventLoop | None = None
    # Requests at work at once (see bot.web.app.in_turn).
    turns: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(TURNS))

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in one of the pages' threads."""
        self._loop = asyncio.get_running_loop()
        return await self._loop.run_in_executor(self.executor, work, *args)

    def queued(self) -> None:
        """From a page's thread: messages were queued; wake the outbox worker on its loop."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.on_queued)

    def client(self, request: Request) -> str:
        return client_address(request.remote, request.headers.get("X-Forwarded-For"),
                              self.web.trusted_proxies)


SITE = AppKey("site", Site)
