"""What the indicators are computed from: one compact row per case, read in three queries.

Only clear columns are read (dates, country, status, consent, tags, pseudonym,
the kinds of timeline events and their dates): no summary, note or detail is
decrypted, so counting ten thousand cases stays fast and reads nothing private.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlmodel import Session, col

from storage.cases import Case, CaseEvent, CaseTag

CASES: Table = Case.__table__  # type: ignore[attr-defined]
EVENTS: Table = CaseEvent.__table__  # type: ignore[attr-defined]
TAGS: Table = CaseTag.__table__  # type: ignore[attr-defined]
# The timeline events the indicators look at (never their text).
KINDS = ("escalation", "public", "status")


@dataclass
class CaseFacts:
    id: int
    country: str
    status: str
    close_reason: str | None
    confidential: bool
    consent: frozenset[str]
    pseudonym: str | None
    flagged_at: datetime
    tags: list[str] = field(default_factory=list)
    referrals: list[tuple[datetime, str]] = field(default_factory=list)  # (when, channel)
    public_at: datetime | None = None  # the first public reaction
    verified: bool = False  # reached "verified" at some point
    closed_at: datetime | None = None  # when it was closed (the last time)


def case_facts(db: Session, *, start: datetime | None, end: datetime,
               country: str | None = None, confidential: bool = True) -> list[CaseFacts]:
    """Cases flagged in [start, end), each once, with what happened to them before ``end``."""
    query = select(CASES.c.id, CASES.c.country, CASES.c.status, CASES.c.close_reason,
                   CASES.c.confidential, CASES.c.consent, CASES.c.pseudonym,
                   CASES.c.created_at).where(CASES.c.created_at < end)
    if start is not None:
        query = query.where(CASES.c.created_at >= start)
    if country is not None:
        query = query.where(CASES.c.country == country)
    if not confidential:
        query = query.where(CASES.c.confidential == False)  # noqa: E712 (SQL, not Python)
    run = db.connection().execute
    facts = {row.id: CaseFacts(row.id, row.country, row.status, row.close_reason,
                               bool(row.confidential),
                               frozenset(s for s in (row.consent or "").split(",") if s),
                               row.pseudonym, row.created_at)
             for row in run(query.order_by(CASES.c.id))}
    if not facts:
        return []
    chosen = query.with_only_columns(CASES.c.id).subquery()
    for case_id, tag in run(select(TAGS.c.case_id, TAGS.c.tag)
                            .where(TAGS.c.case_id.in_(select(chosen.c.id)))):
        facts[case_id].tags.append(tag)
    events = run(select(EVENTS.c.case_id, EVENTS.c.at, EVENTS.c.kind, EVENTS.c.value)
                 .where(EVENTS.c.case_id.in_(select(chosen.c.id)))
                 .where(EVENTS.c.kind.in_(KINDS)).where(EVENTS.c.at < end)
                 .order_by(EVENTS.c.at, EVENTS.c.id))
    for case_id, at, kind, value in events:
        fact = facts[case_id]
        if kind == "escalation":
            fact.referrals.append((at, value))
        elif kind == "public":
            fact.public_at = fact.public_at or at
        elif value == "verified":
            fact.verified = True
        elif value == "closed":
            fact.closed_at = at
    for fact in facts.values():
        fact.verified = fact.verified or fact.status == "verified"
    return list(facts.values())


def pseudonym_history(db: Session, *, end: datetime,
                      confidential: bool = True) -> dict[str, list[datetime]]:
    """When each pseudonym (folded) had a case flagged, before ``end``: for recurrence."""
    query = (select(CASES.c.pseudonym, CASES.c.created_at)
             .where(col(CASES.c.pseudonym).is_not(None)).where(CASES.c.created_at < end))
    if not confidential:
        query = query.where(CASES.c.confidential == False)  # noqa: E712
    seen: dict[str, list[datetime]] = defaultdict(list)
    for name, at in db.connection().execute(query.order_by(CASES.c.created_at)):
        key = " ".join(str(name).casefold().split())
        if key:
            seen[key].append(at)
    return seen


def cases_since(db: Session, country: str, since: datetime, *, end: datetime,
                confidential: bool = True) -> int:
    """How many cases a State has had flagged since a moment (its UPR review)."""
    query = (select(func.count()).select_from(CASES).where(CASES.c.country == country)
             .where(CASES.c.created_at >= since).where(CASES.c.created_at < end))
    if not confidential:
        query = query.where(CASES.c.confidential == False)  # noqa: E712
    return int(db.connection().execute(query).scalar_one())
