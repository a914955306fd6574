"""``caucus-bot run``: prepare storage, then serve the configured networks."""

from __future__ import annotations

import sys

from bot.config import Config
from bot.startup import prepare

# Networks whose adapters this version ships. Each adapter's issue adds its name.
AVAILABLE_NETWORKS: frozenset[str] = frozenset()


def run(config: Config) -> int:
    configured = [name for name in ("telegram", "matrix") if getattr(config, name) is not None]
    if not configured:
        print(f"caucus-bot run: {config.source} configures no network ([telegram] or [matrix]); "
              "nothing to connect to. Try: caucus-bot console", file=sys.stderr)
        return 2
    prepare(config).dispose()
    missing = [name for name in configured if name not in AVAILABLE_NETWORKS]
    if missing:
        print(f"caucus-bot run: the {' and '.join(missing)} adapter"
              f"{'s are' if len(missing) > 1 else ' is'} not available in this version yet. "
              "The database is ready; commands work now in: caucus-bot console --config "
              f"{config.source}", file=sys.stderr)
        return 1
    return 0
