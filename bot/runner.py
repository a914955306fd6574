"""``caucus-bot run``: serve the configured networks until stopped."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import Config
from bot.failures import traceback_without_messages

log = logging.getLogger(__name__)
# Networks whose adapters this version ships. Each adapter's issue adds its name.
AVAILABLE_NETWORKS: frozenset[str] = frozenset({"telegram", "matrix"})


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
    from bot.service import Service

    async def main() -> int:
        service = Service(config)
        await service.run_until_stopped()
        if service.fatal:
            print(f"caucus-bot run: stopped: {service.fatal}", file=sys.stderr)
            return 1
        return 0

    try:
        return asyncio.run(main())
    except Exception as exc:  # a start-up failure: say what, not a traceback
        log.debug("start-up failed\n%s", traceback_without_messages(exc))
        print(f"caucus-bot run: could not start: {exc}", file=sys.stderr)
        return 1
