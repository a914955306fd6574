"""Joint statements as a secretariat runs them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.statements import Statement, StatementRoom
from tests.harness import FakeBot, Network


@pytest.fixture
async def sec(bot: FakeBot, net: Network) -> str:
    """A secretariat member."""
    await bot.send(f"/role grant {net.user(9)} secretariat", user=bot.admin)
    return net.user(9)


async def test_new_statement_is_announced_in_the_room(bot: FakeBot, sec: str, net: Network):
    answer = await bot.say('/statement new "Joint letter on Egypt" deadline=2026-11-25 '
                           "session=hrc61 url=https://example.org/draft", user=sec)
    assert answer == ("New joint statement S1: Joint letter on Egypt\n"
                      "Closes in 2 days (Wed 25 Nov 2026, 23:59 Zurich time) · session HRC61\n"
                      "Text: https://example.org/draft\n"
                      "Sign on: /signon S1 <organisation>\n"
                      "HRC61 is not in the calendar (/sessions lists those that are): kept as "
                      "written, with no session deadlines.")
    with bot.database.session() as db:
        assert db.exec(select(StatementRoom.room_id)).all() == [net.room]
        statement = db.get(Statement, 1)
        assert statement is not None and statement.deadline is not None
        # 23:59 in Geneva is 22:59 UTC in winter.
        assert statement.deadline.isoformat() == "2026-11-25T22:59:00+00:00"


async def test_only_secretariat_opens_statements(bot: FakeBot):
    assert await bot.say("/statement new Letter") == (
        "/statement new needs the secretariat role; you are a member.")


@pytest.mark.parametrize(("text", "problem"), [
    ("/statement new", "Missing <title>."),
    ("/statement new Letter deadline=2026-02-30", "deadline= must be a date like 2026-12-01"),
    ("/statement new Letter deadline=2026-11-01", "is in the past"),
    ("/statement new Letter session=Geneva", "session= must be a session code like HRC62"),
    ("/statement new Letter url=example.org", "url= must start with http"),
    ('/statement new "  "', "The title is empty."),
])
async def test_new_statement_bad_input(bot: FakeBot, sec: str, text: str, problem: str):
    assert problem in await bot.say(text, user=sec)
    with bot.database.session() as db:
        assert db.exec(select(Statement)).all() == []


async def test_statements_list_in_the_configured_timezone(bot: FakeBot, sec: str):
    await bot.send("/statement new Later deadline=2026-12-10", user=sec)
    await bot.send("/statement new Sooner deadline=2026-11-24T12:00", user=sec)
    await bot.send("/signon S1 Org A | Egypt")
    await bot.send("/signon S1 Org B | Egypt")
    await bot.send("/signon S1 Org C | Tunisia")
    listing = await bot.say("/statements")
    assert listing.split("\n")[0] == "Open statements (deadlines in Zurich time):"
    assert listing.split("\n")[1] == (
        "• S2 Sooner — closes tomorrow at 12:00 (Tue 24 Nov 2026, 12:00) — 0 sign-ons, "
        "0 countries")
    assert "• S1 Later — closes in 17 days (Thu 10 Dec 2026, 23:59) — 3 sign-ons, 2 countries" in (
        listing)
    bot.now = bot.now.replace(hour=23, minute=30)  # 00:30 on the 24th in Geneva
    assert "S2 Sooner — closes today at 12:00" in await bot.say("/statements")


async def test_deadline_edge_in_the_configured_timezone(bot: FakeBot, sec: str):
    await bot.send("/statement new Letter deadline=2026-11-24", user=sec)
    bot.now = bot.now.replace(day=24, hour=22, minute=58)  # 23:58 in Geneva
    assert (await bot.say("/signon S1 Org A")).startswith("Signed S1 for Org A")
    bot.now = bot.now.replace(minute=59)  # 23:59 in Geneva: closed
    assert await bot.say("/signon S1 Org B") == (
        "Sign-ons for S1 closed at Tue 24 Nov 2026, 23:59.")


async def test_edit_close_and_reopen(bot: FakeBot, sec: str):
    await bot.send("/statement new Letter", user=sec)
    assert await bot.say("/statement edit S1 deadline=2026-12-01T12:00 title=New", user=sec) == (
        "S1 updated (title, deadline). Closes in 8 days (Tue 1 Dec 2026, 12:00 Zurich time).")
    assert "Give at least one of" in await bot.say("/statement edit S1", user=sec)
    assert await bot.say("/statement close S1", user=sec) == (
        "S1 is closed: 0 sign-ons from 0 countries.")
    assert await bot.say("/signon S1 Org") == (
        "S1 is closed for sign-ons (deadline Tue 1 Dec 2026, 12:00).")
    assert await bot.say("/statement close S1", user=sec) == "S1 is already closed."
    assert "S1 is open" in await bot.say("/statement reopen S1", user=sec)
    assert "Signed S1" in await bot.say("/signon S1 Org")


async def test_new_text_tells_every_room_that_has_it(bot: FakeBot, sec: str, net: Network):
    await bot.send("/statement new Letter", user=sec, room=net.secure_room)
    assert "New joint statement S1" in await bot.say("/statement announce S1", user=sec)
    assert "already announced here" in await bot.say("/statement announce S1", user=sec)
    await bot.send("/signon S1 Org A")
    await bot.send("/signon S1 Org B")
    answer = await bot.say("/statement text S1 https://example.org/v2", user=sec,
                           room=net.secure_room)
    assert answer.startswith('S1 "Letter": the text changed (version 2).\n2 organisations '
                             "signed an earlier version")
    assert [(room, reply.plain()) for room, reply in bot.queued()] == [(net.room, answer)]
    shown = await bot.say("/statement S1")
    assert "Text version 2: https://example.org/v2" in shown
    assert "You signed for: Org A (earlier text), Org B (earlier text)" in shown


async def test_show_statement_for_someone_who_has_not_signed(bot: FakeBot, sec: str,
                                                             net: Network):
    await bot.send("/statement new Letter", user=sec)
    await bot.send("/signon S1 Org A | Egypt")
    shown = await bot.say("/statement S1", user=net.user(5))
    assert "1 organisation from 1 country signed." in shown
    assert "You have not signed. /signon S1 <organisation>" in shown


async def test_unknown_statement_ids(bot: FakeBot):
    assert await bot.say("/statement S4") == "There is no statement S4."
    assert await bot.say("/signon letter Org") == (
        "'letter' is not a statement id; ids look like S3 (/statements lists them).")
    assert await bot.say("/statements") == "No open statements."


@pytest.mark.parametrize("typed", ['title="Renamed statement"', '"title=Renamed statement"',
                                   'title=\u201cRenamed statement\u201d'])
async def test_an_edited_title_may_have_spaces(bot: FakeBot, sec: str, typed: str):
    await bot.send("/statement new Letter", user=sec)
    assert (await bot.say(f"/statement edit S1 {typed}", user=sec)).startswith("S1 updated (title)")
    assert "S1 Renamed statement — open" in await bot.say("/statement S1")


async def test_a_closed_statement_is_not_announced_for_sign_ons(bot: FakeBot, sec: str,
                                                                net: Network):
    await bot.send("/statement new Letter deadline=2027-02-01", user=sec, room=net.secure_room)
    await bot.send("/statement close S1", user=sec)
    assert await bot.say("/statement announce S1", user=sec) == (
        "S1 is closed for sign-ons; reopen it first: /statement reopen S1")
    with bot.database.session() as db:
        assert db.exec(select(StatementRoom.room_id)).all() == [net.secure_room]


async def test_a_closed_statement_says_closed_not_closes_in(bot: FakeBot, sec: str):
    await bot.send("/statement new Letter deadline=2027-02-01", user=sec)
    await bot.send("/statement close S1", user=sec)
    shown = await bot.say("/statement S1")
    assert shown.split("\n")[:2] == ["S1 Letter — closed",
                                     "Closed for sign-ons (the deadline was to be Mon 1 Feb "
                                     "2027, 23:59 Zurich time)"]
    assert "Closes in" not in shown and "You have not signed" not in shown


async def test_statements_closed_lists_closed_and_past_deadline_ones(bot: FakeBot, sec: str):
    await bot.send("/statement new Shut", user=sec)
    await bot.send("/statement close S1", user=sec)
    await bot.send("/statement new Past deadline=2026-11-24", user=sec)
    await bot.send("/statement new Open deadline=2026-12-24", user=sec)
    bot.advance(days=2)
    assert await bot.say("/statements closed") == (
        "Closed statements:\n"
        "• S2 Past — closed on Tue 24 Nov 2026, 23:59 — 0 sign-ons, 0 countries\n"
        "• S1 Shut — closed for sign-ons — 0 sign-ons, 0 countries")
    listing = await bot.say("/statements")
    assert "S3 Open" in listing and "S1 Shut" not in listing and "S2 Past" not in listing


async def test_session_not_in_the_calendar_is_kept_as_written_and_said_so(bot: FakeBot,
                                                                          sec: str):
    answer = await bot.say("/statement new Letter session=HRC99", user=sec)
    assert answer.endswith("HRC99 is not in the calendar (/sessions lists those that are): "
                           "kept as written, with no session deadlines.")
    await bot.send("/session add HRC64 2027-02-22 2027-04-02", user=bot.admin)
    answer = await bot.say("/statement edit S1 session=hrc64", user=sec)
    assert "not in the calendar" not in answer


async def test_delete_a_statement_without_sign_ons(bot: FakeBot, sec: str, net: Network):
    await bot.send("/statement new Typo", user=sec)
    await bot.send("/statement new Letter", user=sec)
    await bot.send("/signon S2 Org A")
    await bot.send("/withdraw S2 Org A")
    assert "needs the secretariat role" in await bot.say("/statement delete S1")
    assert await bot.say("/statement delete S2", user=sec) == (
        "S2 has sign-ons (withdrawn ones count: they are history); close it instead: "
        "/statement close S2")
    assert await bot.say("/statement delete S1", user=sec) == "S1 \"Typo\" deleted."
    assert await bot.say("/statement S1") == "There is no statement S1."
    await bot.send("/statement delete S2", user=sec)
    # A new statement never takes a deleted one's id: "/signon S1" must not sign it.
    assert (await bot.say("/statement new Again", user=sec)).startswith(
        "New joint statement S3")
