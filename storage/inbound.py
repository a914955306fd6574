"""Where the bot left off on each network, and which inbound messages it has handled.

The Telegram update offset and the Matrix sync token are stored here, so a
restart resumes where it stopped; inbound messages are remembered by their ids,
so a message delivered twice by the network is handled once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from storage.types import UTCDateTime

INSERT_IGNORING = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class ResumePoint(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=64)  # "telegram.offset", "matrix.since"
    value: str = Field(max_length=255)


class InboundSeen(SQLModel, table=True):
    """One handled inbound message (or edit): (room, message id, version)."""

    room_id: str = Field(primary_key=True, max_length=255)
    message_id: str = Field(primary_key=True, max_length=255)
    version: str = Field(default="", primary_key=True, max_length=64)  # edit date, for edits
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def get_resume(db: Session, name: str) -> str | None:
    row = db.get(ResumePoint, name)
    return None if row is None else row.value


def set_resume(db: Session, name: str, value: str) -> None:
    row = db.get(ResumePoint, name) or ResumePoint(name=name, value=value)
    row.value = value
    db.add(row)


def first_sighting(db: Session, room_id: str, message_id: str, version: str,
                   now: datetime) -> bool:
    """Record a message as handled; False if it had been handled before.

    One ``INSERT ... ON CONFLICT DO NOTHING`` where the database has it (SQLite,
    PostgreSQL): this runs for every inbound message, so it should cost one
    statement; elsewhere a savepoint does the same.
    """
    values = {"room_id": room_id, "message_id": message_id, "version": version,
              "seen_at": now}
    dialect = db.get_bind().dialect.name
    if dialect in INSERT_IGNORING:
        statement = INSERT_IGNORING[dialect](InboundSeen).values(**values).on_conflict_do_nothing()
        return db.connection().execute(statement).rowcount == 1
    try:
        with db.begin_nested():
            db.add(InboundSeen(**values))
        return True
    except IntegrityError:
        return False
