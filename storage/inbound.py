"""Where the bot left off on each network, and which inbound messages it has handled.

The Telegram update offset and the Matrix sync token are stored here, so a
restart resumes where it stopped (and the few other notes an adapter needs after a
restart, such as where a Telegram poll was posted: the update that closes it names
only the poll); inbound messages are remembered by their ids,
so a message delivered twice by the network is handled once. A secret kept
here (the Matrix access token of a password login) is sealed with the data key;
the offsets and sync tokens are not, since they are written for every message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, Index, Table, Text
from sqlmodel import Field, Session, SQLModel

from storage.crypto import seal, unseal
from storage.database import ignoring, upserting
from storage.driver import DriverStatement
from storage.types import UTCDateTime


class ResumePoint(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=64)  # "telegram.offset", "matrix.since"
    # Text: a Matrix access token is kept here, encrypted when there is a data key.
    value: str = Field(sa_column=Column(Text, nullable=False))


class InboundSeen(SQLModel, table=True):
    """One handled inbound message (or edit): (room, message id, version)."""

    __table_args__ = (Index("ix_inboundseen_seen_at", "seen_at"),)  # retention, by age

    room_id: str = Field(primary_key=True, max_length=255)
    message_id: str = Field(primary_key=True, max_length=255)
    version: str = Field(default="", primary_key=True, max_length=64)  # edit date, for edits
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


RESUME: Table = ResumePoint.__table__  # type: ignore[attr-defined]
# The resume points that hold a secret: written with set_secret, sealed by `keys rotate`.
MATRIX_ACCESS_TOKEN = "matrix.access_token"
SECRETS = (MATRIX_ACCESS_TOKEN,)
SEEN: Table = InboundSeen.__table__  # type: ignore[attr-defined]
# Both run for every message: on the driver's cursor (storage.driver).
_SET_RESUME = DriverStatement(lambda dialect: upserting(dialect, RESUME, "name", ("value",)),
                              values=True)
_FIRST_SIGHTING = DriverStatement(lambda dialect: ignoring(dialect, SEEN), values=True)


def get_resume(db: Session, name: str) -> str | None:
    row = db.get(ResumePoint, name)
    return None if row is None else row.value


def set_resume(db: Session | Connection, name: str, value: str) -> None:
    """One statement: the Telegram offset is stored with every update."""
    _SET_RESUME.execute(db, {"name": name, "value": value})


def drop_resume(db: Session, name: str) -> None:
    """Forget a note that is no longer needed (a poll's place, once its result crossed)."""
    row = db.get(ResumePoint, name)
    if row is not None:
        db.delete(row)


def get_secret(db: Session, name: str) -> str | None:
    stored = get_resume(db, name)
    return None if stored is None else unseal(stored)


def set_secret(db: Session, name: str, value: str) -> None:
    """Stored sealed with the data key, when there is one."""
    set_resume(db, name, seal(value))


def first_sighting(db: Session | Connection, room_id: str, message_id: str, version: str,
                   now: datetime) -> bool:
    """Record a message as handled; False if it had been handled before."""
    return _FIRST_SIGHTING.rowcount(db, {"room_id": room_id, "message_id": message_id,
                                         "version": version, "seen_at": now}) == 1
