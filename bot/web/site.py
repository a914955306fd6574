"""What every page handler shares: the config, the database, the features' hooks, the
clock, and the guards (CSRF key, rate limit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp.web import AppKey, Request, Response

from bot.config import Config
from bot.config_web import WebConfig
from bot.features import Features
from bot.web.guard import Csrf, RateLimit, client_address
from storage.database import Database


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

    def client(self, request: Request) -> str:
        return client_address(request.remote, request.headers.get("X-Forwarded-For"),
                              self.web.trusted_proxies)


SITE = AppKey("site", Site)
