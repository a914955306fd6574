"""The outbox worker: delivers queued rows, in order per room, until they are sent.

Senders are the adapters' send functions, one per network. A sender raises
:class:`RetryLater` for flood control and passing failures (the row waits and
is tried again, never dropped) and :class:`DeliveryFailed` when retrying cannot
help (the row is kept as failed, with its error, for ``/bridge status``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.replies import Reply
from storage import outbox
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a sender sees it. ``row_id`` makes a retried send idempotent."""

    row_id: int
    room_id: str
    reply: Reply
    reply_to: str | None = None  # the network's id of the message this answers


# send(delivery) -> the network's id of the message it sent.
Sender = Callable[[Delivery], Awaitable[str]]
MAX_BACKOFF = 300.0


class RetryLater(Exception):
    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


class DeliveryFailed(Exception):
    """Retrying will not help (the bot was removed from the room, the room is gone)."""


def backoff(attempts: int) -> float:
    """Exponential with jitter, so that many rooms do not retry in lockstep."""
    return min(MAX_BACKOFF, 2.0 ** attempts) * random.uniform(0.5, 1.5)


class OutboxWorker:
    def __init__(self, database: Database, senders: Mapping[str, Sender],
                 clock: Callable[[], datetime], *, poll_seconds: float = 5.0):
        self.database = database
        self.senders = dict(senders)
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._rooms: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Called after a commit that queued rows: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking rows; let a send in flight finish and be recorded, then cancel.

        Cancelling between a send and its record would send that row again on the
        next start.
        """
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        busy = [t for t in self._rooms.values() if not t.done()]
        if busy:
            _, late = await asyncio.wait(busy, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._rooms.clear()

    async def drain(self, seconds: float = 30.0) -> None:
        """Deliver everything due now (shutdown, tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            self._spawn_due()
            busy = [t for t in self._rooms.values() if not t.done()]
            if not busy:
                return
            await asyncio.wait(busy, timeout=max(0.0, deadline - loop.time()))

    async def _run(self) -> None:
        while True:
            self._spawn_due()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._sleep_seconds())
            except TimeoutError:
                pass

    def _sleep_seconds(self) -> float:
        with self.database.session() as db:
            nxt = outbox.next_attempt(db)
        if nxt is None:
            return self.poll_seconds
        return max(0.05, min(self.poll_seconds, (nxt - self.clock()).total_seconds()))

    def _spawn_due(self) -> None:
        with self.database.session() as db:
            rooms = outbox.rooms_due(db, self.clock())
        for room_id in rooms:
            task = self._rooms.get(room_id)
            if task is None or task.done():
                self._rooms[room_id] = asyncio.create_task(self._deliver_room(room_id),
                                                           name=f"outbox {room_id}")

    async def _deliver_room(self, room_id: str) -> None:
        """One room at a time, oldest first; a waiting row holds back the rows after it."""
        while not self._stopping:
            with self.database.session() as db:
                row = outbox.next_for_room(db, room_id)
                if row is None or row.next_attempt_at > self.clock():
                    return
                row_id, attempts = row.id or 0, row.attempts
                delivery = Delivery(row_id, room_id, Reply.from_json(row.payload), row.reply_to)
            sender = self.senders.get(room_id.split(":", 1)[0])
            try:
                if sender is None:
                    raise DeliveryFailed(f"no adapter for {room_id.split(':', 1)[0]} is running")
                message_id = await sender(delivery)
            except RetryLater as exc:
                wait = exc.after if exc.after is not None else backoff(attempts)
                log.warning("outbox row %s for %s: %s; retrying in %.1fs", row_id, room_id, exc,
                            wait)
                self._update(row_id, lambda db, r, e=str(exc), w=wait: outbox.mark_retry(
                    db, r, e, self.clock() + timedelta(seconds=w)))
                if exc.after is not None:
                    await asyncio.sleep(wait)  # flood control: this room waits, in order
                    continue
                return
            except DeliveryFailed as exc:
                log.error("outbox row %s for %s failed for good: %s", row_id, room_id, exc)
                self._update(row_id, lambda db, r, e=str(exc): outbox.mark_failed(db, r, e))
                continue
            except Exception as exc:  # a bug or an unexpected network error: retry later
                log.exception("outbox row %s for %s: unexpected error", row_id, room_id)
                wait = backoff(attempts)
                error = repr(exc)
                self._update(row_id, lambda db, r, e=error, w=wait: outbox.mark_retry(
                    db, r, e, self.clock() + timedelta(seconds=w)))
                return
            self._update(row_id, lambda db, r, m=message_id: outbox.mark_sent(db, r, m,
                                                                               self.clock()))

    def _update(self, row_id: int, change: Callable) -> None:  # type: ignore[type-arg]
        with self.database.session() as db:
            row = db.get(outbox.OutboxMessage, row_id)
            if row is not None:
                change(db, row)
                db.commit()
