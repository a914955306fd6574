"""The outbox worker: delivers queued rows, in order per room, until they are sent.

Senders are the adapters' send functions, one per network. A sender raises
:class:`RetryLater` for flood control and passing failures (the row waits and
is tried again, never dropped) and :class:`DeliveryFailed` when retrying cannot
help (the row is kept as failed, with its error, for ``/bridge status``). Their
messages are the adapters' words for the network's answer, so they are logged and
kept; any other exception may quote the row's text, so only its type and frames are.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from bot import deliveries, metrics
from bot.deliveries import (
    BotReply,
    Content,
    Delete,
    Edit,
    Media,
    React,
    Redact,
    Relay,
    SharedLocation,
    Text,
)
from bot.failures import traceback_without_messages
from bot.spool import Spool
from storage import links, outbox
from storage.database import Database
from storage.ids import RoomId, platform_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileData:
    """A file from the other network, downloaded to ``path`` (on disk, never whole in
    memory: senders upload it from there); removed once its delivery is done."""

    name: str
    mime: str
    path: Path
    size: int


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a sender sees it, with ids already resolved for its room.

    ``content`` says what to send (see :mod:`bot.deliveries`); ``reply_to`` is this
    network's id of the message it answers, ``target_id`` the message an edit, redact or
    delete changes, ``file`` the downloaded file of a :class:`~bot.deliveries.Media`, and
    ``thread_root`` this room's id of the root of the thread (topic) it belongs in.
    ``key`` makes a retried send idempotent: the row's id and the moment it was queued,
    a name no other row has, even where a database restored from a backup gives out
    an id a second time (a homeserver would take a reused name for a retry of the
    message sent under it, and drop the new one).
    """

    row_id: int
    room_id: RoomId
    key: str
    content: Content
    reply_to: str | None = None
    target_id: str | None = None
    file: FileData | None = None
    thread_root: str | None = None  # this room's id of the thread it belongs in

    @property
    def target(self) -> str:
        """The message an edit, redaction, reaction or deletion changes. Resolved before
        the send, so a row without one is kept as failed, never sent to message 0."""
        if not self.target_id:
            raise DeliveryFailed("it names no message to change")
        return self.target_id


# fetch(ref, path): download the file a network calls ``ref`` into ``path``, in chunks.
Fetcher = Callable[[str, Path], Awaitable[None]]


# send(delivery) -> the network's id of the message it sent.
Sender = Callable[[Delivery], Awaitable[str]]
MAX_BACKOFF = 60.0  # a chat bridge should not sit out more than a minute


class RetryLater(Exception):
    """Try the row again: after ``after`` seconds (in order, the room waits), or after a
    backoff. ``flood``: the network asked the bot to slow down (counted in /metrics)."""

    def __init__(self, message: str, after: float | None = None, *, flood: bool = False):
        super().__init__(message)
        self.after = after
        self.flood = flood


class DeliveryFailed(Exception):
    """Retrying will not help (the bot was removed from the room, the room is gone)."""


def backoff(attempts: int) -> float:
    """Exponential with jitter, so that many rooms do not retry in lockstep."""
    return min(MAX_BACKOFF, 2.0 ** attempts) * random.uniform(0.5, 1.5)


