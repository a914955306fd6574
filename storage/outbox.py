"""The outbox: every message the bot must deliver is a row before it is a request.

Rows are written in the same transaction as the change that causes them (a
command's notice, a fired reminder), delivered in order per room by the
worker in ``bot.outbox``, retried with backoff, and kept with their error when
they fail for good. A crash loses nothing; a restart resumes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from bot.replies import Reply
from storage.types import UTCDateTime

PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(max_length=255, index=True)
    kind: str = Field(default="reply", max_length=16)
    payload: str = Field(sa_column=Column(Text, nullable=False))
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
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default=PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_message_id: str | None = Field(default=None, max_length=255)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


def enqueue(db: Session, room_id: str, reply: Reply, *, now: datetime,
            dedupe_key: str | None = None, reply_to: str | None = None) -> OutboxMessage | None:
    """Queue a reply for a room; None when ``dedupe_key`` was queued before."""
    row = OutboxMessage(room_id=room_id, payload=reply.to_json(), dedupe_key=dedupe_key,
                        reply_to=reply_to, created_at=now, next_attempt_at=now)
    if dedupe_key is None:
        db.add(row)
        return row
    try:
        with db.begin_nested():
            db.add(row)
        return row
    except IntegrityError:
        return None


def rooms_due(db: Session, now: datetime) -> list[str]:
    return list(db.exec(select(OutboxMessage.room_id).where(OutboxMessage.status == PENDING)
                        .where(OutboxMessage.next_attempt_at <= now).distinct()))


def next_for_room(db: Session, room_id: str) -> OutboxMessage | None:
    """The oldest pending row of a room: later rows wait for it, to keep the order."""
    return db.exec(select(OutboxMessage).where(OutboxMessage.room_id == room_id)
                   .where(OutboxMessage.status == PENDING)
                   .order_by(col(OutboxMessage.id)).limit(1)).first()


def next_attempt(db: Session) -> datetime | None:
    return db.exec(select(func.min(OutboxMessage.next_attempt_at))
                   .where(OutboxMessage.status == PENDING)).one()


def mark_sent(db: Session, row: OutboxMessage, message_id: str, now: datetime) -> None:
    row.status, row.sent_message_id, row.sent_at = SENT, message_id, now
    row.attempts += 1
    db.add(row)


def mark_retry(db: Session, row: OutboxMessage, error: str, at: datetime) -> None:
    row.attempts += 1
    row.last_error, row.next_attempt_at = error, at
    db.add(row)


def mark_failed(db: Session, row: OutboxMessage, error: str) -> None:
    row.attempts += 1
    row.status, row.last_error = FAILED, error
    db.add(row)


def pending(db: Session, room_id: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == PENDING)
    if room_id is not None:
        query = query.where(OutboxMessage.room_id == room_id)
    return list(db.exec(query.order_by(col(OutboxMessage.id))))


def retry_now(db: Session, room_prefix: str, now: datetime) -> int:
    rows = db.exec(select(OutboxMessage).where(OutboxMessage.status == PENDING)
                   .where(col(OutboxMessage.room_id).startswith(room_prefix))
                   .where(OutboxMessage.next_attempt_at > now)).all()
    for row in rows:
        row.next_attempt_at = now
        db.add(row)
    return len(rows)
