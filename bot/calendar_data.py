"""Calendar data files: read, validate and import (idempotently) into the database.

The shipped file (``bot/data/hrc_calendar.toml``) is loaded into an empty
database at the first start; ``caucus-bot calendar import FILE`` loads others.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.calendar import (
    CONFIDENCE,
    WEEKDAYS,
    Deadline,
    DeadlineTemplate,
    HrcSession,
    derive_deadlines,
    new_deadline_id,
)

SHIPPED = Path(__file__).with_name("data") / "hrc_calendar.toml"
CODE = re.compile(r"(HRC|UPR)\d{1,3}")


class CalendarFileError(ValueError):
    pass


@dataclass(frozen=True)
class ImportResult:
    sessions: int
    templates: int
    deadlines: int

    def __str__(self) -> str:
        return (f"{self.sessions} sessions, {self.templates} deadline templates, "
                f"{self.deadlines} explicit deadlines")


def import_file(db: Session, path: Path, tz: ZoneInfo) -> ImportResult:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarFileError(f"{path}: {exc}") from None
    return import_data(db, data, tz, source=path.name)


def import_data(db: Session, data: dict[str, Any], tz: ZoneInfo, *,
                source: str = "calendar") -> ImportResult:
    templates = [_template(source, n, t) for n, t in enumerate(data.get("templates", []))]
    for template in templates:
        db.merge(template)
    db.flush()
    sessions, explicit = 0, 0
    for n, raw in enumerate(data.get("sessions", [])):
        session = _session(source, n, raw)
        db.merge(session)
        db.flush()
        sessions += 1
        for k, item in enumerate(raw.get("deadlines", [])):
            _deadline(db, source, f"sessions[{n}].deadlines[{k}]", session.code, item, tz)
            explicit += 1
    for session in db.exec(select(HrcSession)):
        derive_deadlines(db, session, tz)
    return ImportResult(sessions, len(templates), explicit)


def load_shipped_if_empty(db: Session, tz: ZoneInfo) -> ImportResult | None:
    if db.exec(select(HrcSession)).first() is not None:
        return None
    return import_file(db, SHIPPED, tz)


def _fail(source: str, where: str, problem: str) -> CalendarFileError:
    return CalendarFileError(f"{source}: {where}: {problem}")


def _template(source: str, n: int, raw: dict[str, Any]) -> DeadlineTemplate:
    where = f"templates[{n}]"
    for key in ("key", "applies_to", "label"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise _fail(source, f"{where}.{key}", "is required")
    if raw["applies_to"] not in ("hrc", "upr"):
        raise _fail(source, f"{where}.applies_to", "must be hrc or upr")
    for key in ("weekday_before", "weekday_before_first_session"):
        if key in raw and raw[key] not in WEEKDAYS:
            raise _fail(source, f"{where}.{key}", f"must be a weekday ({', '.join(WEEKDAYS)})")
    if not any(k in raw for k in ("offset_days", "offset_months", "weekday_before")):
        raise _fail(source, where, "needs offset_days, offset_months or weekday_before")
    at = raw.get("at", "23:59")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise _fail(source, f"{where}.at", f"'{at}' is not a time like 23:59")
    return DeadlineTemplate(key=raw["key"], applies_to=raw["applies_to"], label=raw["label"],
                            offset_days=raw.get("offset_days"),
                            offset_months=raw.get("offset_months"),
                            weekday_before=raw.get("weekday_before"),
                            weekday_before_first_session=raw.get("weekday_before_first_session"),
                            at=at, source=raw.get("source", ""))


def _session(source: str, n: int, raw: dict[str, Any]) -> HrcSession:
    where = f"sessions[{n}]"
    code = str(raw.get("code", "")).upper()
    if not CODE.fullmatch(code):
        raise _fail(source, f"{where}.code", f"'{code}' is not a session code like HRC62")
    start, end = raw.get("start"), raw.get("end")
    if not isinstance(start, date) or not isinstance(end, date) or isinstance(start, datetime):
        raise _fail(source, where, "start and end must be dates (2026-06-15)")
    if end < start:
        raise _fail(source, f"{where}.end", "is before start")
    confidence = raw.get("confidence", "provisional")
    if confidence not in CONFIDENCE:
        raise _fail(source, f"{where}.confidence", f"must be one of {', '.join(CONFIDENCE)}")
    return HrcSession(code=code, kind=code[:3].lower(), title=raw.get("title", code),
                      start=start, end=end, place=raw.get("place", "Geneva"),
                      source=raw.get("source", ""), confidence=confidence)


def _deadline(db: Session, source: str, where: str, code: str, raw: dict[str, Any],
              tz: ZoneInfo) -> None:
    due = raw.get("due")
    if isinstance(due, datetime):
        due_at = due.replace(tzinfo=tz) if due.tzinfo is None else due
    elif isinstance(due, date):
        due_at = datetime.combine(due, time(23, 59), tzinfo=tz)
    else:
        raise _fail(source, f"{where}.due", "must be a date or a date and time")
    template = raw.get("template")
    label = raw.get("label")
    query = select(Deadline).where(Deadline.session_code == code)
    query = (query.where(Deadline.template_key == template) if template
             else query.where(Deadline.label == label))
    row = db.exec(query).first()
    if row is None:
        if not label and not template:
            raise _fail(source, where, "needs a label (or the template it overrides)")
        row = Deadline(id=new_deadline_id(db), session_code=code, label=str(label or template),
                       due_at=due_at, template_key=template)
    row.due_at, row.overridden, row.removed = due_at, True, False
    row.label = label or row.label
    row.source = raw.get("source", row.source)
    db.add(row)
