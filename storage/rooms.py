"""Rooms allowed and pairs made from chat, beside the config's own rooms.

An admin allows a room from inside it (``/room allow``) or pairs a Telegram group
with a Matrix room by a one-time code (``/bridge pair``); both are rows here, read
with the config's rooms by ``bot.rooms``. A pair is two rows naming each other. A
pairing code is kept only as a hash, bound to the room that asked for it, and is
spent (deleted) by its one use. The config stays the source of admins and secrets,
and of its own rooms: nothing here may name a room the config has.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Column, Table, delete
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import RoomSetting
from storage.one_time_codes import code_hash, new_code
from storage.types import UTCDateTime

PAIRING_CODE_LIFETIME = timedelta(minutes=10)


class ChatRoom(SQLModel, table=True):
    """A room an admin allowed from chat: the bot acts there (commands, reminders); with a
    ``partner_id`` it is one side of a bridged pair."""

    room_id: str = Field(primary_key=True, max_length=255)
    name: str = Field(max_length=255)
    secure: bool = False
    partner_id: str | None = Field(default=None, max_length=255, unique=True)
    added_by: str = Field(max_length=255)
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    paired_by: str | None = Field(default=None, max_length=255)
    paired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class PairingCode(SQLModel, table=True):
    """A code waiting to be typed in the room to pair with: only its hash is kept."""

    code_hash: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(max_length=255, index=True)  # the room that asked for it
    room_name: str = Field(max_length=255)
    requested_by: str = Field(max_length=255)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


CODES: Table = PairingCode.__table__  # type: ignore[attr-defined]
# Pairing codes are not bound to a person (an admin on the other network spends it),
# only to their purpose: the same code could never confirm an erasure.
PURPOSE = "pair"


def chat_rooms(db: Session) -> list[ChatRoom]:
    return list(db.exec(select(ChatRoom).order_by(col(ChatRoom.added_at), col(ChatRoom.room_id))))


def allow(db: Session, room_id: str, name: str, *, by: str, now: datetime) -> ChatRoom:
    """Allow a room (idempotent: an allowed room keeps its settings)."""
    row = db.get(ChatRoom, room_id)
    if row is None:
        row = ChatRoom(room_id=room_id, name=name[:255], added_by=by, added_at=now)
        db.add(row)
        db.flush()
    return row


def set_secure(db: Session, room_id: str, secure: bool) -> None:
    row = db.get(ChatRoom, room_id)
    if row is None:
        raise LookupError(room_id)
    row.secure = secure
    db.add(row)
    db.flush()


def forget(db: Session, room_id: str) -> bool:
    """The room is no longer allowed from chat, and its switches go with it."""
    row = db.get(ChatRoom, room_id)
    if row is None:
        return False
    db.delete(row)
    setting = db.get(RoomSetting, room_id)
    if setting is not None:
        db.delete(setting)
    db.flush()
    return True


def pair(db: Session, first: tuple[str, str], second: tuple[str, str], *, by: str,
         now: datetime) -> None:
    """Pair two rooms, each ``(room id, name)``; either is allowed on the way if it was not."""
    rows = [allow(db, room_id, name, by=by, now=now) for room_id, name in (first, second)]
    for row, other in zip(rows, reversed(rows), strict=True):
        row.partner_id, row.paired_by, row.paired_at = other.room_id, by, now
        db.add(row)
    db.flush()


def unpair(db: Session, room_id: str) -> str | None:
    """Stop a pair; both rooms stay allowed. Returns the partner it had."""
    row = db.get(ChatRoom, room_id)
    if row is None or row.partner_id is None:
        return None
    partner = db.get(ChatRoom, row.partner_id)
    for side in (row, partner):
        if side is not None:
            side.partner_id = side.paired_by = side.paired_at = None
            db.add(side)
            db.flush()  # one at a time: partner_id is unique
    return partner.room_id if partner is not None else None


def issue_pairing_code(db: Session, room_id: str, room_name: str, *, by: str,
                       now: datetime) -> str:
    """A new code for this room; an earlier unspent one of this room stops working."""
    run = db.connection().execute
    run(delete(CODES).where(CODES.c.expires_at <= now - timedelta(days=1)))
    run(delete(CODES).where(CODES.c.room_id == room_id))
    code = new_code()
    db.add(PairingCode(code_hash=code_hash(PURPOSE, code=code), room_id=room_id,
                       room_name=room_name[:255], requested_by=by,
                       expires_at=now + PAIRING_CODE_LIFETIME))
    db.flush()
    return code


@dataclass(frozen=True)
class CodeCheck:
    """What a typed code turned out to be: the room that asked for it, when it is live."""

    state: Literal["live", "expired", "unknown"]
    room_id: str = ""
    room_name: str = ""
    requested_by: str = ""


def spend_pairing_code(db: Session, code: str, *, now: datetime) -> CodeCheck:
    """Use a code up. Unknown: mistyped or used before; expired: kept a day to say so."""
    wanted = code_hash(PURPOSE, code=code)
    row = db.get(PairingCode, wanted)
    if row is None or not hmac.compare_digest(row.code_hash, wanted):
        return CodeCheck("unknown")
    check = CodeCheck("live" if row.expires_at > now else "expired", row.room_id,
                      row.room_name, row.requested_by)
    db.delete(row)  # single use, live or not
    db.flush()
    return check
