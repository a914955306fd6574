"""The audit trail: every change to a shared record says who did what, when and where."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import AuditEntry


def record(db: Session, *, at: datetime, actor_id: str, room_id: str, action: str,
           target: str = "", detail: str = "") -> AuditEntry:
    entry = AuditEntry(at=at, actor_id=actor_id, room_id=room_id, action=action,
                       target=target, detail=detail)
    db.add(entry)
    return entry


def recent(db: Session, limit: int | None = 20, *, target: str | None = None,
           actions: tuple[str, ...] = (), offset: int = 0) -> list[AuditEntry]:
    query = select(AuditEntry)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if actions:
        query = query.where(col(AuditEntry.action).in_(actions))
    return list(db.exec(query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)))


def total(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(AuditEntry)).one())
