"""Cases of threats, attacks and reprisals against human rights defenders.

A case row holds the current state; ``CaseEvent`` rows are its timeline
(notes, status changes, escalations, public reactions, consent), so nothing
said about a case is ever overwritten. Whether a reader may see a case is
decided in ``handlers.cases``, not here. Summaries, details and timeline texts
are encrypted at rest (``EncryptedText``): no query here may look at them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Integer
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.types import EncryptedText, Keyed, UTCDateTime

STATUSES = ("new", "verifying", "verified", "escalated", "public", "closed")
CLOSE_REASONS = ("resolved", "no-consent", "duplicate", "other")
CONSENT_SCOPES = ("share-un", "sg-report", "publish-name")
UN_CHANNELS = ("special-procedures", "ohchr-reprisals", "hrc-secretariat", "upr", "treaty-body")
CHANNELS = (*UN_CHANNELS, "protection", "other")
UN_BODIES = ("hrc", "upr", "special-procedures", "treaty-body", "ohchr-field")


class Case(Keyed, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)  # ISO 3166 alpha-2 (XK for Kosovo)
    summary: str = Field(sa_column=Column(EncryptedText(), nullable=False))
    status: str = Field(default="new", max_length=16, index=True)
    close_reason: str | None = Field(default=None, max_length=16)
    confidential: bool = False
    reporter_id: str = Field(max_length=255)
    room_id: str = Field(max_length=255)
    assignee_id: str | None = Field(default=None, max_length=255)
    pseudonym: str | None = Field(default=None, max_length=255)
    # Real names, contacts: shown only where confidential details may be.
    details: str | None = Field(default=None, sa_column=Column(EncryptedText(), nullable=True))
    consent: str = Field(default="", max_length=64)  # comma-separated CONSENT_SCOPES
    un_body: str | None = Field(default=None, max_length=32)
    un_reference: str | None = Field(default=None, max_length=255)
    incident_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))

    @property
    def consent_scopes(self) -> list[str]:
        return [s for s in self.consent.split(",") if s]


class CaseTag(SQLModel, table=True):
    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case.id", ondelete="CASCADE"),
                                          primary_key=True))
    tag: str = Field(primary_key=True, max_length=64, index=True)


class CaseEvent(SQLModel, table=True):
    """One line of a case's timeline: kind is note, status, escalation, public, assign, ..."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: str = Field(max_length=255)
    kind: str = Field(max_length=16)
    value: str = Field(default="", max_length=255)  # the new status, the channel, ...
    text: str = Field(default="", sa_column=Column(EncryptedText(), nullable=False))


def add_case(db: Session, case: Case, tags: list[str]) -> Case:
    db.add(case)
    db.flush()  # assigns the case number
    assert case.id is not None
    for tag in dict.fromkeys(tags):
        db.add(CaseTag(case_id=case.id, tag=tag))
    return case


def tags_of(db: Session, case_id: int) -> list[str]:
    return list(db.exec(select(CaseTag.tag).where(CaseTag.case_id == case_id)
                        .order_by(CaseTag.tag)))


def timeline(db: Session, case_id: int) -> list[CaseEvent]:
    return list(db.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)
                        .order_by(col(CaseEvent.at), col(CaseEvent.id))))


def log_event(db: Session, case: Case, *, at: datetime, actor_id: str, kind: str,
              value: str = "", text: str = "") -> None:
    assert case.id is not None
    db.add(CaseEvent(case_id=case.id, at=at, actor_id=actor_id, kind=kind, value=value,
                     text=text))
    case.updated_at = at
    db.add(case)


def find_cases(db: Session, *, status: str | None = None, country: str | None = None,
               tag: str | None = None, confidential: bool | None = None, offset: int = 0,
               limit: int = 10) -> tuple[list[Case], int]:
    """Newest first, with the total count for paging."""
    query = select(Case)
    if confidential is not None:
        query = query.where(Case.confidential == confidential)
    if status is not None:
        query = query.where(Case.status == status)
    if country is not None:
        query = query.where(Case.country == country)
    if tag is not None:
        query = query.where(col(Case.id).in_(select(CaseTag.case_id).where(CaseTag.tag == tag)))
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(query.order_by(col(Case.id).desc()).offset(offset).limit(limit))
    return list(rows), total


def stale_cases(db: Session, *, before: datetime) -> list[Case]:
    return list(db.exec(select(Case).where(col(Case.status).in_(("new", "verifying")))
                        .where(Case.updated_at < before).order_by(col(Case.id))))


def reprisal_cases(db: Session, *, start: datetime, end: datetime) -> list[Case]:
    """``reprisal-un`` cases flagged (or, if given, that happened) in [start, end)."""
    tagged = select(CaseTag.case_id).where(CaseTag.tag == "reprisal-un")
    rows = db.exec(select(Case).where(col(Case.id).in_(tagged)).order_by(col(Case.id)))
    return [c for c in rows if start <= _when(c, start) < end]


def _when(case: Case, like: datetime) -> datetime:
    if case.incident_date is None:
        return case.created_at
    return datetime.combine(case.incident_date, datetime.min.time(), tzinfo=like.tzinfo)
