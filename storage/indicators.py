"""What the indicators are computed from: one compact row per case, read in three queries.

Only clear columns are read (dates, country, status, consent, tags, pseudonym,
the kinds of timeline events and their dates): no summary, note or detail is
decrypted, so counting ten thousand cases stays fast and reads nothing private.
Moments here are naive UTC, as stored: tens of thousands of them are only compared
and subtracted, and making each one aware cost more than the queries.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, DateTime, Table, case, func, or_, select, type_coerce
from sqlmodel import Session, col

from storage.cases import Case, CaseEvent, CaseTag

CASES: Table = Case.__table__  # type: ignore[attr-defined]
EVENTS: Table = CaseEvent.__table__  # type: ignore[attr-defined]
TAGS: Table = CaseTag.__table__  # type: ignore[attr-defined]
# The timeline events the indicators look at (never their text).
KINDS = ("escalation", "public", "status")
# The stored moments, read without making each aware (see the module's docstring).
FLAGGED = type_coerce(CASES.c.created_at, DateTime())
EVENT_AT = type_coerce(EVENTS.c.at, DateTime())


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while tens of thousands of rows are read into objects that
    all stay alive: each collection the allocations set off would walk the whole heap
    and find nothing to free (it doubled the time of /indicators). Synchronous code
    only, so nothing else runs meanwhile; the collector resumes at once after."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def naive(moment: datetime) -> datetime:
    """An aware moment as the database stores it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class CaseFacts:
    id: int
    country: str
    status: str
    close_reason: str | None
    confidential: bool
    consent: frozenset[str]
    pseudonym: str | None
    flagged_at: datetime
    referrals: list[tuple[datetime, str]] = field(default_factory=list)  # (when, channel)
    public_at: datetime | None = None  # the first public reaction
    verified: bool = False  # reached "verified" at some point
    closed_at: datetime | None = None  # when it was closed (the last time)


def case_facts(db: Session, *, start: datetime | None, end: datetime,
               country: str | None = None, confidential: bool = True) -> list[CaseFacts]:
    """Cases flagged in [start, end), each once, with what happened to them before ``end``;
    their moments naive UTC."""
    query = select(CASES.c.id, CASES.c.country, CASES.c.status, CASES.c.close_reason,
                   CASES.c.confidential, CASES.c.consent, CASES.c.pseudonym,
                   FLAGGED).where(*_chosen(start, end, country, confidential))
    run = db.connection().execute
    consents: dict[str, frozenset[str]] = {}  # a handful of distinct values, parsed once
    facts: dict[int, CaseFacts] = {}
    for case_id, country_code, status, reason, hidden, consent, pseudonym, flagged in run(
            query.order_by(CASES.c.id)).all():
        scopes = consents.get(consent or "")
        if scopes is None:
            scopes = consents[consent or ""] = frozenset(x for x in (consent or "").split(",")
                                                         if x)
        facts[case_id] = CaseFacts(case_id, country_code, status, reason, bool(hidden), scopes,
                                   pseudonym, flagged)
    if not facts:
        return []
    chosen = query.with_only_columns(CASES.c.id).subquery()
    events = run(select(EVENTS.c.case_id, EVENT_AT, EVENTS.c.kind, EVENTS.c.value)
                 .where(EVENTS.c.case_id.in_(select(chosen.c.id)))
                 .where(EVENTS.c.kind.in_(KINDS)).where(EVENTS.c.at < end)
                 .order_by(EVENTS.c.at, EVENTS.c.id)).all()
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


def _chosen(start: datetime | None, end: datetime, country: str | None,
            confidential: bool) -> list[ColumnElement[bool]]:
    """The cases a figure counts: flagged in [start, end), of a State, confidential or not."""
    where = [CASES.c.created_at < end]
    if start is not None:
        where.append(CASES.c.created_at >= start)
    if country is not None:
        where.append(CASES.c.country == country)
    if not confidential:
        where.append(CASES.c.confidential == False)  # noqa: E712 (SQL, not Python)
    return where


def tag_counts(db: Session, *, start: datetime | None, end: datetime, country: str | None,
               confidential: bool) -> list[tuple[str, int, int]]:
    """(tag, cases, of which verified), counted by the database: a case with two tags
    counts once under each."""
    verified_ids = (select(EVENTS.c.case_id).where(EVENTS.c.kind == "status")
                    .where(EVENTS.c.value == "verified").where(EVENTS.c.at < end))
    verified = case((or_(CASES.c.status == "verified", CASES.c.id.in_(verified_ids)), 1),
                    else_=0)
    rows = db.connection().execute(
        select(TAGS.c.tag, func.count(), func.sum(verified))
        .join(CASES, CASES.c.id == TAGS.c.case_id)
        .where(*_chosen(start, end, country, confidential)).group_by(TAGS.c.tag)).all()
    return [(tag, int(n), int(v or 0)) for tag, n, v in rows]


def pseudonym_history(db: Session, *, start: datetime | None, end: datetime,
                      confidential: bool = True) -> dict[str, list[datetime]]:
    """When each pseudonym (folded) had a case flagged in [start, end), naive UTC: for
    recurrence."""
    query = (select(CASES.c.pseudonym, FLAGGED)
             .where(col(CASES.c.pseudonym).is_not(None)).where(CASES.c.created_at < end))
    if start is not None:
        query = query.where(CASES.c.created_at >= start)
    if not confidential:
        query = query.where(CASES.c.confidential == False)  # noqa: E712
    seen: dict[str, list[datetime]] = defaultdict(list)
    for name, at in db.connection().execute(query.order_by(CASES.c.created_at)).all():
        key = " ".join(str(name).casefold().split())
        if key:
            seen[key].append(at)
    return seen


def cases_since(db: Session, since: dict[str, datetime], *, end: datetime,
                confidential: bool = True) -> dict[str, int]:
    """How many cases each State has had flagged since a moment of its own (its UPR
    review): counted by the database, one State at a time on the country index."""
    return {state: int(db.connection().execute(
        select(func.count()).select_from(CASES)
        .where(*_chosen(moment, end, state, confidential))).scalar_one())
        for state, moment in since.items()}
