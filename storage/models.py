"""Tables of the core: who people are, their roles, room settings and the audit trail.

Capability modules add their own tables in modules of their own; every table
is created by an alembic migration, never by ``create_all`` in production.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Identity(SQLModel, table=True):
    """A person as the bot has seen them, by canonical id (``telegram:123``)."""

    id: str = Field(primary_key=True, max_length=255)
    display_name: str = Field(default="", max_length=255)
    # Seen speaking in an allowed room: may use member commands in a direct message.
    is_member: bool = False
    first_seen: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RoleGrant(SQLModel, table=True):
    """A role granted by an admin. Admins themselves come from the config only."""

    user_id: str = Field(primary_key=True, max_length=255)
    role: str = Field(max_length=32)
    granted_by: str = Field(max_length=255)
    granted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RoomSetting(SQLModel, table=True):
    """Per-room switches changed by command; the config gives the defaults."""

    room_id: str = Field(primary_key=True, max_length=255)
    reminders: bool | None = None
    # The monthly digest of the coalition's indicators (/indicators monthly on).
    indicators_monthly: bool = False


class AuditEntry(SQLModel, table=True):
    """Who changed which shared record, when and where."""

    __table_args__ = (Index("ix_auditentry_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: str = Field(max_length=255, index=True)
    room_id: str = Field(max_length=255)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=255)
    detail: str = Field(default="")
