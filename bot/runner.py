"""``caucus-bot run``: serve the configured networks until stopped, or wait to take over.

The process first makes sure it may serve its database (:mod:`bot.leadership`): on
SQLite a second process is refused at once; on PostgreSQL it waits as a standby while
another process leads. Once it leads it starts the service, and stops it again if it
loses the lead (then waits to lead again); ``/healthz`` and ``/metrics`` are served the
whole time, when ``[metrics]`` is configured.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable

from bot.config import Config
from bot.failures import traceback_without_messages
from bot.leadership import AlreadyServing, Leadership, leadership_for

log = logging.getLogger(__name__)
# Networks whose adapters this version ships. Each adapter's issue adds its name.
AVAILABLE_NETWORKS: frozenset[str] = frozenset({"telegram", "matrix"})
STEP_DOWN_SECONDS = 3.0  # a leader that lost the lock waits this long before asking again
# The collector is off while the process starts (bot.cli.main) and back on once it serves;
# a start that takes longer (a standby waiting to lead, a network slow to answer) gets it
# back after this long, so a process that waits for hours never grows without it.
START_WITHOUT_GC_SECONDS = 10.0


def run(config: Config) -> int:
    configured = [name for name in ("telegram", "matrix") if getattr(config, name) is not None]
    if not configured:
        also = (f", or for the sign-on pages alone: caucus-bot web --config {config.source}"
                if config.web is not None else "")
        print(f"caucus-bot run: {config.source} configures no network ([telegram] or [matrix]); "
              f"nothing to connect to. Try: caucus-bot console{also}", file=sys.stderr)
        return 2
    missing = [name for name in configured if name not in AVAILABLE_NETWORKS]
    if missing:
        print(f"caucus-bot run: the {' and '.join(missing)} adapter"
              f"{'s are' if len(missing) > 1 else ' is'} not available in this version yet; "
              f"serving {', '.join(n for n in configured if n in AVAILABLE_NETWORKS) or 'nothing'}"
              ".", file=sys.stderr)
        if len(missing) == len(configured):
            return 1
    try:
        return asyncio.run(serve(config, leadership_for(config.bot.database_url)))
    except AlreadyServing as exc:
        print(f"caucus-bot run: refused: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a start-up failure: say what, not a traceback
        log.debug("start-up failed\n%s", traceback_without_messages(exc))
        print(f"caucus-bot run: could not start: {exc}", file=sys.stderr)
        return 1


async def serve(config: Config, leadership: Leadership) -> int:
    """Lead and serve until SIGINT/SIGTERM; 1 if a network refused the bot for good."""
    from bot.health import Health
    from bot.service import Service

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    health = Health(config, leadership)
    collector_back = loop.call_later(START_WITHOUT_GC_SECONDS, gc.enable)
    _preload(config)
    web = None
    try:
        if config.metrics is not None:
            from bot.web.health import serve as serve_health

            web = await serve_health(health, config.metrics.listen, config.metrics.port)
            log.info("health and metrics on http://%s:%d/ (/healthz, /metrics)",
                     config.metrics.listen, config.metrics.port)
        while not stopping.is_set():
            if not await _first(leadership.lead(), stopping.wait()):
                break
            service = Service(config)
            service.outbox.may_send = lambda: leadership.leading
            health.adapters = list(service.adapters)
            lost = asyncio.ensure_future(leadership.lost())
            try:
                await service.start()
                # What the start loaded (modules, config, clients) lives as long as the
                # process: out of the collector's sight, a full collection no longer walks
                # it (about 140 ms every few hundred messages relayed, before). The few
                # thousand objects the start left as garbage stay too (under 1 MB).
                gc.freeze()
                gc.enable()
                collector_back.cancel()
                await _first(service.stopped.wait(), lost, stopping.wait())
            finally:
                health.adapters = []
                await service.stop()
            if service.fatal:
                print(f"caucus-bot run: stopped: {service.fatal}", file=sys.stderr)
                return 1
            if lost.done():
                log.error("stopped serving: %s; waiting to lead again", lost.result())
                # A standby that still reaches the database gets the first try.
                await _first(asyncio.sleep(STEP_DOWN_SECONDS), stopping.wait())
            else:
                lost.cancel()
        return 0
    finally:
        collector_back.cancel()
        leadership.release()
        if web is not None:
            await web.cleanup()
        health.close()


def _preload(config: Config) -> None:
    """Import the adapters before waiting to lead: a standby then takes over a second sooner."""
    if config.telegram is not None:
        import bot.telegram
    if config.matrix is not None:
        import bot.matrix  # noqa: F401


async def _first(*waits: Awaitable[object]) -> bool:
    """Wait until one of them finishes; True if it was the first one named. Coroutines still
    waiting are cancelled, futures passed in are left as they are."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for wait, task in zip(waits, tasks, strict=True):
        if task in pending and not isinstance(wait, asyncio.Future):
            task.cancel()
    for task in done:
        task.result()  # a failure to lead (the database at the first try) is raised here
    return tasks[0] in done