class OutboxWorker:
    def __init__(self, database: Database, senders: Mapping[str, Sender],
                 clock: Callable[[], datetime], *, poll_seconds: float = 5.0,
                 fetchers: Mapping[str, Fetcher] | None = None, spool: Spool | None = None):
        self.database = database
        self.senders = dict(senders)
        self.fetchers = dict(fetchers or {})  # download a file from its network, by platform
        self.spool = spool or Spool()  # where files wait between download and upload
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._rooms: dict[str, asyncio.Task[None]] = {}
        # Rooms whose task ended finding no pending row, with nothing queued for them
        # since but what was handed over (see wake): their next row is the oldest.
        self._idle: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Whether this process still leads (bot.leadership): a leader that lost its lock
        # starts no send, so that the one taking over is alone in sending.
        self.may_send: Callable[[], bool] = lambda: True

    def retry_now(self, platform: str) -> None:
        """A network is back: rows waiting out a backoff for it go now, not in a minute."""
        with self.database.session() as db:
            outbox.retry_now(db, f"{platform}:", self.clock())
            db.commit()
        self.wake()

    def wake(self, *room_ids: str, queued: Sequence[Any] = ()) -> None:
        """Called after a commit that queued rows: look now rather than at the next poll.

        Naming the rooms starts their delivery at once, without a query; the loop that
        looks for due rooms is woken only when the rooms are not named. (A room's task
        that is running always looks for its next row before it ends, and no row can be
        committed between that look and the end: there is no await between them.)
        ``queued``: the rows that commit queued, as written (storage.outbox.collecting):
        an idle room's task sends the first of them without reading it back.
        """
        if room_ids and self._task is not None and not self._stopping:
            for room_id in room_ids:
                self._spawn(room_id, [r for r in queued if r.room_id == room_id])
            return
        self._idle.clear()  # rows were queued, for rooms unknown
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._idle.clear()
        self.spool.open()
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
        self.spool.close()

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
            self._spawn(room_id)

    def _spawn(self, room_id: str, handed: Sequence[Any] = ()) -> None:
        """Start the room's task unless it runs. ``handed``: rows just committed for it;
        the first is its next row if the room was idle (nothing else pending)."""
        first = handed[0] if handed and room_id in self._idle else None
        self._idle.discard(room_id)
        task = self._rooms.get(room_id)
        if task is None or task.done():
            self._rooms[room_id] = asyncio.create_task(self._deliver_room(room_id, first),
                                                       name=f"outbox {room_id}")

    async def _deliver_room(self, room_id: str, first: Any = None) -> None:
        """One room at a time, oldest first; a waiting row holds back the rows after it.

        The row after a sent one is read in the transaction that marks that one sent:
        one transaction a message, and no query of its own to look for the next.
        ``first``: the room's next row, handed over as it was queued (see wake).
        """
        due = (first, _prepare(None, first)) if first is not None and _standalone(first) \
            else self._look(room_id)
        while due is not None and not self._stopping and self.may_send():
            row, prepared = due
            if row.next_attempt_at > self.clock():
                return
            row_id, attempts = row.id, row.attempts
            sender = self.senders.get(platform_of(room_id))
            try:
                if sender is None:
                    raise DeliveryFailed(f"no adapter for {platform_of(room_id)} is running")
                if isinstance(prepared, str):
                    raise DeliveryFailed(prepared)
                message_id = await self._send(sender, prepared)
            except RetryLater as exc:
                wait = exc.after if exc.after is not None else backoff(attempts)
                log.warning("outbox row %s for %s: %s; retrying in %.1fs", row_id, room_id, exc,
                            wait, extra={"room_id": room_id, "row_id": row_id})
                if exc.flood:
                    metrics.flood_wait(room_id.split(":", 1)[0], wait)
                self._update(outbox.mark_retry, row_id, str(exc),
                             self.clock() + timedelta(seconds=wait))
                if exc.after is not None:
                    await asyncio.sleep(wait)  # flood control: this room waits, in order
                    due = self._look(room_id)
                    continue
                self._wake.set()  # the loop's next look must be at this row's retry time
                return
            except DeliveryFailed as exc:
                log.error("outbox row %s for %s failed for good: %s", row_id, room_id, exc,
                          extra={"room_id": room_id, "row_id": row_id})
                self._update(outbox.mark_failed, row_id, str(exc))
                due = self._look(room_id)
                continue
            except Exception as exc:  # a bug or an unexpected network error: retry later
                log.error("outbox row %s for %s: unexpected error\n%s", row_id, room_id,
                          traceback_without_messages(exc),
                          extra={"room_id": room_id, "row_id": row_id})
                self._update(outbox.mark_retry, row_id, f"unexpected {type(exc).__name__}",
                             self.clock() + timedelta(seconds=backoff(attempts)))
                self._wake.set()  # the loop's next look must be at this row's retry time
                return
            sent_at = self.clock()
            with self.database.begin() as db:
                _sent(db, row, message_id, sent_at)
                due = _due(db, room_id)
            metrics.DELIVERY_LATENCY.labels(room_id.split(":", 1)[0]).observe(
                max(0.0, (sent_at - row.created_at).total_seconds()))
            metrics.relayed(row.source_room, room_id, row.kind)
        if due is None:
            self._idle.add(room_id)

    async def _send(self, sender: Sender, delivery: Delivery) -> str:
        """Send the row; a file is first downloaded to the spool, and removed afterwards
        whether it went or not (a retry downloads it again)."""
        if not isinstance(delivery.content, Media):
            return await sender(delivery)
        source = delivery.content.source
        fetch = self.fetchers.get(source.platform)
        if fetch is None:
            raise RetryLater(f"the {source.platform} adapter is not running to fetch a file")
        with self.spool.file() as path:
            await fetch(source.ref, path)
            file = FileData(source.name, source.mime, path, path.stat().st_size)
            return await sender(replace(delivery, file=file))

    def _update(self, change: Callable[..., None], *args: Any) -> None:
        """``change(db, *args)`` in a transaction of its own."""
        with self.database.begin() as db:
            change(db, *args)

    def _look(self, room_id: str) -> tuple[Any, Delivery | str] | None:
        with self.database.begin() as db:
            return _due(db, room_id)


