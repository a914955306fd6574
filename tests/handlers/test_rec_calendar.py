"""A State's UPR dates from its recommendations and the calendar, and their reminders."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from bot.calendar_data import SHIPPED, import_file
from handlers.rec_calendar import next_session_number, upr_dates
from handlers.reminder_plan import render
from storage.reminders import PENDING, Reminder
from tests.harness import FakeBot


async def setup(bot: FakeBot) -> None:
    with bot.database.session() as db:
        import_file(db, SHIPPED, bot.config.bot.tz)
        db.commit()
    # Bahrain: reviewed at UPR51 (January 2026, in the calendar).
    await bot.send("/rec add Bahrain | Release detained defenders source=upr cycle=4 session=51 "
                   "position=supported affected=\"Human rights defenders\"", user=bot.admin)
    # Egypt: reviewed at UPR41 (November 2022, before the calendar's first session), its
    # recommendations published on 27 January 2023.
    await bot.send("/rec add Egypt | Protect defenders from reprisals source=upr cycle=4 "
                   "session=41 date=2023-01-27 position=supported "
                   "affected=\"Human rights defenders\"", user=bot.admin)
    await bot.send('/rec status R2 not-implemented org="Cairo Institute"')


def test_the_next_review_is_the_same_place_in_the_next_cycle():
    assert next_session_number(41) == 55 and next_session_number(27) == 41
    assert next_session_number(1) == 13  # the first cycle had twelve sessions


async def test_dates_of_a_review(bot: FakeBot):
    await setup(bot)
    with bot.database.session() as db:
        bahrain = upr_dates(db, "BH")
        egypt = upr_dates(db, "EG")
    assert bahrain is not None and egypt is not None
    assert (bahrain.reviewed, bahrain.reviewed_on, bahrain.midterm) == (
        "UPR51", date(2026, 1, 19), date(2028, 7, 19))
    # The Working Group ends on 30 January; HRC61 opens 24 days later, too soon.
    assert bahrain.adoption is not None and bahrain.adoption.code == "HRC62"
    assert (bahrain.next_review, bahrain.next_session) == ("UPR65", None)
    assert (egypt.reviewed_on, egypt.midterm) == (date(2023, 1, 27), date(2025, 7, 27))
    assert egypt.next_session is not None and egypt.next_session.code == "UPR55"
    assert egypt.next_adoption is not None and egypt.next_adoption.code == "HRC66"


async def test_reminders_of_reviews_mid_terms_and_adoptions(bot: FakeBot):
    await setup(bot)
    with bot.database.session() as db:
        rows = list(db.exec(select(Reminder).where(Reminder.kind == "upr")
                            .where(Reminder.status == PENDING).order_by(col(Reminder.due_at))))
        refs = sorted({r.ref for r in rows})
        assert refs == ["BH:midterm:UPR51", "EG:adoption:HRC66:UPR55", "EG:review:UPR55"]
        # 30, 14, 7 and 1 days before each, at 09:00, to the rooms with reminders on.
        review = [r for r in rows if r.ref == "EG:review:UPR55"]
        assert [f"{r.due_at.astimezone(bot.config.bot.tz):%Y-%m-%d %H:%M}" for r in review] == [
            "2027-04-03 09:00", "2027-04-19 09:00", "2027-04-26 09:00", "2027-05-02 09:00"]
        assert set(review[0].rooms) == {"telegram:-5", "matrix:!ordinary:example.org",
                                        "telegram:-9", "matrix:!secure:example.org"}
        texts = {r.ref: render(db, r, bot.config, bot.now) for r in rows}
    egypt = texts["EG:review:UPR55"]
    assert egypt is not None and egypt.plain().startswith(
        "UPR — Egypt's next review: UPR55, Working Group 3 May – 14 May 2027 (opens in 161 "
        "days).")
    assert ("1 supported recommendation on defenders kept for Egypt; 1 assessed not implemented "
            "or regressed.") in egypt.plain()
    midterm = texts["BH:midterm:UPR51"]
    assert midterm is not None and midterm.plain().startswith(
        "UPR mid-term — Bahrain: about two and a half years since its review at UPR51, on "
        "19 Jul 2028: the point for a mid-term report.")
    adoption = texts["EG:adoption:HRC66:UPR55"]
    assert adoption is not None and adoption.plain().startswith(
        "HRC66 adopts Egypt's UPR outcome (UPR55): the session opens Mon 13 Sep 2027.")
    pages = [await bot.say(f"/reminders page={n}") for n in range(1, 12)]
    assert any("— UPR — Egypt's next review: UPR55" in page for page in pages)


async def test_a_newer_review_replaces_the_reminders_of_the_older(bot: FakeBot):
    await setup(bot)
    await bot.send("/rec add Egypt | A later one source=upr cycle=4 session=55",
                   user=bot.admin)
    with bot.database.session() as db:
        refs = {r.ref for r in db.exec(select(Reminder).where(Reminder.kind == "upr")
                                       .where(Reminder.status == PENDING))}
    assert "EG:review:UPR55" not in refs  # UPR55 is now its latest review, not its next
    assert "EG:midterm:UPR55" in refs and "EG:adoption:HRC66:UPR55" in refs
