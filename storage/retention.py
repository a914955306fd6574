"""Retention: what the database stops keeping after a while, by a daily job.

Every relayed message leaves three rows: its inbound record (so a redelivery is
handled once), its outbox row and its message link. Kept for good they grow the
database by every message ever said; here each goes once past its use, so the
database holds a bounded window of the conversation:

- outbox rows sent or failed ``relay_days`` ago are deleted, text and all (the link
  keeps what replies, edits and redactions need). Rows that guard against a second
  sending (a reminder, a forum topic's root: they carry a ``dedupe_key``) stay, so
  that the message is never sent again, with their text dropped: the payload becomes
  an empty one of the same shape.
- inbound records go after ``SEEN_KEPT``: a network redelivers only what the bot has
  not confirmed (see below), long before that.
- message links go after ``link_days`` (``[privacy].link_retention_days``); a reply to
  an older message then crosses as a quote, an edit or a redaction of it does not
  cross (the outbox row fails saying why), ``/delete`` deletes it on its side only.
  The links of rows that stay (a topic's root, which its thread hangs from) stay.

Deletions go in batches of ``BATCH`` rows, each committed, so that a first run over a
long history never holds the database (SQLite's one writer) for more than a moment.
Closed cases lose their confidential details, pseudonym and the text of their timeline
some days after closing; the number, country, status and dates stay. Web signers' names
and e-mails go some days after their statement's deadline (``storage.web_signons``).
Rows are chosen by status and dates only, never by the content of a column, which may
be encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, bindparam, delete, func, select, tuple_, update
from sqlmodel import Session, col
from sqlmodel import select as model_select

from storage import audit
from storage.cases import Case, CaseEvent, timeline
from storage.inbound import SEEN
from storage.links import LINKS
from storage.outbox import OUTBOX, PENDING
from storage.web_signons import drop_signer_data

# Who the audit trail names for the daily job.
ACTOR = "caucus-bot:retention"
BATCH = 1000  # rows per statement, each batch its own transaction
# How long an inbound message is remembered as handled. A network gives a message again
# only while the bot has not confirmed it: Telegram keeps an unconfirmed update (a poll's
# offset not yet moved past it, a webhook call not yet answered) for 24 hours at most;
# Matrix events come again after a restart from the stored sync token, which is stored
# within seconds of the events it covers and re-read at once. A week is seven times the
# longest of these, and covers a bot stopped over a long weekend whose first sync on
# starting again re-reads the last few seconds before it stopped.
SEEN_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class RetentionResult:
    messages: int  # outbox rows deleted
    cases: int
    web_signers: int = 0
    seen: int = 0  # inbound records deleted
    links: int = 0  # message links deleted
    emptied: int = 0  # kept outbox rows whose text was dropped

    @property
    def anything(self) -> bool:
        return any((self.messages, self.cases, self.web_signers, self.seen, self.links,
                    self.emptied))

    def summary(self) -> str:
        """Counts only: the audit line names no message, no case content and no person."""
        return (f"retention: deleted {_n(self.messages, 'delivered message')}, "
                f"{_n(self.seen, 'inbound record')} and {_n(self.links, 'message link')}; "
                f"dropped text of {_n(self.emptied, 'kept message')}; purged details of "
                f"{_n(self.cases, 'closed case')}"
                + (f"; dropped name and e-mail of {_n(self.web_signers, 'web signer')}"
                   if self.web_signers else ""))


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


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


def drop_kept_text(db: Session, *, before: datetime, now: datetime) -> int:
    """Empty the payload of kept rows (those with a ``dedupe_key``) sent (or failed)
    before ``before``; how many were emptied. Pending rows are never touched."""
    query = (select(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.payload)
             .where(OUTBOX.c.dedupe_key >= "")  # has one; see forget_links
             .where(OUTBOX.c.text_dropped_at.is_(None)).where(OUTBOX.c.status != PENDING)
             # A failed row was never sent: its age is its queueing's.
             .where(func.coalesce(OUTBOX.c.sent_at, OUTBOX.c.created_at) < before)
             .order_by(OUTBOX.c.dedupe_key).limit(BATCH))  # its index's order
    change = (update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
              .values(payload=bindparam("empty"), text_dropped_at=now))
    run = db.connection().execute
    dropped = 0
    while rows := run(query).all():
        run(change, [{"row_id": row_id, "empty": empty_payload(kind, payload)}
                     for row_id, kind, payload in rows])
        dropped += len(rows)
    return dropped


def _in_batches(db: Session, batch: Callable[[], Delete]) -> int:
    """Run ``batch()`` (a DELETE of at most ``BATCH`` rows) and commit, until it deletes
    nothing; how many rows went."""
    deleted = 0
    while True:
        count = db.connection().execute(batch()).rowcount
        db.commit()
        deleted += count
        if count < BATCH:
            return deleted


def delete_delivered(db: Session, *, before: datetime) -> int:
    """Delete the outbox rows queued before ``before`` that were sent or failed, but for
    those that guard against a second sending (a ``dedupe_key``)."""
    # Only the date may lead SQLite to an index here: it takes "dedupe_key IS NULL" for a
    # look-up in that column's unique index (which holds every row without one) and a
    # status for the queue's (every delivered row), so those two are written as tests it
    # cannot search by.
    oldest = (select(OUTBOX.c.id).where(OUTBOX.c.created_at < before)
              .where(OUTBOX.c.status != PENDING)
              .where(func.coalesce(OUTBOX.c.dedupe_key, "") == "")
              .order_by(OUTBOX.c.created_at).limit(BATCH))
    return _in_batches(db, lambda: delete(OUTBOX).where(OUTBOX.c.id.in_(oldest)))


def forget_seen(db: Session, *, before: datetime) -> int:
    """Delete the records of inbound messages handled before ``before``."""
    key = tuple_(SEEN.c.room_id, SEEN.c.message_id, SEEN.c.version)
    oldest = (select(SEEN.c.room_id, SEEN.c.message_id, SEEN.c.version)
              .where(SEEN.c.seen_at < before).order_by(SEEN.c.seen_at).limit(BATCH))
    return _in_batches(db, lambda: delete(SEEN).where(key.in_(oldest)))


def forget_links(db: Session, *, before: datetime) -> int:
    """Delete the message links recorded before ``before``, but for those of kept rows
    (a forum topic's root: its thread on Matrix hangs from the root's copy)."""
    # ">= ''" is "has a dedupe_key" (every string is), as a range SQLite can search its
    # unique index for; it reads IS NOT NULL as a scan of the whole outbox.
    kept = (select(OUTBOX.c.source_room, OUTBOX.c.source_message, OUTBOX.c.room_id)
            .where(OUTBOX.c.dedupe_key >= "").where(OUTBOX.c.source_room.is_not(None))
            .where(OUTBOX.c.source_message.is_not(None)))
    link = tuple_(LINKS.c.source_room, LINKS.c.source_message, LINKS.c.target_room)
    oldest = (select(LINKS.c.id).where(LINKS.c.at < before).where(link.not_in(kept))
              .order_by(LINKS.c.at).limit(BATCH))
    return _in_batches(db, lambda: delete(LINKS).where(LINKS.c.id.in_(oldest)))


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
                    closed_case_days: int | None, web_signer_days: int | None = None,
                    link_days: int | None = None) -> RetentionResult:
    """Every rule, and one audit line with the counts when anything went.

    Deletions commit batch by batch; the rest (and the audit line) is left to the
    caller to commit. ``link_days`` None keeps message links for good.
    """
    relay_before = now - timedelta(days=relay_days)
    messages = delete_delivered(db, before=relay_before)
    seen = forget_seen(db, before=now - SEEN_KEPT)
    gone_links = forget_links(db, before=now - timedelta(days=link_days)) \
        if link_days is not None else 0
    emptied = drop_kept_text(db, before=relay_before, now=now)
    cases = 0
    if closed_case_days is not None:
        cases = purge_closed_cases(db, before=now - timedelta(days=closed_case_days))
    signers = 0
    if web_signer_days is not None:
        signers = drop_signer_data(db, now=now, days=web_signer_days)
    result = RetentionResult(messages=messages, cases=cases, web_signers=signers, seen=seen,
                             links=gone_links, emptied=emptied)
    if result.anything:
        audit.record(db, at=now, actor_id=ACTOR, room_id="", action="retention",
                     detail=result.summary())
    return result
