"""Numbers people type (statement S3, deadline #13) that never come back after a removal.

SQLite gives a removed top id to the next row, so "/signon S3" written before S3 was
deleted would sign whatever statement came next. The highest number ever given is
kept with the resume points (where numbering left off), so no migration is needed
and PostgreSQL, whose sequences never go back, behaves the same.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from storage.inbound import get_resume, set_resume


def next_number(db: Session, id_column: Any, name: str) -> int:
    """One more than any id the table holds or ever held; ``name`` keeps the high mark."""
    return next_numbers(db, id_column, name, 1)


def next_numbers(db: Session, id_column: Any, name: str, count: int) -> int:
    """The first of ``count`` new numbers in a row, reserved at once (an import's batch)."""
    high = db.exec(select(func.max(id_column))).one() or 0
    first = max(int(high), int(get_resume(db, name) or 0)) + 1
    set_resume(db, name, str(first + count - 1))
    return first
