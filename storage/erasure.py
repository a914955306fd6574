"""Erasing a case for good, behind a one-time confirmation code.

A case is erased in two steps: ``/case erase N`` issues a code, ``/case erase N
<code>`` spends it. The code is stored hashed, bound to the case and the person who
asked, and lives ten minutes, so neither a typo of the case number nor someone
else reading the chat can erase a case. Erasure removes the case row, its tags, its
timeline, its links to recommendations and every outbox row that carried its words
(pending rows too, so they are never delivered); audit rows about it keep their
action but lose their detail.
Nothing here reads the content of encrypted columns: rows are found by their ids.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Table, delete, insert, select, update
from sqlmodel import Field, Session, SQLModel

from storage.cases import Case, CaseEvent, CaseTag
from storage.models import AuditEntry
from storage.one_time_codes import code_hash, new_code
from storage.outbox import OUTBOX
from storage.recommendations import delete_case_links
from storage.types import UTCDateTime

CODE_LIFETIME = timedelta(minutes=10)


class ErasureCode(SQLModel, table=True):
    """A confirmation code waiting to be spent: only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    requested_by: str = Field(max_length=255)
    code_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


CODES: Table = ErasureCode.__table__  # type: ignore[attr-defined]
CASES: Table = Case.__table__  # type: ignore[attr-defined]
EVENTS: Table = CaseEvent.__table__  # type: ignore[attr-defined]
TAGS: Table = CaseTag.__table__  # type: ignore[attr-defined]
AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CaseErasure:
    """What an erasure removed, by count: the audit trail says no more than this."""

    events: int
    tags: int
    messages: int
    audit_rows_cleared: int


def subject_of(case_id: int) -> str:
    """The ``OutboxMessage.subject`` of messages about a case (see ``Context.subject``)."""
    return f"case:{case_id}"


def _hash(case_id: int, requested_by: str, code: str) -> str:
    # The case and the person are part of what is hashed: a code is worth nothing
    # for another case or in another person's hands.
    return code_hash(case_id, requested_by, code=code)


def issue_code(db: Session, case_id: int, requested_by: str, *, now: datetime) -> str:
    """A new code for this case and person; earlier unspent ones of theirs stop working."""
    run = db.connection().execute
    run(delete(CODES).where(CODES.c.expires_at <= now))
    run(delete(CODES).where(CODES.c.case_id == case_id)
        .where(CODES.c.requested_by == requested_by))
    code = new_code()
    run(insert(CODES).values(case_id=case_id, requested_by=requested_by,
                             code_hash=_hash(case_id, requested_by, code),
                             expires_at=now + CODE_LIFETIME))
    return code


def spend_code(db: Session, case_id: int, requested_by: str, code: str, *,
               now: datetime) -> bool:
    """True, and the code is used up, when it is this person's live code for this case."""
    wanted = _hash(case_id, requested_by, code.strip())
    run = db.connection().execute
    rows = run(select(CODES.c.id, CODES.c.code_hash, CODES.c.expires_at)
               .where(CODES.c.case_id == case_id)
               .where(CODES.c.requested_by == requested_by)).all()
    for row_id, stored, expires_at in rows:
        if expires_at > now and hmac.compare_digest(stored, wanted):
            run(delete(CODES).where(CODES.c.id == row_id))
            return True
    return False


def erase_case(db: Session, case_id: int) -> CaseErasure:
    """Remove the case and everything that carried its words; the caller audits the erasure.

    Tags and events are deleted by statement rather than left to the foreign keys'
    cascade, so the result is the same where a database does not enforce them.
    """
    db.flush()  # what this session changed must be in the tables the statements below see
    run = db.connection().execute
    events = run(delete(EVENTS).where(EVENTS.c.case_id == case_id)).rowcount
    tags = run(delete(TAGS).where(TAGS.c.case_id == case_id)).rowcount
    messages = run(delete(OUTBOX).where(OUTBOX.c.subject == subject_of(case_id))).rowcount
    cleared = run(update(AUDIT).where(AUDIT.c.target == f"#{case_id}")
                  .where(AUDIT.c.action.startswith("case.")).where(AUDIT.c.detail != "")
                  .values(detail="")).rowcount
    run(delete(CODES).where(CODES.c.case_id == case_id))
    delete_case_links(db, case_id)  # which recommendations it was about goes with it
    run(delete(CASES).where(CASES.c.id == case_id))
    _forget(db, case_id)
    return CaseErasure(events=int(events), tags=int(tags), messages=int(messages),
                       audit_rows_cleared=int(cleared))



def _forget(db: Session, case_id: int) -> None:
    """Objects this session loaded for the case must not outlive their rows."""
    for obj in list(db):
        if (isinstance(obj, Case) and obj.id == case_id) or (
                isinstance(obj, CaseEvent | CaseTag) and obj.case_id == case_id):
            db.expunge(obj)