def _due(db: Connection, room_id: str) -> tuple[Any, Delivery | str] | None:
    """The room's oldest pending row, prepared for its sender (or why it cannot go)."""
    row = outbox.next_for_room(db, room_id)
    return None if row is None else (row, _prepare(db, row))


def _standalone(row: Any) -> bool:
    """Whether a row names no other message (a plain relay, an answer): it needs no link
    looked up to be sent."""
    return row.kind in (BotReply.KIND, Relay.KIND) and not row.reply_source_message and \
        '"thread"' not in row.payload


def _prepare(db: Session | Connection | None, row: Any) -> Delivery | str:
    """The row as its sender needs it, ids resolved for its room; or why it cannot go.
    ``db`` is needed only for a row that names another message (see ``_standalone``)."""
    def linked() -> Session | Connection:
        assert db is not None, "a row that names another message needs the database"
        return db

    try:
        content = deliveries.parse(row.kind, row.payload)
    except deliveries.UnknownDelivery as exc:
        return str(exc)
    reply_to = row.reply_to
    if reply_to is None and row.reply_source_room and row.reply_source_message:
        reply_to = links.counterpart(linked(), row.reply_source_room, row.reply_source_message,
                                     row.room_id)
    thread = getattr(content, "thread", None)
    root = links.counterpart(linked(), row.source_room or "", thread, row.room_id) \
        if thread else None
    base = Delivery(row.id, RoomId(row.room_id), f"{row.id}-{row.created_at:%Y%m%d%H%M%S%f}",
                    content, reply_to=reply_to, thread_root=root)
    match content:
        case Relay(text=text, quote=quote) if quote is not None and reply_to is None:
            # The answered message has no copy here to reply to: quote a few of its words.
            return replace(base, content=Relay(Text(f"{quote.plain}\n{text.plain}",
                                                    f"{quote.html}{text.html}")))
        case Edit() | Redact():
            target = links.copy_in(linked(), row.source_room or "", row.source_message or "",
                                   row.room_id)
            if target is None:
                return ("the original message was never relayed, or is older than the message "
                        "links kept ([privacy].link_retention_days), so it cannot be changed")
            return replace(base, target_id=target)
        case Delete():  # a message of this room itself: the command it names
            return replace(base, target_id=row.reply_to, reply_to=None)
        case React(of_message=of_message):
            # The message reacted to may be an original here or a copy of one from here.
            target = links.counterpart(linked(), row.source_room or "", of_message, row.room_id)
            if target is None:
                return ("the message reacted to was never relayed here, or is older than the "
                        "message links kept ([privacy].link_retention_days)")
            return replace(base, target_id=target)
    return base


def _sent(db: Session | Connection, row: Any, message_id: str, now: datetime) -> None:
    outbox.mark_sent(db, row.id, message_id, now)
    linked = row.kind in (Relay.KIND, Media.KIND, SharedLocation.KIND, React.KIND)
    if linked and row.source_room and row.source_message and message_id:
        link = links.replace if row.kind == React.KIND else links.record
        link(db, row.source_room, row.source_message, row.room_id, message_id, now)
