"""Message links: which message on one network is which on the other.

Each relayed message records (source room, source message) -> (target room,
target message), so that replies, edits and redactions cross the bridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    insert,
)
from sqlmodel import Field, Session, SQLModel, col, select

from storage.database import connection_of
from storage.driver import DriverStatement
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
# Built once: they run for every message relayed, and for each reply or edit.
_RECORD = DriverStatement(insert(LINKS), values=True)
_COPY = (select(LINKS.c.target_message).where(LINKS.c.source_room == bindparam("room"))
         .where(LINKS.c.source_message == bindparam("message"))
         .where(LINKS.c.target_room == bindparam("other")).limit(1))
_ORIGINAL = (select(LINKS.c.source_message).where(LINKS.c.target_room == bindparam("room"))
             .where(LINKS.c.target_message == bindparam("message"))
             .where(LINKS.c.source_room == bindparam("other")).limit(1))


def record(db: Session | Connection, source_room: str, source_message: str, target_room: str,
           target_message: str, now: datetime) -> None:
    """One INSERT: this runs for every message relayed."""
    _RECORD.execute(db, {
        "source_room": source_room, "source_message": source_message,
        "target_room": target_room, "target_message": target_message, "at": now})


def replace(db: Session | Connection, source_room: str, source_message: str,
            target_room: str, target_message: str, now: datetime) -> None:
    """Record a link that may have been recorded before under the same source (a
    reaction taken back and put on again): the newest copy is the one that counts."""
    connection_of(db).execute(delete(LINKS).where(LINKS.c.source_room == source_room)
                            .where(LINKS.c.source_message == source_message)
                            .where(LINKS.c.target_room == target_room))
    record(db, source_room, source_message, target_room, target_message, now)


def copy_in(db: Session | Connection, source_room: str, source_message: str,
            target_room: str) -> str | None:
    """The id, in ``target_room``, of the relayed copy of a message."""
    return connection_of(db).execute(_COPY, {"room": source_room, "message": source_message,
                                             "other": target_room}).scalar()


def counterpart(db: Session | Connection, room: str, message: str,
                other_room: str) -> str | None:
    """The same message as it stands in ``other_room``: its copy there, or its original."""
    copy = copy_in(db, room, message, other_room)
    if copy is not None:
        return copy
    return connection_of(db).execute(_ORIGINAL, {"room": room, "message": message,
                                                 "other": other_room}).scalar()


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
