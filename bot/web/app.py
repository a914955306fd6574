"""The aiohttp application of the sign-on pages, and its server's lifecycle.

``caucus-bot run`` starts a :class:`WebServer` beside the adapters when ``[web]`` is
configured; ``caucus-bot web`` runs one alone (:func:`serve`), on the same database,
so the pages can be tried from the console. Every response carries the security
headers of ``bot.web.guard``; bodies over :data:`MAX_BODY` are refused with 413; an
unexpected failure is logged without its message and answered with a reference.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

import handlers
from bot.config import Config
from bot.dispatcher import Clock, utcnow
from bot.failures import traceback_without_messages
from bot.features import Features
from bot.web import pages, render
from bot.web.guard import SECURITY_HEADERS, RateLimit
from bot.web.i18n import N_, choose
from bot.web.site import SITE, PageAnswer, Site
from storage.database import Database

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024  # the form is well under 4 KB; anything far bigger is not a sign-on
STATIC = Path(__file__).with_name("static")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _lang(request: web.Request) -> str:
    return choose(request.query.get("lang"), request.headers.get("Accept-Language"))


@web.middleware
async def answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages for what aiohttp answers on its own (404, 413), and for failures."""
    try:
        return await handler(request)
    except PageAnswer as answer:
        return answer.response
    except web.HTTPRequestEntityTooLarge:
        return render.message(request, _lang(request), N_("Too much sent"),
                              N_("The form sent more than a sign-on can hold. Shorten what "
                                 "you wrote and send it again."), status=413)
    except web.HTTPNotFound:
        return pages.not_found(request, _lang(request)).response
    except web.HTTPMethodNotAllowed:
        return render.message(request, _lang(request), N_("Page not found"),
                              N_("There is no sign-on page at this address. Check the link "
                                 "you were given, or ask the coalition for it."), status=405)
    except web.HTTPException:
        raise
    except Exception as exc:
        ref = secrets.token_hex(2)
        log.error("web page %s failed (ref %s)\n%s", request.method, ref,
                  traceback_without_messages(exc))
        return render.message(request, _lang(request), N_("Something went wrong"),
                              N_("The page could not be shown (reference %(ref)s). Nothing was "
                                 "recorded; please try again in a moment."), status=500,
                              ref=ref)


@web.middleware
async def in_turn(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A few requests at a time; the others wait their turn without costing anything.

    The bot's relay shares this process: with fifty requests at work, each of the relay's
    steps would queue behind all of them, and a message would cross in seconds, not in
    milliseconds. Waiting here, they are not in the event loop's way.
    """
    async with request.app[SITE].turns:
        return await handler(request)


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        # Pages carry a form token or a withdrawal link: never kept by a cache.
        response.headers["Cache-Control"] = "no-store"


def build_app(config: Config, database: Database, features: Features, *, clock: Clock = utcnow,
              on_queued: Callable[[], None] = lambda: None) -> web.Application:
    assert config.web is not None, "the [web] table is needed to serve pages"
    app = web.Application(client_max_size=MAX_BODY, middlewares=[in_turn, answers])
    app[SITE] = Site(config=config, web=config.web, database=database, features=features,
                       clock=clock, limits=RateLimit(config.web.submissions_per_hour),
                       on_queued=on_queued)
    app.on_response_prepare.append(_headers)
    app.router.add_get("/", pages.home)
    app.router.add_get("/s/{token}", pages.show)
    app.router.add_post("/s/{token}", pages.sign)
    app.router.add_get("/s/{token}/withdraw/{key}", pages.confirm_withdrawal)
    app.router.add_post("/s/{token}/withdraw/{key}", pages.do_withdraw)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    return app


class WebServer:
    """The pages on ``[web].listen``:``port``; ``start()``/``stop()`` like the adapters."""

    def __init__(self, config: Config, database: Database, features: Features, *,
                 clock: Clock = utcnow, on_queued: Callable[[], None] = lambda: None):
        assert config.web is not None
        self.web = config.web
        self.app = build_app(config, database, features, clock=clock, on_queued=on_queued)
        self._runner: web.AppRunner | None = None
        self.port = config.web.port

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)  # addresses are personal
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.web.listen, self.web.port)
        await site.start()
        if self._runner.addresses:
            self.port = self._runner.addresses[0][1]  # port 0: the one the system gave
        log.info("sign-on pages at http://%s:%s (public address %s)", self.web.listen,
                 self.port, self.web.public_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.app[SITE].executor.shutdown(wait=True)


def serve(config: Config) -> int:
    """``caucus-bot web``: the pages alone, until interrupted."""
    if config.web is None:
        print(f"caucus-bot web: {config.source} has no [web] table; add one (see "
              "config.example.toml) to serve sign-on pages.", file=sys.stderr)
        return 2
    from bot.startup import prepare

    features = handlers.features()
    database = prepare(config, features)

    async def main() -> None:
        server = WebServer(config, database, features)
        await server.start()
        print(f"Serving the sign-on pages at http://{config.web.listen}:{server.port} "  # type: ignore[union-attr]
              "(Ctrl-C stops).", file=sys.stderr)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        try:
            await stopped.wait()
        finally:
            await server.stop()

    try:
        asyncio.run(main())
    except OSError as exc:
        print(f"caucus-bot web: could not listen on {config.web.listen}:{config.web.port}: "
              f"{exc.strerror}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    return 0
