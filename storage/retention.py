"""Retention: what the database stops keeping after a while, by a daily job.

Delivered (and failed) outbox rows keep their text only as long as replies and
edits across the bridge may need it; then the payload becomes an empty one of
the same shape, so nothing that reads old rows breaks, and the ids stay (message
links are untouched, so replies, edits and redactions of old messages still
resolve). Closed cases lose their confidential details, pseudonym and the text
of their timeline some days after closing; the number, country, status and dates
stay. Web signers' names and e-mails go some days after their statement's deadline
(``storage.web_signons``). Rows are chosen by status and dates only, never by the content of a
column, which may be encrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlmodel import Session, col
from sqlmodel import select as model_select

from storage import audit
from storage.cases import Case, CaseEvent, timeline
from storage.outbox import FAILED, OUTBOX, SENT
from storage.web_signons import drop_signer_data

# Who the audit trail names for the daily job.
ACTOR = "caucus-bot:retention"
BATCH = 500  # rows rewritten per statement round, so a first run on a big outbox stays light


@dataclass(frozen=True)
class RetentionResult:
    messages: int
    cases: int
    web_signers: int = 0

    def summary(self) -> str:
        """Counts only: the audit line names no message, no case content and no person."""
        return (f"retention: dropped text of {self.messages} delivered "
                f"message{'s' if self.messages != 1 else ''}; purged details of {self.cases} "
                f"closed case{'s' if self.cases != 1 else ''}"
                + (f"; dropped name and e-mail of {self.web_signers} web signer"
                   f"{'s' if self.web_signers != 1 else ''}" if self.web_signers else ""))


def empty_payload(kind: str, payload: str) -> str:
    """The payload of ``kind`` with no words in it, shaped as readers expect it.

    A file keeps what a reader needs to tell it is a file (its network, type and
    size); its name and the reference that fetches it go.
    """
    if kind == "reply":
        return json.dumps({"lines": []})
    if kind in ("relay", "edit"):
        return json.dumps({"plain": "", "html": ""})
    if kind == "file":
        try:
            old = json.loads(payload).get("file", {})
        except (ValueError, AttributeError):
            old = {}
        return json.dumps({"plain": "", "html": "", "file": {
            "platform": old.get("platform", ""), "ref": "", "name": "",
            "mime": old.get("mime", "application/octet-stream"), "size": old.get("size")}})
    return "{}"


def drop_delivered_text(db: Session, *, before: datetime, now: datetime) -> int:
    """Empty the payload of rows sent (or failed) before ``before``; how many were emptied.

    Pending rows are never touched: they still have to be delivered.
    """
    old_enough = or_(and_(OUTBOX.c.status == SENT, OUTBOX.c.sent_at < before),
                     and_(OUTBOX.c.status == FAILED, OUTBOX.c.created_at < before))
    query = (select(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.payload)
             .where(OUTBOX.c.text_dropped_at.is_(None)).where(old_enough)
             .order_by(OUTBOX.c.id).limit(BATCH))
    change = (update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
              .values(payload=bindparam("empty"), text_dropped_at=now))
    run = db.connection().execute
    dropped = 0
    while rows := run(query).all():
        run(change, [{"row_id": row_id, "empty": empty_payload(kind, payload)}
                     for row_id, kind, payload in rows])
        dropped += len(rows)
    return dropped


def closed_at(db: Session, case: Case) -> datetime:
    """When the case was closed: its last "status → closed" event, else its last update."""
    moment = db.exec(model_select(func.max(CaseEvent.at))
                     .where(CaseEvent.case_id == case.id).where(CaseEvent.kind == "status")
                     .where(CaseEvent.value == "closed")).one()
    return moment if moment is not None else case.updated_at


def purge_closed_cases(db: Session, *, before: datetime) -> int:
    """Clear details, pseudonym and timeline text of cases closed before ``before``.

    Returns how many cases had something to clear: a case purged on an earlier
    day, and not written to since, is not counted again.
    """
    purged = 0
    for case in db.exec(model_select(Case).where(Case.status == "closed")
                        .order_by(col(Case.id))):
        if closed_at(db, case) >= before:
            continue
        events = [e for e in timeline(db, case.key) if e.text]
        if case.details is None and case.pseudonym is None and not events:
            continue
        case.details, case.pseudonym = None, None
        db.add(case)  # updated_at stays: purging is not a change anybody made
        for event in events:
            event.text = ""
            db.add(event)
        purged += 1
    db.flush()
    return purged


def apply_retention(db: Session, *, now: datetime, relay_days: int,
                    closed_case_days: int | None,
                    web_signer_days: int | None = None) -> RetentionResult:
    """Every rule, and one audit line with the counts when anything went; the caller commits."""
    messages = drop_delivered_text(db, before=now - timedelta(days=relay_days), now=now)
    cases = 0
    if closed_case_days is not None:
        cases = purge_closed_cases(db, before=now - timedelta(days=closed_case_days))
    signers = 0
    if web_signer_days is not None:
        signers = drop_signer_data(db, now=now, days=web_signer_days)
    result = RetentionResult(messages=messages, cases=cases, web_signers=signers)
    if messages or cases or signers:
        audit.record(db, at=now, actor_id=ACTOR, room_id="", action="retention",
                     detail=result.summary())
    return result
