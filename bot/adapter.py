"""What every network adapter is: its wiring, and the hooks the service sets.

An adapter translates one platform's objects into Events (handing them to
``Inbound``) and sends outbox rows (``send``), and is the only place its
platform library is imported. The service starts and stops it, routes
deliveries to ``send`` and downloads to ``fetch_file`` by ``platform``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bot.config import Config
from bot.dispatcher import Clock, Dispatcher
from bot.inbound import Inbound
from bot.outbox import Delivery
from storage.database import Database

log = logging.getLogger(__name__)


def poll_backoff(failures: int) -> float:
    """Seconds before polling again after ``failures`` failed rounds in a row: 1, 2, 4 ... 30."""
    return min(30.0, 0.5 * 2 ** failures)


class NetworkAdapter(Protocol):
    """What the service needs of a network: its lifecycle, sending an outbox row (the
    network's id of what it sent), fetching a file for the bridge (into a file on disk,
    a chunk at a time), and what it may do."""

    platform: str
    on_fatal: Callable[[str], None]
    on_recovered: Callable[[], None]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, delivery: Delivery) -> str: ...

    async def fetch_file(self, ref: str, path: Path) -> None: ...

    def can_delete(self, room_id: str) -> bool: ...


class Adapter:
    """The wiring every adapter shares; each subclass is a :class:`NetworkAdapter`."""

    platform = ""

    def __init__(self, config: Config, *, database: Database, dispatcher: Dispatcher,
                 inbound_handler: Inbound, clock: Clock):
        self.config = config
        self.database = database
        self.dispatcher = dispatcher
        self.inbound = inbound_handler
        self.clock = clock
        self.on_fatal: Callable[[str], None] = lambda reason: None  # stop the service
        self.on_recovered: Callable[[], None] = lambda: None  # the network answers again

    def set_problem(self, key: str, problem: str | None) -> None:
        """Record (or, with None, clear) a set-up problem: logged once, and listed by
        /bridge status until it is fixed."""
        key = f"{self.platform}.{key}"
        if problem is None:
            self.dispatcher.setup_problems.pop(key, None)
        elif self.dispatcher.setup_problems.get(key) != problem:
            self.dispatcher.setup_problems[key] = problem
            log.warning("%s: %s", self.platform, problem)

    def can_delete(self, room_id: str) -> bool:
        """Whether the bot may delete other people's messages in the room."""
        return False
