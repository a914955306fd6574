"""The HRC calendar in chat: sessions, deadlines, and an .ics file to import.

Changes re-derive the reminders at once (``rescheduled``), so a moved session
moves its reminders and nothing stale fires.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role, UsageError
from bot.context import Context
from bot.replies import Line, OutFile, Reply, b, i, item, line
from handlers.date_range import check_date
from handlers.reminder_plan import rescheduled
from handlers.when import closes_in, sentence, stamp, zone_name, zoned_stamp
from storage.calendar import (
    CONFIDENCE,
    Deadline,
    HrcSession,
    derive_deadlines,
    new_deadline_id,
    session_deadlines,
    upcoming_deadlines,
    upcoming_sessions,
)
from storage.statements import open_statements

if TYPE_CHECKING:
    from icalendar import Event

CODE_HELP = "a session code like HRC62 or UPR51"


def _code(text: str) -> str:
    code = text.upper()
    if not (code[:3] in ("HRC", "UPR") and code[3:].isdigit() and 0 < len(code[3:]) <= 3):
        raise CommandError(f"'{text}' is not {CODE_HELP}.")
    return code


def _date(text: str, what: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{what} must be a date like 2027-02-22, not '{text}'.") from None
    return check_date(day, what)


def load_session(ctx: Context, code: str) -> HrcSession:
    """The session a ``<code>`` parameter names (already read by ``_code``)."""
    session = ctx.db.get(HrcSession, code)
    if session is None:
        raise CommandError(f"There is no session {code} in the calendar "
                           f"({ctx.cmd('sessions')} lists them).")
    return session


def _span(session: HrcSession) -> str:
    return f"{session.start:%a %-d %b} – {session.end:%a %-d %b %Y}, {session.place}"


async def list_sessions(ctx: Context, args: Args) -> Reply:
    sessions = upcoming_sessions(ctx.db, ctx.local(ctx.now).date())[:8]
    if not sessions:
        return Reply.text(f"No upcoming sessions in the calendar. {ctx.cmd('session add')} "
                          "adds one.")
    lines: list[Line] = [line(b("Upcoming sessions:"))]
    for s in sessions:
        opens = datetime.combine(s.start, time(10), tzinfo=ctx.tz)
        status = ("in session" if s.start <= ctx.local(ctx.now).date()
                  else closes_in(opens, ctx.now, ctx.tz, verb="opens").split(" at ")[0])
        lines.append(item(b(s.code), f" {_span(s)} — {status}",
                          i(f" ({s.confidence})") if s.confidence != "official" else ""))
        nxt = [d for d in session_deadlines(ctx.db, s.code) if d.due_at > ctx.now][:2]
        lines += [line(f"    next: {d.label} — {stamp(d.due_at, ctx.tz)}") for d in nxt]
    lines.append(line(i(f"{ctx.cmd('session')} <code> shows every deadline; {ctx.cmd('calendar')}"
                        " gives a file for your calendar app.")))
    return Reply(tuple(lines))


async def show_session(ctx: Context, args: Args) -> Reply:
    s = load_session(ctx, args["code"])
    lines: list[Line] = [line(b(s.code), f" — {s.title}"), line(_span(s))]
    lines.append(line(i(f"Dates {s.confidence}" + (f": {s.source}" if s.source else ""))))
    deadlines = session_deadlines(ctx.db, s.code)
    lines.append(line(b(f"Deadlines ({zone_name(ctx.tz)}):") if deadlines else "No deadlines."))
    for d in deadlines:
        origin = " (set by hand)" if d.overridden or not d.template_key else ""
        past = " — past" if d.due_at <= ctx.now else ""
        lines.append(item(f"#{d.id} {d.label} — {stamp(d.due_at, ctx.tz)}{origin}{past}"))
    return Reply(tuple(lines))


async def add_session(ctx: Context, args: Args) -> Reply:
    code = args["code"]
    if ctx.db.get(HrcSession, code) is not None:
        raise CommandError(f"{code} is already in the calendar; change it with "
                           f"{ctx.cmd('session edit')} {code} start=... end=...")
    start, end = args["start"], args["end"]
    if end < start:
        raise CommandError(f"The end ({end}) is before the start ({start}).")
    session = HrcSession(code=code, kind=code[:3].lower(), title=args.get("title") or code,
                         start=start, end=end, confidence="official", source="added by "
                         f"{ctx.caller.name or ctx.caller.id}")
    ctx.db.add(session)
    ctx.db.flush()
    derive_deadlines(ctx.db, session, ctx.tz)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("session.add", code, f"{start} – {end}")
    return await show_session(ctx, Args({"code": code}))


async def edit_session(ctx: Context, args: Args) -> Reply:
    s = load_session(ctx, args["code"])
    if not args.options:
        raise UsageError("Give at least one of start=, end=, title=, place=, confidence=.")
    start = _date(args.opt("start"), "start=") if args.opt("start") else s.start
    end = _date(args.opt("end"), "end=") if args.opt("end") else s.end
    if end < start:
        raise CommandError(f"The end ({end}) would be before the start ({start}).")
    for key in ("title", "place"):
        if key in args.options and not args.opt(key).strip():
            raise UsageError(f"{key}= is empty; give the session's {key}.")
    s.start, s.end = start, end
    s.title = args.opt("title", s.title).strip()
    s.place = args.opt("place", s.place).strip()
    s.confidence = args.opt("confidence", s.confidence)
    ctx.db.add(s)
    derive_deadlines(ctx.db, s, ctx.tz)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("session.edit", s.code, ", ".join(f"{k}={v}" for k, v in args.options.items()))
    return Reply.text(f"{s.code} updated: {_span(s)}. Its deadlines and reminders moved with it "
                      "(except deadlines set by hand).")


async def remove_session(ctx: Context, args: Args) -> Reply:
    s = load_session(ctx, args["code"])
    for d in ctx.db.exec(select(Deadline).where(Deadline.session_code == s.code)):
        ctx.db.delete(d)
    ctx.db.delete(s)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("session.remove", s.code)
    return Reply.text(f"{s.code} removed from the calendar, with its deadlines and reminders.")


async def add_deadline(ctx: Context, args: Args) -> Reply:
    s = load_session(ctx, args["code"])
    day = args["date"]
    label = args["label"]
    at = time(23, 59)
    first, _, rest = label.partition(" ")
    if len(first) in (4, 5) and first[-3:-2] == ":" and first.replace(":", "").isdigit():
        try:
            at = time.fromisoformat(first.zfill(5))
        except ValueError:
            raise CommandError(f"'{first}' is not a time like 17:00.") from None
        label = rest.strip()
    if not label:
        raise UsageError("The deadline needs a label, e.g. \"Side-event requests\".")
    due = datetime.combine(day, at, tzinfo=ctx.tz)
    if due <= ctx.now:
        raise CommandError(f"{stamp(due, ctx.tz)} is in the past.")
    deadline = Deadline(id=new_deadline_id(ctx.db), session_code=s.code, label=label,
                        due_at=due, overridden=True,
                        source=f"added by {ctx.caller.name or ctx.caller.id}")
    ctx.db.add(deadline)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("deadline.add", f"#{deadline.id}", f"{s.code} {label}")
    return Reply.text(f"Deadline #{deadline.id} added to {s.code}: {label} — "
                      f"{zoned_stamp(due, ctx.tz)}.")


async def remove_deadline(ctx: Context, args: Args) -> Reply:
    deadline = ctx.db.get(Deadline, args["id"])
    if deadline is None or deadline.removed:
        raise CommandError(f"There is no deadline #{args['id']}.")
    if deadline.template_key:
        deadline.removed = True  # so that re-deriving does not bring it back
        ctx.db.add(deadline)
    else:
        ctx.db.delete(deadline)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("deadline.remove", f"#{args['id']}", deadline.label)
    return Reply.text(f"Deadline #{args['id']} ({deadline.session_code}: {deadline.label}) "
                      "removed, with its reminders.")


async def calendar_file(ctx: Context, args: Args) -> Reply:
    # icalendar is imported when a file is asked for, not at start (0.06 s of it).
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Caucus Bot//HRC calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "HRC calendar")
    today = ctx.local(ctx.now).date()
    sessions = upcoming_sessions(ctx.db, today - timedelta(days=60))
    for s in sessions:
        event = Event()
        event.add("uid", f"{s.code.lower()}@caucus-bot")
        event.add("summary", f"{s.code}: {s.title}")
        event.add("dtstart", s.start)
        event.add("dtend", s.end + timedelta(days=1))  # all-day events end the day after
        event.add("location", s.place)
        event.add("description", f"Dates {s.confidence}. {s.source}".strip())
        event.add("dtstamp", ctx.now)
        cal.add_component(event)
    deadlines = upcoming_deadlines(ctx.db, ctx.now - timedelta(days=60))
    for d in deadlines:
        cal.add_component(_deadline_event(
            f"deadline-{d.id}", f"{d.session_code}: {d.label}", d.due_at, ctx.now,
            description=d.source, alarm=d.label))
    statements = [st for st in open_statements(ctx.db)
                  if st.deadline is not None and st.deadline > ctx.now - timedelta(days=60)]
    for st in statements:
        assert st.deadline is not None
        cal.add_component(_deadline_event(
            f"statement-{st.id}", f"{st.code} sign-on deadline: {st.title}", st.deadline,
            ctx.now, description=f"Sign on: {ctx.cmd('signon')} {st.code} <organisation>"
            + (f"\nText: {st.url}" if st.url else ""), alarm=f"{st.code} sign-on deadline"))
    many = "s" if len(statements) != 1 else ""
    return Reply.of(sentence(f"{len(sessions)} sessions, {len(deadlines)} deadlines and "
                             f"{len(statements)} statement deadline{many}; open the file to add "
                             "them to your calendar."),
                    file=OutFile("hrc-calendar.ics", cal.to_ical(), "text/calendar"))


def _deadline_event(uid: str, summary: str, at: datetime, now: datetime, *,
                    description: str | None, alarm: str) -> Event:
    """A moment to act by (a session deadline, a statement's sign-on deadline), with a
    reminder the day before: what members most often miss."""
    from icalendar import Alarm, Event

    event = Event()
    event.add("uid", f"{uid}@caucus-bot")
    event.add("summary", summary)
    event.add("dtstart", at)
    event.add("dtend", at)
    event.add("dtstamp", now)
    if description:
        event.add("description", description)
    warning = Alarm()
    warning.add("action", "DISPLAY")
    warning.add("description", alarm)
    warning.add("trigger", timedelta(days=-1))
    event.add_component(warning)
    return event


_CODE = Param("code", parse=_code)
_EDIT = (Option("start", "YYYY-MM-DD"), Option("end", "YYYY-MM-DD"), Option("title", "text"),
         Option("place", "text"), Option("confidence", choices=CONFIDENCE))

COMMANDS = [
    Command("sessions", list_sessions, "Upcoming HRC and UPR sessions with their next deadlines",
            read_only=True),
    Command("session", show_session, "One session with all its deadlines", params=(_CODE,),
            example="/session HRC64", read_only=True),
    Command("session", add_session, "Add a session to the calendar", sub="add",
            params=(_CODE, Param("start", parse=partial(_date, what="<start>")),
                    Param("end", parse=partial(_date, what="<end>")), Param("title", kind="text",
                                                               optional=True)),
            role=Role.SECRETARIAT,
            example='/session add HRC67 2028-02-28 2028-04-07 "Human Rights Council, 67th '
                    'regular session"'),
    Command("session", edit_session, "Change a session's dates, title, place or confidence",
            sub="edit", params=(_CODE,), options=_EDIT, role=Role.SECRETARIAT,
            example="/session edit HRC64 start=2027-02-22 end=2027-04-01 confidence=official"),
    Command("session", remove_session, "Remove a session and its deadlines", sub="remove",
            params=(_CODE,), role=Role.SECRETARIAT),
    Command("deadline", add_deadline, "Add a deadline to a session", sub="add",
            params=(_CODE, Param("date", parse=partial(_date, what="<date>")),
                    Param("label", kind="text")),
            usage_text="<code> <YYYY-MM-DD> [HH:MM] <label>", role=Role.SECRETARIAT,
            example="/deadline add HRC64 2027-02-05 12:00 Side-event requests"),
    Command("deadline", remove_deadline, "Remove a deadline", sub="remove",
            params=(Param("id", kind="int"),), role=Role.SECRETARIAT,
            example="/deadline remove 13"),
    Command("calendar", calendar_file, "Sessions and deadlines as an .ics file for your "
            "calendar app", read_only=True),
]
