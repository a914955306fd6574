"""How the program logs: lines for people, or one JSON object a line for log collectors.

``[bot].log_format = "json"`` writes ``time``, ``level``, ``logger`` and ``event`` (the
log line itself), the ids a line was given (``room_id``, ``row_id``, ``user_id``,
``command``), the config's name of the room, and for an error the exception's types
and frames. Never message text: no log line carries it (tests/test_log_confidentiality.py),
and an exception's message, which may quote it, is left out here too.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.config import Config
from bot.failures import traceback_without_messages

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The ids a log call may pass in ``extra=``; nothing else of a record is written.
FIELDS = ("room_id", "row_id", "user_id", "command", "update_id", "event_id")
# Libraries that say too much at INFO for a bot's log.
NOISY = ("alembic", "httpx", "nio.rooms", "nio.client.base_client", "nio.crypto.log",
         "apscheduler.scheduler", "apscheduler.executors.default", "aiohttp.access")


class JsonFormatter(logging.Formatter):
    def __init__(self, config: Config | None = None):
        super().__init__()
        self.config = config

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "event": record.getMessage()}
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        room_id = getattr(record, "room_id", None)
        room = self.config.room_for(room_id) if isinstance(room_id, str) and self.config \
            else None
        if room is not None:  # a name from the config; one typed in chat is not logged
            out["room"] = room.name
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = traceback_without_messages(record.exc_info[1])
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: int, log_format: str = "text", config: Config | None = None) -> None:
    """Send the log to standard error in the chosen format (replacing any earlier set-up)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(config) if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
