"""What every network adapter is: its wiring, and the hooks the service sets.

An adapter translates one platform's objects into Events (handing them to
``Inbound``) and sends outbox rows (``send``), and is the only place its
platform library is imported. The service starts and stops it, routes
deliveries to ``send`` and downloads to ``fetch_file`` by ``platform``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.config import Config
from bot.dispatcher import Clock, Dispatcher
from bot.inbound import Inbound
from bot.outbox import Delivery
from bot.rooms import Finding, Rooms
from storage.database import Database
from storage.ids import RoomId

# (the network that missed messages, from, until, the one room that did or None: all)
HistoryLost = Callable[[str, datetime | None, datetime, RoomId | None], None]

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
    on_history_lost: HistoryLost
    last_contact: float | None  # time.monotonic() when the network last answered a poll

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
        # Messages sent on this network in a span of time will never reach the bot: the
        # service tells the paired rooms (bot/history_gaps.py).
        self.on_history_lost: HistoryLost = lambda platform, start, end, room: None
        self.rooms = dispatcher.rooms
        self.rooms.listeners.append(self.rooms_changed)
        # When the network last answered a poll or sync (time.monotonic()): /healthz.
        self.last_contact: float | None = None

    def set_problem(self, key: str, problem: str | None, *, room: RoomId | None = None,
                    fine: str = "") -> None:
        """Record what a set-up check found: a problem (logged once, and listed by /bridge
        status until it is fixed) or, with None, what is fine, in words."""
        key = f"{self.platform}.{key}"
        before = self.dispatcher.setup.get(key)
        self.dispatcher.setup[key] = Finding(self.platform, room, problem, fine)
        if problem is not None and (before is None or before.problem != problem):
            log.warning("%s: %s", self.platform, problem)

    def heard_from_network(self) -> None:
        self.last_contact = time.monotonic()

    def rooms_changed(self, before: Rooms, after: Rooms) -> None:
        """An admin set rooms up or forgot them in chat: a forgotten room's findings go;
        an adapter checks new rooms (its override)."""
        known = {room_id for room in after.all for room_id in room.ids}
        for key, finding in list(self.dispatcher.setup.items()):
            if finding.platform == self.platform and finding.room is not None and \
                    finding.room not in known:
                del self.dispatcher.setup[key]

    def can_delete(self, room_id: str) -> bool:
        """Whether the bot may delete other people's messages in the room."""
        return False
