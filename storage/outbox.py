"""The outbox: every message the bot must deliver is a row before it is a request.

Rows are written in the same transaction as the change that causes them (a
command's notice, a fired reminder), delivered in order per room by the
worker in ``bot.outbox``, retried with backoff, and kept with their error when
they fail for good. A crash loses nothing; a restart resumes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlmodel import Field, Session, SQLModel, col

from storage.database import connection_of, insert_ignoring
from storage.driver import DriverStatement
from storage.types import EncryptedText, Keyed, UTCDateTime

PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(Keyed, SQLModel, table=True):
    # A history of a million delivered rows must not slow the few that wait: every
    # query the worker, /bridge status and retention run is served by one of these
    # (tests/storage/test_query_plans.py checks the plans on both engines).
    __table_args__ = (
        # The worker: a room's oldest pending row; rooms with rows due; counts by status.
        Index("ix_outboxmessage_queue", "status", "room_id", "id"),
        # /bridge status: a room's last error, among the few rows that have one.
        Index("ix_outboxmessage_errors", "room_id", "id",
              sqlite_where=text("last_error IS NOT NULL"),
              postgresql_where=text("last_error IS NOT NULL")),
        # Retention: the rows queued before a day, oldest first.
        Index("ix_outboxmessage_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(max_length=255)
    kind: str = Field(default="reply", max_length=16)
    # Relayed text and answers: encrypted at rest, never queried.
    payload: str = Field(sa_column=Column(EncryptedText(), nullable=False))
    # Set when a message must never go twice (a reminder to a room): unique.
    dedupe_key: str | None = Field(default=None, max_length=255, unique=True)
    reply_to: str | None = Field(default=None, max_length=255)  # network message id answered
    # A relayed message: its original, so the link is recorded once it is sent and so
    # that edits and redactions find their copy. (kind: reply, relay, edit, redact, file)
    source_room: str | None = Field(default=None, max_length=255)
    source_message: str | None = Field(default=None, max_length=255)
    # What it answers on the other network, resolved to this room's id when sent.
    reply_source_room: str | None = Field(default=None, max_length=255)
    reply_source_message: str | None = Field(default=None, max_length=255)
    # The record whose words it carries ("case:12"), so that erasing the record
    # erases every message about it too.
    subject: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_message_id: str | None = Field(default=None, max_length=255)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # When retention (storage.retention) dropped its text: kept so the daily job passes
    # over it, since an encrypted empty payload cannot be told from the database.
    text_dropped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                         nullable=True))


OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
# Built once: these run for every message delivered, and building a statement costs
# SQLAlchemy more than SQLite takes to run it.
_ADD = DriverStatement(insert(OUTBOX).returning(OUTBOX.c.id), values=True)
_NEXT = DriverStatement(select(OUTBOX).where(OUTBOX.c.status == PENDING)
                        .where(OUTBOX.c.room_id == bindparam("room")).order_by(OUTBOX.c.id)
                        .limit(1))
_CHANGE = DriverStatement(update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
                          .values(attempts=OUTBOX.c.attempts + 1), values=True)


_COLLECTED = "caucus.outbox.collected"  # Connection.info: the rows queued, while collecting


def add(db: Session | Connection, room_id: str, *, kind: str, payload: str, now: datetime,
        dedupe_key: str | None = None, **fields: Any) -> int | None:
    """Queue one row: its id, which is its place in the room's order; None when
    ``dedupe_key`` (a message that must never go twice) was queued before.

    Every row is queued through here, as one INSERT at the call, so rows take their
    ids in the order the code queues them (an ORM object would wait for the flush).
    """
    values = {"room_id": room_id, "kind": kind, "payload": payload, "created_at": now,
              "next_attempt_at": now, "status": PENDING, "attempts": 0, **fields}
    connection = connection_of(db)
    if dedupe_key is None:
        row_id = int(_ADD.execute(connection, values).fetchone()[0])
    else:
        values["dedupe_key"] = dedupe_key
        if not insert_ignoring(connection, OUTBOX, values):
            return None
        row_id = connection.execute(select(OUTBOX.c.id).where(
            OUTBOX.c.dedupe_key == dedupe_key)).scalar_one()
    collected = connection.info.get(_COLLECTED)
    if collected is not None:
        collected.append(SimpleNamespace(**{**_EMPTY, **values, "id": row_id}))
    return row_id


_EMPTY = dict.fromkeys(c.name for c in OUTBOX.columns)


@contextmanager
def collecting(db: Session | Connection) -> Iterator[list[Any]]:
    """The rows :func:`add` queues on this connection inside the block, as written (their
    columns as attributes, the payload in clear), for the worker to send once they are
    committed without reading them back."""
    connection = connection_of(db)
    rows: list[Any] = []
    connection.info[_COLLECTED] = rows
    try:
        yield rows
    finally:
        connection.info.pop(_COLLECTED, None)


def rooms_due(db: Session, now: datetime) -> list[str]:
    return list(db.connection().execute(
        select(OUTBOX.c.room_id).where(OUTBOX.c.status == PENDING)
        .where(OUTBOX.c.next_attempt_at <= now).distinct()).scalars())


def next_for_room(db: Session | Connection, room_id: str) -> Any:
    """The oldest pending row of a room (None when none waits): later rows wait for it,
    to keep the order.

    Its columns as attributes, not an ORM object: this runs for every message delivered.
    """
    return _NEXT.first(db, {"room": room_id})


def next_attempt(db: Session) -> datetime | None:
    return db.connection().execute(select(func.min(OUTBOX.c.next_attempt_at))
                                   .where(OUTBOX.c.status == PENDING)).scalar()


def _change(db: Session | Connection, row_id: int, **values: Any) -> None:
    _CHANGE.execute(db, {"row_id": row_id, **values})


def mark_sent(db: Session | Connection, row_id: int, message_id: str, now: datetime) -> None:
    _change(db, row_id, status=SENT, sent_message_id=message_id, sent_at=now)


def mark_retry(db: Session | Connection, row_id: int, error: str, at: datetime) -> None:
    _change(db, row_id, last_error=error, next_attempt_at=at)


def mark_failed(db: Session | Connection, row_id: int, error: str) -> None:
    _change(db, row_id, status=FAILED, last_error=error)


def pending(db: Session, room_id: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(col(OutboxMessage.status) == PENDING)
    if room_id is not None:
        query = query.where(col(OutboxMessage.room_id) == room_id)
    return list(db.scalars(query.order_by(col(OutboxMessage.id))))


def retry_now(db: Session, room_prefix: str, now: datetime) -> int:
    return int(db.connection().execute(
        update(OUTBOX).where(OUTBOX.c.status == PENDING)
        .where(OUTBOX.c.room_id.startswith(room_prefix))
        .where(OUTBOX.c.next_attempt_at > now).values(next_attempt_at=now)).rowcount)


def backlog(db: Session) -> list[tuple[str, str, int, datetime]]:
    """(room, status, rows, oldest queued) of every room with pending or failed rows."""
    return [(room, status, int(count), oldest) for room, status, count, oldest in
            db.connection().execute(
                select(OUTBOX.c.room_id, OUTBOX.c.status, func.count(),
                       func.min(OUTBOX.c.created_at))
                .where(OUTBOX.c.status.in_((PENDING, FAILED)))
                .group_by(OUTBOX.c.room_id, OUTBOX.c.status))]
