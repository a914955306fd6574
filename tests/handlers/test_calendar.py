"""The HRC calendar: shipped data, templates, commands and the .ics file."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.calendar_data import SHIPPED, CalendarFileError, import_data, import_file
from storage.calendar import Deadline, HrcSession, session_deadlines
from storage.reminders import Reminder
from tests.harness import FakeBot, Network

GENEVA = ZoneInfo("Europe/Zurich")


def load(bot: FakeBot) -> None:
    with bot.database.session() as db:
        import_file(db, SHIPPED, GENEVA)
        db.commit()


def due(bot: FakeBot, code: str, label_start: str) -> str:
    with bot.database.session() as db:
        for d in session_deadlines(db, code):
            if d.label.startswith(label_start):
                return f"{d.due_at.astimezone(GENEVA):%a %Y-%m-%d %H:%M}"
    raise AssertionError(f"no {label_start} deadline for {code}")


async def test_shipped_calendar_has_2026_and_2027(bot: FakeBot):
    load(bot)
    with bot.database.session() as db:
        sessions = {s.code: s for s in db.exec(select(HrcSession))}
    assert [c for c in sessions if c.startswith("HRC")] == [f"HRC{n}" for n in range(61, 67)]
    assert len([c for c in sessions if c.startswith("UPR")]) == 6
    hrc61 = sessions["HRC61"]
    assert (hrc61.start, hrc61.end, hrc61.confidence) == (date(2026, 2, 23), date(2026, 3, 31),
                                                          "official")
    assert sessions["HRC62"].start == date(2026, 6, 15)
    assert sessions["HRC63"].start == date(2026, 9, 7)
    assert all(sessions[f"HRC{n}"].confidence == "provisional" for n in (64, 65, 66))
    for s in sessions.values():
        assert s.source, f"{s.code} has no source"
        if s.kind == "hrc":  # Feb/March: 61 + 3(Y-2026); June +1; September +2
            slot = 0 if s.start.month <= 3 else 1 if s.start.month <= 7 else 2
            assert int(s.code[3:]) == 61 + 3 * (s.start.year - 2026) + slot
            assert s.start.weekday() == 0  # sessions open on a Monday


async def test_templates_make_the_known_deadlines(bot: FakeBot):
    load(bot)
    assert due(bot, "HRC62", "NGO written statements") == "Mon 2026-06-01 23:59"  # T-14
    assert due(bot, "HRC62", "Coalition sign-ons") == "Fri 2026-05-29 18:00"  # T-17
    assert due(bot, "HRC62", "Oral statements") == "Wed 2026-06-10 10:00"  # Wednesday before
    assert due(bot, "HRC63", "Oral statements") == "Wed 2026-09-02 10:00"
    assert due(bot, "HRC64", "Oral statements") == "Fri 2027-02-19 10:00"  # Friday before March
    assert due(bot, "UPR56", "UPR stakeholder") == "Thu 2027-04-01 23:59"  # about 7 months


async def test_import_is_idempotent_and_overrides_stick(bot: FakeBot):
    load(bot)
    data = {"sessions": [{"code": "HRC64", "start": date(2027, 2, 22), "end": date(2027, 4, 2),
                          "deadlines": [{"template": "ngo-written-statements",
                                         "due": datetime(2027, 2, 9, 12, 0)},
                                        {"label": "Side events", "due": date(2027, 2, 1)}]}]}
    with bot.database.session() as db:
        import_data(db, data, GENEVA)
        import_data(db, data, GENEVA)
        import_file(db, SHIPPED, GENEVA)
        db.commit()
        total = len(db.exec(select(Deadline)).all())
    assert total == 6 * 4 + 6 + 1
    assert due(bot, "HRC64", "NGO written") == "Tue 2027-02-09 12:00"
    await bot.send("/session edit HRC64 start=2027-03-01 end=2027-04-09", user=bot.admin)
    assert due(bot, "HRC64", "NGO written") == "Tue 2027-02-09 12:00"  # set by hand: stays
    assert due(bot, "HRC64", "Oral statements") == "Fri 2027-02-26 10:00"  # template: moved


@pytest.mark.parametrize(("data", "problem"), [
    ({"sessions": [{"code": "X1", "start": date(2027, 1, 1), "end": date(2027, 1, 2)}]},
     "sessions[0].code: 'X1' is not a session code"),
    ({"sessions": [{"code": "HRC70", "start": "soon", "end": date(2027, 1, 2)}]},
     "start and end must be dates"),
    ({"sessions": [{"code": "HRC70", "start": date(2027, 1, 3), "end": date(2027, 1, 2)}]},
     "sessions[0].end: is before start"),
    ({"templates": [{"key": "x", "applies_to": "ga", "label": "x", "offset_days": 1}]},
     "templates[0].applies_to: must be hrc or upr"),
    ({"templates": [{"key": "x", "applies_to": "hrc", "label": "x"}]},
     "needs offset_days, offset_months or weekday_before"),
])
async def test_bad_calendar_files_name_the_problem(bot: FakeBot, data: dict, problem: str):
    with bot.database.session() as db, pytest.raises(CalendarFileError, match=problem.replace(
            "[", r"\[").replace("]", r"\]")):
        import_data(db, data, GENEVA)


async def test_sessions_and_session(bot: FakeBot):
    load(bot)
    listing = await bot.say("/sessions")
    assert listing.startswith("Upcoming sessions:\n• UPR54 Mon 18 Jan – Fri 29 Jan 2027, Geneva "
                              "— opens in 56 days (provisional)")
    assert "HRC61" not in listing and "HRC64" in listing
    shown = await bot.say("/session hrc64")
    assert "HRC64 — Human Rights Council, 64th regular session" in shown
    assert "NGO written statements due — Mon 8 Feb 2027, 23:59" in shown
    assert await bot.say("/session HRC99") == (
        "There is no session HRC99 in the calendar (/sessions lists them).")
    assert "is not a session code" in await bot.say("/session Geneva")


async def test_session_changes_need_secretariat_and_move_reminders(bot: FakeBot):
    load(bot)
    assert "needs the secretariat role" in await bot.say("/session edit HRC64 start=2027-03-01")
    with bot.database.session() as db:
        before = {r.key for r in db.exec(select(Reminder).where(Reminder.ref == "HRC64"))}
    assert before == set()  # nothing planned until something re-plans
    await bot.send("/reminders on", user=bot.admin)
    with bot.database.session() as db:
        before = {r.key for r in db.exec(select(Reminder).where(Reminder.ref == "HRC64")
                                         .where(Reminder.status == "pending"))}
    assert "session:HRC64:30d:202701230900" in before
    answer = await bot.say("/session edit HRC64 start=2027-03-01 end=2027-04-09",
                           user=bot.admin)
    assert answer.startswith("HRC64 updated: Mon 1 Mar – Fri 9 Apr 2027, Geneva.")
    with bot.database.session() as db:
        rows = db.exec(select(Reminder).where(Reminder.ref == "HRC64")).all()
    pending = {r.key for r in rows if r.status == "pending"}
    cancelled = {r.key for r in rows if r.status == "cancelled"}
    assert "session:HRC64:30d:202701300900" in pending
    assert before == cancelled


async def test_add_and_remove_sessions_and_deadlines(bot: FakeBot):
    load(bot)
    answer = await bot.say('/session add HRC67 2028-02-28 2028-04-07 "67th session"',
                           user=bot.admin)
    assert answer.startswith("HRC67 — 67th session\nMon 28 Feb – Fri 7 Apr 2028, Geneva")
    assert "NGO written statements due — Mon 14 Feb 2028, 23:59" in answer
    assert "already in the calendar" in await bot.say("/session add HRC67 2028-02-28 2028-04-07",
                                                      user=bot.admin)
    assert "before the start" in await bot.say("/session add HRC68 2028-06-10 2028-06-01",
                                               user=bot.admin)
    added = await bot.say("/deadline add HRC67 2028-02-01 12:00 Side-event requests",
                          user=bot.admin)
    assert added.startswith("Deadline #") and "Side-event requests — Tue 1 Feb 2028, 12:00" in added
    n = int(added.split("#")[1].split()[0])
    assert "removed" in await bot.say(f"/deadline remove {n}", user=bot.admin)
    template = due(bot, "HRC67", "NGO written")
    with bot.database.session() as db:
        written = next(d for d in session_deadlines(db, "HRC67") if d.label.startswith("NGO"))
    await bot.send(f"/deadline remove {written.id}", user=bot.admin)
    await bot.send("/session edit HRC67 start=2028-03-06 end=2028-04-14", user=bot.admin)
    assert "NGO written" not in await bot.say("/session HRC67")  # removed stays removed
    assert template == "Mon 2028-02-14 23:59"
    assert "is in the past" in await bot.say("/deadline add HRC67 2020-01-01 x", user=bot.admin)
    assert "needs a label" in await bot.say("/deadline add HRC67 2028-01-01 10:00",
                                            user=bot.admin)
    assert "removed from the calendar" in await bot.say("/session remove HRC67", user=bot.admin)
    with bot.database.session() as db:
        assert db.exec(select(Deadline).where(Deadline.session_code == "HRC67")).all() == []


async def test_ics_file_imports_into_calendar_apps(bot: FakeBot, net: Network):
    load(bot)
    reply = await bot.send("/calendar")
    assert reply is not None and reply.file is not None
    assert reply.file.name == "hrc-calendar.ics" and reply.file.mime == "text/calendar"
    cal = Calendar.from_ical(reply.file.data)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert "hrc64@caucus-bot" in events
    hrc64 = events["hrc64@caucus-bot"]
    assert hrc64.decoded("dtstart") == date(2027, 2, 22)
    assert hrc64.decoded("dtend") == date(2027, 4, 3)
    deadlines = [e for uid, e in events.items() if uid.startswith("deadline-")]
    assert any("NGO written statements due" in str(e["summary"]) for e in deadlines)
    assert all(e.walk("VALARM") for e in deadlines)


async def test_a_place_with_spaces_and_commas(bot: FakeBot):
    load(bot)
    answer = await bot.say('/session edit UPR51 place="Palais des Nations, Geneva"',
                           user=bot.admin)
    assert answer.startswith("UPR51 updated") and "Palais des Nations, Geneva" in answer


@pytest.mark.parametrize("option", ['place=""', "title=", 'title="  "'])
async def test_an_empty_place_or_title_is_refused(bot: FakeBot, option: str):
    load(bot)
    answer = await bot.say(f"/session edit UPR51 {option}", user=bot.admin)
    assert "is empty" in answer
    assert "Geneva" in await bot.say("/session UPR51")


async def test_deadline_ids_never_come_back(bot: FakeBot):
    await bot.send("/session add HRC67 2028-02-28 2028-04-07", user=bot.admin)
    added = await bot.say("/deadline add HRC67 2028-02-01 Side events", user=bot.admin)
    n = int(added.split("#")[1].split()[0])
    await bot.send(f"/deadline remove {n}", user=bot.admin)
    again = await bot.say("/deadline add HRC67 2028-02-02 Briefing", user=bot.admin)
    assert again.startswith(f"Deadline #{n + 1} added")
    await bot.send("/session remove HRC67", user=bot.admin)
    await bot.send("/session add HRC67 2028-02-28 2028-04-07", user=bot.admin)
    later = await bot.say("/deadline add HRC67 2028-02-03 Other", user=bot.admin)
    assert int(later.split("#")[1].split()[0]) > n + 1


async def test_past_deadlines_are_marked(bot: FakeBot):
    await bot.send("/session add HRC67 2027-01-10 2027-02-07", user=bot.admin)
    await bot.send("/deadline add HRC67 2026-11-30 Early", user=bot.admin)
    await bot.send("/deadline add HRC67 2026-12-30 Late", user=bot.admin)
    bot.advance(days=10)
    shown = await bot.say("/session HRC67")
    assert "Early — Mon 30 Nov 2026, 23:59 (set by hand) — past" in shown
    assert "Late — Wed 30 Dec 2026, 23:59 (set by hand)\n" in shown + "\n"


async def test_ics_has_statement_deadlines(bot: FakeBot, net: Network):
    await bot.send("/statement new Letter on reprisals deadline=2026-12-04T17:00", user=bot.admin)
    await bot.send("/statement new Closed one deadline=2026-12-05", user=bot.admin)
    await bot.send("/statement close S2", user=bot.admin)
    reply = await bot.send("/calendar")
    assert reply is not None and reply.file is not None
    events = {str(e["uid"]): e for e in Calendar.from_ical(reply.file.data).walk("VEVENT")}
    letter = events["statement-1@caucus-bot"]
    assert str(letter["summary"]) == "S1 sign-on deadline: Letter on reprisals"
    assert letter.decoded("dtstart") == datetime(2026, 12, 4, 17, 0, tzinfo=GENEVA)
    assert "statement-2@caucus-bot" not in events
    assert "1 statement deadline" in reply.plain()
