"""Message links: which message on one network is which on the other.

Each relayed message records (source room, source message) -> (target room,
target message), so that replies, edits and redactions cross the bridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, Index, Table, UniqueConstraint, delete, insert
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime


class MessageLink(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source_room", "source_message", "target_room",
                         name="uq_messagelink_source"),
        Index("ix_messagelink_target", "target_room", "target_message"),
        Index("ix_messagelink_at", "at"),  # retention: links recorded before a day
    )

    id: int | None = Field(default=None, primary_key=True)
    source_room: str = Field(max_length=255)
    source_message: str = Field(max_length=255)
    target_room: str = Field(max_length=255)
    target_message: str = Field(max_length=255)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


LINKS: Table = MessageLink.__table__  # type: ignore[attr-defined]
_RECORD = insert(LINKS)  # built once: it runs for every message relayed


def record(db: Session, source_room: str, source_message: str, target_room: str,
           target_message: str, now: datetime) -> None:
    """One INSERT: this runs for every message relayed."""
    db.connection().execute(_RECORD, {
        "source_room": source_room, "source_message": source_message,
        "target_room": target_room, "target_message": target_message, "at": now})


def replace(db: Session, source_room: str, source_message: str, target_room: str,
            target_message: str, now: datetime) -> None:
    """Record a link that may have been recorded before under the same source (a
    reaction taken back and put on again): the newest copy is the one that counts."""
    db.connection().execute(delete(LINKS).where(LINKS.c.source_room == source_room)
                            .where(LINKS.c.source_message == source_message)
                            .where(LINKS.c.target_room == target_room))
    record(db, source_room, source_message, target_room, target_message, now)


def copy_in(db: Session, source_room: str, source_message: str, target_room: str) -> str | None:
    """The id, in ``target_room``, of the relayed copy of a message."""
    return db.exec(select(MessageLink.target_message)
                   .where(MessageLink.source_room == source_room)
                   .where(MessageLink.source_message == source_message)
                   .where(MessageLink.target_room == target_room)).first()


def counterpart(db: Session, room: str, message: str, other_room: str) -> str | None:
    """The same message as it stands in ``other_room``: its copy there, or its original."""
    copy = copy_in(db, room, message, other_room)
    if copy is not None:
        return copy
    return db.exec(select(MessageLink.source_message)
                   .where(MessageLink.target_room == room)
                   .where(MessageLink.target_message == message)
                   .where(MessageLink.source_room == other_room)).first()


def room_holding(db: Session, rooms: Sequence[str], message: str) -> str | None:
    """Which of ``rooms`` holds ``message``, as far as the links know: the one it was
    relayed from, or the one its copy was sent to."""
    source = db.exec(select(MessageLink.source_room)
                     .where(col(MessageLink.source_room).in_(rooms))
                     .where(MessageLink.source_message == message)).first()
    if source is not None:
        return source
    return db.exec(select(MessageLink.target_room)
                   .where(col(MessageLink.target_room).in_(rooms))
                   .where(MessageLink.target_message == message)).first()
