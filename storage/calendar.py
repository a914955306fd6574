"""The HRC calendar: sessions, their deadlines, and the templates deadlines come from.

A template ("NGO written statements, two weeks before the session") makes one
deadline per session. A deadline made from a template follows its session when
the dates change, unless someone edited or removed it by hand: then it stays
as they left it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import Column, Date, ForeignKey, String
from sqlmodel import Field, Session, SQLModel, col, select

from storage.numbering import next_number
from storage.types import UTCDateTime

CONFIDENCE = ("official", "secondary", "provisional")
# The highest deadline id ever given (storage.numbering).
LAST_DEADLINE_ID = "deadline.last_id"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class HrcSession(SQLModel, table=True):
    __tablename__ = "hrc_session"

    code: str = Field(primary_key=True, max_length=16)  # HRC61, UPR51
    kind: str = Field(max_length=8)  # hrc | upr
    title: str = Field(max_length=255)
    start: date = Field(sa_column=Column(Date, nullable=False))
    end: date = Field(sa_column=Column(Date, nullable=False))
    place: str = Field(default="Geneva", max_length=255)
    source: str = Field(default="", max_length=500)
    confidence: str = Field(default="provisional", max_length=16)


class DeadlineTemplate(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    applies_to: str = Field(max_length=8)  # hrc | upr
    label: str = Field(max_length=255)
    offset_days: int | None = None
    offset_months: int | None = None
    weekday_before: str | None = Field(default=None, max_length=16)
    # The Feb/March session (the first of the year) may use another weekday.
    weekday_before_first_session: str | None = Field(default=None, max_length=16)
    at: str = Field(default="23:59", max_length=5)
    source: str = Field(default="", max_length=500)


class Deadline(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    session_code: str = Field(sa_column=Column(String(16), ForeignKey(
        "hrc_session.code", ondelete="CASCADE", onupdate="CASCADE"), nullable=False, index=True))
    label: str = Field(max_length=255)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    template_key: str | None = Field(default=None, max_length=64)
    overridden: bool = False  # set by hand: re-deriving leaves it alone
    removed: bool = False  # a removed template deadline is not made again
    source: str = Field(default="", max_length=500)


def new_deadline_id(db: Session) -> int:
    """An id no deadline ever had: people type them (``/deadline remove 13``) and reminder
    keys hold them."""
    return next_number(db, Deadline.id, LAST_DEADLINE_ID)


def template_due(template: DeadlineTemplate, session: HrcSession, tz: ZoneInfo) -> datetime:
    day = session.start
    if template.offset_months:
        day = day + relativedelta(months=template.offset_months)
    if template.offset_days:
        day = day + timedelta(days=template.offset_days)
    weekday = template.weekday_before
    if template.weekday_before_first_session and session.start.month <= 3:
        weekday = template.weekday_before_first_session
    if weekday:
        target = WEEKDAYS.index(weekday)
        day = session.start - timedelta(days=1)
        while day.weekday() != target:
            day -= timedelta(days=1)
    hours, minutes = (int(x) for x in template.at.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz)


def derive_deadlines(db: Session, session: HrcSession, tz: ZoneInfo) -> None:
    """Make or move this session's template deadlines (not those set or removed by hand)."""
    templates = db.exec(select(DeadlineTemplate)
                        .where(DeadlineTemplate.applies_to == session.kind)).all()
    existing = {d.template_key: d for d in db.exec(
        select(Deadline).where(Deadline.session_code == session.code)
        .where(col(Deadline.template_key).is_not(None)))}
    for template in templates:
        due = template_due(template, session, tz)
        row = existing.get(template.key)
        if row is None:
            db.add(Deadline(id=new_deadline_id(db), session_code=session.code,
                            label=template.label, due_at=due,
                            template_key=template.key, source=template.source))
        elif not (row.overridden or row.removed):
            row.due_at, row.label, row.source = due, template.label, template.source
            db.add(row)


def session_deadlines(db: Session, code: str) -> list[Deadline]:
    return list(db.exec(select(Deadline).where(Deadline.session_code == code)
                        .where(Deadline.removed == False)  # noqa: E712 (SQL, not Python)
                        .order_by(col(Deadline.due_at))))


def upcoming_sessions(db: Session, today: date) -> list[HrcSession]:
    return list(db.exec(select(HrcSession).where(HrcSession.end >= today)
                        .order_by(col(HrcSession.start))))


def upcoming_deadlines(db: Session, now: datetime) -> list[Deadline]:
    return list(db.exec(select(Deadline).where(Deadline.due_at > now)
                        .where(Deadline.removed == False)  # noqa: E712
                        .order_by(col(Deadline.due_at))))
