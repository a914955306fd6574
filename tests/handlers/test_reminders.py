"""Reminder planning and the /reminders and /remind commands."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.config import ConfigError, parse_config
from handlers.reminder_plan import plan, reminder_rooms, render
from storage.calendar import HrcSession
from storage.models import AuditEntry
from storage.reminders import Reminder
from tests.harness import TEST_CONFIG, FakeBot, Network


def add_session(bot: FakeBot, code: str = "HRC64", start: date = date(2027, 2, 22)) -> None:
    with bot.database.session() as db:
        db.add(HrcSession(code=code, kind="hrc", title="Council", start=start,
                          end=date(2027, 4, 2)))
        db.commit()


async def test_plan_targets_both_sides_of_each_room_with_reminders_on(bot: FakeBot):
    add_session(bot)
    with bot.database.session() as db:
        rooms = reminder_rooms(db, bot.config)
        planned = plan(db, bot.config, bot.now)
    assert rooms == ("telegram:-5", "matrix:!ordinary:example.org", "telegram:-9",
                     "matrix:!secure:example.org")
    assert [(p.key, p.rooms) for p in planned] == [
        (f"session:HRC64:{d}d:{stamp}", rooms) for d, stamp in
        [(30, "202701230900"), (14, "202702080900"), (7, "202702150900"), (1, "202702210900")]]


async def test_reminders_off_takes_a_room_out_of_the_plan(bot: FakeBot, net: Network):
    add_session(bot)
    assert await bot.say("/reminders off", user=bot.admin) == (
        "Reminders are off for Caucus (both sides of the bridge).")
    with bot.database.session() as db:
        rows = db.exec(select(Reminder).where(Reminder.status == "pending")).all()
    assert rows and all(r.rooms == ["telegram:-9", "matrix:!secure:example.org"] for r in rows)
    assert (await bot.say("/reminders")).startswith("Reminders here are off.")
    assert "needs the secretariat role" in await bot.say("/reminders on")


async def test_reminders_lists_what_comes_next(bot: FakeBot):
    add_session(bot)
    await bot.send("/reminders on", user=bot.admin)
    answer = await bot.say("/reminders")
    assert answer.startswith("Reminders here are on.\nNext (Zurich time):\n"
                             "• Sat 23 Jan 2027, 09:00 — HRC64 (Council) opens in 30 days: "
                             "Mon 22 Feb – Fri 2 Apr 2027, Geneva.")


async def test_deadline_reminders_and_their_text(bot: FakeBot):
    add_session(bot)
    await bot.send("/deadline add HRC64 2027-02-08 12:00 NGO written statements",
                   user=bot.admin)
    with bot.database.session() as db:
        rows = db.exec(select(Reminder).where(Reminder.kind == "deadline")).all()
        assert sorted(r.key.split(":")[2] for r in rows) == ["0d", "2d", "7d"]
        on_the_day = next(r for r in rows if ":0d:" in r.key)
        reply = render(db, on_the_day, bot.config, on_the_day.due_at)
    assert reply is not None
    assert reply.plain() == ("Deadline — HRC64: NGO written statements is due today at 12:00 "
                             "(Mon 8 Feb 2027, 12:00).")


async def test_statement_nudges_are_planned_for_rooms_that_have_it(bot: FakeBot, net: Network):
    await bot.send("/statement new Letter deadline=2026-12-04T17:00", user=bot.admin)
    with bot.database.session() as db:
        rows = db.exec(select(Reminder).where(Reminder.kind == "nudge")).all()
    assert sorted((r.key, r.rooms) for r in rows) == [
        ("nudge:S1:0d:202612040900", [net.room]), ("nudge:S1:2d:202612020900", [net.room])]
    await bot.send("/statement close S1", user=bot.admin)
    with bot.database.session() as db:
        assert {r.status for r in db.exec(select(Reminder))} == {"cancelled"}


@pytest.mark.parametrize(("when", "expected"), [
    ("2026-12-01 09:00", "Tue 1 Dec 2026, 09:00"),
    ("in 3 days", "Thu 26 Nov 2026, 09:00"),
    ("tomorrow", "Tue 24 Nov 2026, 09:00"),
    ("in 2 hours", "Mon 23 Nov 2026, 12:00"),
    ("12/01 9:00", "Tue 12 Jan 2027, 09:00"),
    ("12/01", "Tue 12 Jan 2027, 09:00"),
    ("1.12. 9:00", "Tue 1 Dec 2026, 09:00"),
    ("1.12.2026", "Tue 1 Dec 2026, 09:00"),
    ("1.12", "Tue 1 Dec 2026, 09:00"),
    ("tomorrow 9.30", "Tue 24 Nov 2026, 09:30"),
    ("tomorrow 9:00", "Tue 24 Nov 2026, 09:00"),
    ("next monday", "Mon 30 Nov 2026, 09:00"),
    ("friday 14:30", "Fri 27 Nov 2026, 14:30"),
])
async def test_remind_reads_when_in_the_configured_timezone(bot: FakeBot, when: str,
                                                            expected: str):
    answer = await bot.say(f"/remind {when} Call the OHCHR desk")
    assert answer == f"I will remind this room on {expected} Zurich time: Call the OHCHR desk"


async def test_remind_reads_numeric_dates_in_the_configured_order(tmp_path, net: Network):
    config = parse_config({**TEST_CONFIG, "bot": {
        **TEST_CONFIG["bot"], "timezone": "America/New_York",
        "database_url": f"sqlite:///{tmp_path / 'us.db'}"}})
    assert config.bot.date_order == "MDY"
    us = FakeBot(tmp_path, net, config=config)
    try:
        assert await us.say("/remind 12/01 9:00 Call") == (
            "I will remind this room on Tue 1 Dec 2026, 09:00 New York time: Call")
    finally:
        us.close()


def test_date_order_defaults_from_the_zone_and_can_be_set():
    assert parse_config({}).bot.date_order == "DMY"
    assert parse_config({"bot": {"timezone": "Asia/Tokyo"}}).bot.date_order == "YMD"
    assert parse_config({"bot": {"timezone": "America/New_York",
                                 "date_order": "dmy"}}).bot.date_order == "DMY"
    with pytest.raises(ConfigError, match=r"\[bot\]\.date_order: must be DMY, MDY or YMD"):
        parse_config({"bot": {"date_order": "DDMM"}})


async def test_remind_keeps_its_text_as_typed(bot: FakeBot):
    assert await bot.say("/remind 1.12. Read chapter 3.4.1 and 2.10. notes") == (
        "I will remind this room on Tue 1 Dec 2026, 09:00 Zurich time: Read chapter 3.4.1 and "
        "2.10. notes")


async def test_remind_refuses_the_past_showing_what_it_read(bot: FakeBot):
    assert await bot.say("/remind 2026-11-01 10:00 too late") == (
        "Sun 1 Nov 2026, 10:00 is in the past; give a time to come.")
    assert await bot.say("/remind yesterday x") == (
        "Sun 22 Nov 2026, 09:00 is in the past; give a time to come.")


async def test_remind_needs_a_when_and_a_text(bot: FakeBot):
    assert (await bot.say("/remind whenever you like")).startswith("I could not read when.")
    assert await bot.say("/remind tomorrow") == (
        "Remind of what? I read Tue 24 Nov 2026, 09:00 Zurich time; add the text: "
        "/remind tomorrow <text>")
    assert await bot.say("/remind in 3 days") == (
        "Remind of what? I read Thu 26 Nov 2026, 09:00 Zurich time; add the text: "
        "/remind in 3 days <text>")
    with bot.database.session() as db:
        assert db.exec(select(Reminder).where(Reminder.kind == "remind")).all() == []
    assert (await bot.say("/remind")).startswith("Missing <text>.")


async def test_one_off_reminder_targets_this_room_on_both_sides(bot: FakeBot):
    await bot.send("/remind tomorrow 9:00 Read the draft", name="Ana")
    with bot.database.session() as db:
        row = db.exec(select(Reminder).where(Reminder.kind == "remind")).one()
        assert row.rooms == ["telegram:-5", "matrix:!ordinary:example.org"]
        reply = render(db, row, bot.config, row.due_at)
    assert reply is not None and reply.plain() == "Reminder from Ana: Read the draft"


def test_reminder_rooms_respect_the_config_default():
    config = parse_config({"rooms": [{"name": "A", "telegram_chat_id": -1, "reminders": False},
                                     {"name": "B", "matrix_room_id": "!b:x"}]})
    from storage.database import Database

    database = Database("sqlite://")
    database.upgrade()
    with database.session() as db:
        assert reminder_rooms(db, config) == ("matrix:!b:x",)


async def one_offs(bot: FakeBot) -> list[Reminder]:
    with bot.database.session() as db:
        return list(db.exec(select(Reminder).where(Reminder.kind == "remind")
                            .order_by(Reminder.due_at)))


async def test_reminders_page_and_show_whole_lines_with_ids(bot: FakeBot):
    long_text = "Read the draft " + "word " * 40 + "END"
    for day in range(1, 13):
        await bot.send(f"/remind 2026-12-{day:02d} 09:00 {long_text}")
    rows = await one_offs(bot)
    first = await bot.say("/reminders")
    assert first.count("END") == 10
    assert f"[{rows[0].key.removeprefix('remind:')}]" in first
    assert first.endswith("More: /reminders page=2")
    second = await bot.say("/reminders page=2")
    assert second.count("END") == 2 and "More:" not in second
    assert "Page 3 does not exist" in await bot.say("/reminders page=3")


async def test_a_due_reminder_still_pending_stays_listed(bot: FakeBot):
    await bot.send("/remind tomorrow 9:00 Call the desk")
    bot.advance(days=2)
    listing = await bot.say("/reminders")
    assert "Call the desk" in listing and "due, not yet sent" in listing


async def test_reminders_off_does_not_read_as_if_nothing_goes_out(bot: FakeBot):
    await bot.send("/reminders off", user=bot.admin)
    await bot.send("/remind tomorrow 9:00 Call the desk")
    listing = await bot.say("/reminders")
    assert "Reminders here are off" not in listing
    assert listing.startswith("Session and deadline reminders here are off; these still go "
                              "out (Zurich time):")


async def test_remind_cancel_by_whoever_set_it_or_the_secretariat(bot: FakeBot, net: Network):
    await bot.send("/remind tomorrow 9:00 First", user=net.user(1))
    await bot.send("/remind tomorrow 10:00 Second", user=net.user(1))
    first, second = (r.key.removeprefix("remind:") for r in await one_offs(bot))
    assert await bot.say(f"/remind cancel {first}", user=net.user(2)) == (
        "Only whoever set a reminder, or the secretariat, can cancel it.")
    assert await bot.say(f"/remind cancel {first}", user=net.user(1)) == (
        "Cancelled the reminder of Tue 24 Nov 2026, 09:00: First")
    assert await bot.say(f"/remind cancel {second}", user=bot.admin) == (
        "Cancelled the reminder of Tue 24 Nov 2026, 10:00: Second")
    assert await bot.say("/remind cancel zzz") == (
        "There is no pending reminder zzz in this room; /reminders shows their ids.")
    assert {r.status for r in await one_offs(bot)} == {"cancelled"}
    with bot.database.session() as db:
        query = select(AuditEntry).where(AuditEntry.target == f"remind:{first}")
        trail = [(e.action, e.detail) for e in db.exec(query)]
    assert trail == [("remind.add", "due Tue 24 Nov 2026, 09:00"), ("remind.cancel", "")]
    assert "First" not in await bot.say("/reminders")
