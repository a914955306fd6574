"""Which reminders are due when, and what they say: derived from the calendar.

Pure of I/O: the scheduler (``bot.scheduler``) turns rows into timed jobs and
the outbox delivers; here we only decide. Texts are rendered when a reminder
fires, so counts and dates are current then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.config import Config
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from bot.rooms import Rooms
from handlers.rec_calendar import KIND as UPR_KIND
from handlers.rec_calendar import plan_upr, render_upr
from handlers.statement_exports import nudge_message, nudge_times
from handlers.when import closes_in, stamp
from storage.calendar import Deadline, HrcSession, session_deadlines, upcoming_deadlines
from storage.models import RoomSetting
from storage.reminders import Planned, Reminder, apply_plan
from storage.statements import Statement, open_statements, rooms_of


def reminder_rooms(db: Session, config: Config) -> tuple[str, ...]:
    """Every room id with reminders on (the config's rooms and those set up from chat):
    both sides of a bridged pair, each once."""
    overrides = {r.room_id: r.reminders for r in db.exec(select(RoomSetting))}
    out: list[str] = []
    for room in Rooms.read(config, db).all:
        on = next((overrides[i] for i in room.ids if overrides.get(i) is not None),
                  room.reminders)
        if on:
            out.extend(room.ids)
    return tuple(out)


def plan(db: Session, config: Config, now: datetime) -> list[Planned]:
    tz, send_time = config.bot.tz, config.reminders.send_time
    rooms = reminder_rooms(db, config)
    planned: list[Planned] = []
    today = now.astimezone(tz).date()
    for session in db.exec(select(HrcSession).where(HrcSession.start > today)):
        for days in config.reminders.session_offsets_days:
            due = datetime.combine(session.start - timedelta(days=days), send_time, tzinfo=tz)
            planned.append(Planned(f"session:{session.code}:{days}d:{due:%Y%m%d%H%M}",
                                   "session", session.code, due, rooms))
    for deadline in upcoming_deadlines(db, now):
        local = deadline.due_at.astimezone(tz)
        for days in config.reminders.deadline_offsets_days:
            due = datetime.combine(local.date() - timedelta(days=days), send_time, tzinfo=tz)
            if due < deadline.due_at:
                planned.append(Planned(f"deadline:{deadline.id}:{days}d:{due:%Y%m%d%H%M}",
                                       "deadline", str(deadline.id), due, rooms))
    for statement in open_statements(db):
        targets = tuple(rooms_of(db, statement.key))
        for days, due in nudge_times(statement, nudge_days=config.statements.nudge_days,
                                     send_time=send_time, tz=tz):
            planned.append(Planned(f"nudge:{statement.code}:{days}d:{due:%Y%m%d%H%M}",
                                   "nudge", str(statement.id), due, targets))
    planned += plan_upr(db, config, now, rooms)
    return planned


def replan(db: Session, config: Config, now: datetime) -> bool:
    """Re-derive the reminder rows after a change to sessions, deadlines or statements."""
    return apply_plan(db, plan(db, config, now), now=now)


def rescheduled(ctx: Context) -> None:
    """After a handler changed the calendar: re-derive now, re-plan the jobs after commit."""
    if replan(ctx.db, ctx.config, ctx.now):
        ctx.changes.add("schedule")


def render(db: Session, row: Reminder, config: Config, now: datetime) -> Reply | None:
    """The message a reminder sends; None if what it was about is gone."""
    tz = config.bot.tz
    if row.kind == "session":
        session = db.get(HrcSession, row.ref)
        return None if session is None else session_reminder(db, session, now, config)
    if row.kind == "deadline":
        deadline = db.get(Deadline, int(row.ref))
        if deadline is None or deadline.removed:
            return None
        when = closes_in(deadline.due_at, now, tz, verb="is due")
        return Reply.of(line(b(f"Deadline — {deadline.session_code}: {deadline.label}"),
                             f" {when} ({stamp(deadline.due_at, tz)})."))
    if row.kind == "nudge":
        statement = db.get(Statement, int(row.ref))
        if statement is None or statement.status != "open":
            return None
        return nudge_message(db, statement, now=now, tz=tz)
    if row.kind == UPR_KIND:
        return render_upr(db, row, config, now)
    if row.kind == "remind":
        return Reply.of(line(b("Reminder"), f" from {row.created_by or 'someone'}: {row.text}"))
    return None


def session_reminder(db: Session, session: HrcSession, now: datetime, config: Config) -> Reply:
    tz = config.bot.tz
    opens = datetime.combine(session.start, config.reminders.send_time, tzinfo=tz)
    words = closes_in(opens, now, tz, verb="opens")
    lines: list[Line] = [line(b(session.code), f" ({session.title}) {words.split(' at ')[0]}: "
                              f"{session.start:%a %-d %b} – {session.end:%a %-d %b %Y}, "
                              f"{session.place}.")]
    if session.confidence != "official":
        lines.append(line(i(f"Dates are {session.confidence}: {session.source}")))
    upcoming = [d for d in session_deadlines(db, session.code) if d.due_at > now][:4]
    if upcoming:
        lines.append(line("Next deadlines:"))
        lines += [item(f"{d.label} — {stamp(d.due_at, tz)}") for d in upcoming]
    return Reply(tuple(lines))
