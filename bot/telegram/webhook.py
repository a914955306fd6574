"""Telegram's webhook mode: the HTTP endpoint Telegram posts updates to, and a watch on
how Telegram says the webhook fares (it calls only when there is news)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import TelegramError

from bot.config import TelegramConfig
from bot.failures import traceback_without_messages

log = logging.getLogger(__name__)
CHECK_SECONDS = 30.0  # how often the webhook's state is asked of Telegram (/healthz)


class Webhook:
    def __init__(self, bot: Bot, settings: TelegramConfig,
                 process: Callable[[Update], Awaitable[object]], heard: Callable[[], None]):
        """``process``: handle one update (the adapter's); ``heard``: Telegram answered."""
        self.bot = bot
        self.settings = settings
        self.process = process
        self.heard = heard
        self._runner: web.AppRunner | None = None

    async def start(self, allowed_updates: list[str]) -> None:
        assert self.settings.webhook_url is not None
        path = urlsplit(self.settings.webhook_url).path or "/"
        app = web.Application()
        app.router.add_post(path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.webhook_listen,
                          self.settings.webhook_port).start()
        await self.bot.set_webhook(self.settings.webhook_url, allowed_updates=allowed_updates,
                                   secret_token=self.settings.webhook_secret)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def watch(self) -> None:
        """Ask Telegram every half minute how the webhook fares, so that /healthz knows
        Telegram answers, and its last error (a certificate, an unreachable URL) reaches
        the log."""
        reported = ""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                info = await self.bot.get_webhook_info()
            except TelegramError as exc:
                log.warning("telegram: could not read the webhook's state: %s", exc)
                continue
            self.heard()
            error = info.last_error_message or ""
            if error and error != reported:
                log.warning("telegram: Telegram reports for the webhook: %s", error)
            reported = error

    async def _receive(self, request: web.Request) -> web.Response:
        secret = self.settings.webhook_secret
        if secret and request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        try:
            raw = await request.json()
        except ValueError:
            return web.Response(status=400)  # not an update at all
        try:
            update = Update.de_json(raw, self.bot)
        except Exception as exc:  # an update it cannot read: skipped, as when polling
            log.error("telegram: webhook update %s could not be read (%s); skipped",
                      raw.get("update_id") if isinstance(raw, dict) else None,
                      type(exc).__name__)
            return web.Response(text="ok")
        try:
            await self.process(update)
        except SQLAlchemyError as exc:
            # Not recorded (the database is locked or full): an error answer makes Telegram
            # deliver it again later, where "ok" would have it forget the message.
            log.error("telegram: could not record webhook update %s (%s); Telegram will send "
                      "it again", update.update_id, type(exc).__name__)
            return web.Response(status=503, text="could not record the update; try again")
        except Exception as exc:  # a bug in this one update: skipped, so it cannot stop the chat
            log.error("telegram: webhook update %s could not be handled\n%s", update.update_id,
                      traceback_without_messages(exc))
        return web.Response(text="ok")
