"""Input out of range (dates, text lengths) is refused with the range, and nothing stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.calendar import Deadline, HrcSession
from storage.reminders import Reminder
from storage.statements import Statement
from tests.harness import FakeBot, Network

YEARS = "between 2000 and 2100"


@pytest.fixture
async def sec(bot: FakeBot, net: Network) -> str:
    await bot.send(f"/role grant {net.user(9)} secretariat", user=bot.admin)
    return net.user(9)


def rows(bot: FakeBot, model: type) -> list:
    with bot.database.session() as db:
        return list(db.exec(select(model)))


@pytest.mark.parametrize("command", [
    "/session add HRC70 0001-01-01 2029-01-01",
    "/session add HRC70 2029-01-01 9999-12-31",
    "/session add UPR70 1999-12-31 2029-01-01",
])
async def test_session_dates(bot: FakeBot, sec: str, command: str):
    answer = await bot.say(command, user=sec)
    assert YEARS in answer and "Something went wrong" not in answer
    assert rows(bot, HrcSession) == []


async def test_session_edit_to_year_9999_is_refused_and_the_calendar_still_works(
        bot: FakeBot, sec: str):
    await bot.send("/session add HRC70 2029-01-01 2029-02-01", user=sec)
    answer = await bot.say("/session edit HRC70 end=9999-12-31", user=sec)
    assert YEARS in answer and "Something went wrong" not in answer
    assert "hrc-calendar" not in answer
    assert "sessions, " in await bot.say("/calendar")  # it still renders
    assert "Thu 1 Feb 2029" in await bot.say("/session HRC70")


async def test_deadline_dates(bot: FakeBot, sec: str):
    await bot.send("/session add HRC70 2029-01-01 2029-02-01", user=sec)
    before = len(rows(bot, Deadline))
    answer = await bot.say("/deadline add HRC70 9999-12-31 23:59 Far away", user=sec)
    assert YEARS in answer
    assert len(rows(bot, Deadline)) == before


@pytest.mark.parametrize("deadline", ["9999-12-31T23:59-05:00", "9999-12-31T23:59+05:00",
                                      "0001-01-01T00:00+05:00", "2101-01-01", "9999-12-31"])
async def test_statement_deadlines(bot: FakeBot, sec: str, deadline: str):
    answer = await bot.say(f"/statement new Letter deadline={deadline}", user=sec)
    assert YEARS in answer and "Something went wrong" not in answer
    assert rows(bot, Statement) == []


async def test_case_incident_date(bot: FakeBot):
    answer = await bot.say("/flag Egypt | Lawyer arrested date=0001-01-01")
    assert YEARS in answer and "Something went wrong" not in answer


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31", "2040-01-01"])
async def test_reminders_from_now_to_five_years(bot: FakeBot, when: str):
    answer = await bot.say(f"/remind {when} Call the rapporteur")
    assert "Something went wrong" not in answer
    assert "within 5 years" in answer or "in the past" in answer
    assert rows(bot, Reminder) == []


# Length limits live in the schema; SQLite does not enforce them, so the bot does.

LONG = "x" * 300


@pytest.mark.parametrize(("command", "problem"), [
    (f"/deadline add HRC70 2029-01-05 {LONG}", "The deadline label is 300 characters; the "
                                               "limit is 255."),
    (f'/session edit HRC70 title="{LONG}"', "The session title is 300 characters; the limit "
                                            "is 255."),
    (f'/session edit HRC70 place="{LONG}"', "The place is 300 characters; the limit is 255."),
    (f'/session add HRC71 2029-03-01 2029-04-01 {LONG}', "The session title is 300 "
                                                        "characters; the limit is 255."),
])
async def test_calendar_text_limits(bot: FakeBot, sec: str, command: str, problem: str):
    await bot.send("/session add HRC70 2029-01-01 2029-02-01", user=sec)
    with bot.database.session() as db:
        before = [(s.title, s.place) for s in db.exec(select(HrcSession))]
        labels = [d.label for d in db.exec(select(Deadline))]
    assert problem in await bot.say(command, user=sec)
    with bot.database.session() as db:
        assert [(s.title, s.place) for s in db.exec(select(HrcSession))] == before
        assert [d.label for d in db.exec(select(Deadline))] == labels


async def test_case_text_limits(bot: FakeBot):
    await bot.send("/flag Egypt | Lawyer arrested")
    assert "The pseudonym is 300 characters; the limit is 255." in await bot.say(
        f"/case pseudonym 1 {LONG}")


async def test_statement_link_limit(bot: FakeBot, sec: str):
    answer = await bot.say("/statement new Letter url=https://example.org/" + "x" * 2000,
                           user=sec)
    assert "The link is 2,020 characters; the limit is 2,000." in answer
    assert rows(bot, Statement) == []


async def test_a_statement_id_is_ascii_digits(bot: FakeBot, sec: str):
    await bot.send("/statement new Letter", user=sec)
    assert "is not a statement id" in await bot.say("/statement S\u0661")


def test_a_case_number_past_the_column_is_not_looked_up(monkeypatch: pytest.MonkeyPatch):
    """PostgreSQL refuses to compare an INTEGER column with 2**31: no lookup is made."""
    from bot.arguments import MAX_INT
    from handlers.case_access import _named_case

    class NoLookups:
        def get(self, *args: object) -> None:
            raise AssertionError(f"looked up {args}")

    assert _named_case(NoLookups(), f"{MAX_INT + 1} note") is None  # type: ignore[arg-type]
    assert _named_case(NoLookups(), "99999999999999999 note") is None  # type: ignore[arg-type]


async def test_a_long_display_name_is_cut_to_fit_not_refused(bot: FakeBot, net: Network):
    """A display name is the network's label, not a record typed here: it is cut."""
    name = "N" * 300
    answer = await bot.say("/remind tomorrow 9:00 Call the rapporteur", name=name)
    assert answer.startswith("I will remind this room")
    with bot.database.session() as db:
        from storage.models import Identity
        assert db.get(Identity, net.user(1)).display_name == "N" * 255  # type: ignore[union-attr]
        assert db.exec(select(Reminder)).one().created_by == "N" * 255
