"""Reminder rows: what is due when, and where it goes.

Each row stores its target rooms. Rows for sessions, deadlines and statement
nudges are re-derived from the calendar whenever it changes; their keys hold
the due time, so a moved session makes a new row and cancels the stale one,
and the same plan twice changes nothing. Firing marks the row sent in the same
transaction that queues its messages, so a repeated run does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime

PENDING, SENT, MISSED, CANCELLED = "pending", "sent", "missed", "cancelled"
DERIVED = ("session", "deadline", "nudge", "upr")


class Reminder(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=128)  # also the scheduler's job id
    kind: str = Field(max_length=16)  # session | deadline | nudge | upr | remind | digest
    ref: str = Field(default="", max_length=64)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    targets: str = Field(default="", sa_column=Column(Text, nullable=False))  # room ids
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str | None = Field(default=None, max_length=255)
    status: str = Field(default=PENDING, max_length=16, index=True)
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                     nullable=True))

    @property
    def rooms(self) -> list[str]:
        return self.targets.split()


@dataclass(frozen=True)
class Planned:
    key: str
    kind: str
    ref: str
    due_at: datetime
    rooms: tuple[str, ...]


def apply_plan(db: Session, planned: list[Planned], *, now: datetime) -> bool:
    """Make the pending derived rows match the plan; True when anything changed."""
    wanted = {p.key: p for p in planned if p.due_at > now and p.rooms}
    changed = False
    current = {r.key: r for r in db.exec(select(Reminder)
                                         .where(col(Reminder.kind).in_(DERIVED)))}
    for key, plan in wanted.items():
        row = current.get(key)
        targets = " ".join(plan.rooms)
        if row is None:
            db.add(Reminder(key=key, kind=plan.kind, ref=plan.ref, due_at=plan.due_at,
                            targets=targets))
            changed = True
        elif row.status == PENDING and row.targets != targets:
            row.targets = targets
            db.add(row)
            changed = True
        elif row.status == CANCELLED:
            row.status, row.targets = PENDING, targets
            db.add(row)
            changed = True
    for key, row in current.items():
        if key not in wanted and row.status == PENDING and row.due_at > now:
            row.status = CANCELLED
            db.add(row)
            changed = True
    return changed


def pending(db: Session, *, after: datetime | None = None,
            before: datetime | None = None) -> list[Reminder]:
    query = select(Reminder).where(Reminder.status == PENDING)
    if after is not None:
        query = query.where(Reminder.due_at > after)
    if before is not None:
        query = query.where(Reminder.due_at <= before)
    return list(db.exec(query.order_by(col(Reminder.due_at))))


def overdue(db: Session, now: datetime) -> list[Reminder]:
    return list(db.exec(select(Reminder).where(Reminder.status == PENDING)
                        .where(Reminder.due_at <= now).order_by(col(Reminder.due_at))))


def for_room(db: Session, room_ids: tuple[str, ...], *, status: str, since: datetime | None = None,
             limit: int | None = 10) -> list[Reminder]:
    query = select(Reminder).where(Reminder.status == status)
    if since is not None:
        query = query.where(Reminder.due_at >= since)
    rows = db.exec(query.order_by(col(Reminder.due_at)))
    return [r for r in rows if set(r.rooms) & set(room_ids)][:limit]


def grace_window(grace_hours: float) -> timedelta:
    return timedelta(hours=grace_hours)
