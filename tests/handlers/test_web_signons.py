"""The chat side of the sign-on page, on both networks: opening it, and the review."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

import handlers
from storage.models import AuditEntry
from storage.statements import Statement
from storage.web_signons import Submission, submit
from tests.harness import FakeBot, Network
from tests.web.site import WebBot


@pytest.fixture
def web(tmp_path: Path, net: Network) -> Iterator[WebBot]:
    bot = WebBot(tmp_path, net)
    yield bot
    bot.close()


def sent_from_the_page(bot: WebBot, name: str, *, unlisted: bool = False) -> int:
    """A sign-on as the page records it, with its notice to the statement's rooms."""
    with bot.database.session() as db:
        statement = db.get(Statement, 1)
        assert statement is not None
        outcome = submit(db, statement, Submission(
            org_name=name, country="EG", level=None, ecosoc=None, unlisted=unlisted,
            signer_name="Ana", signer_email="ana@example.org"), now=bot.now, review=True,
            org_key=name.casefold())
        row = outcome.row  # type: ignore[union-attr]
        handlers.features().web_signon_notice(db, bot.config, statement, row, "new", bot.now)
        db.commit()
        return row.id or 0


async def opened(bot: WebBot) -> str:
    sec = bot.net.user(9)
    await bot.send(f"/role grant {sec} secretariat", user=bot.admin)
    await bot.send("/statement new Letter deadline=2026-12-01", user=sec)
    return sec


async def test_without_a_web_table_the_command_says_how_to_get_one(bot: FakeBot,
                                                                   net: Network):
    await bot.send(f"/role grant {net.user(9)} secretariat", user=bot.admin)
    await bot.send("/statement new Letter", user=net.user(9))
    answer = await bot.say("/statement web S1 on", user=net.user(9))
    assert answer == ("This bot serves no web pages: add a [web] table to its config (see "
                      "config.example.toml) and restart it.")


async def test_the_page_is_opened_shown_and_closed_by_the_secretariat(web: WebBot):
    sec = await opened(web)
    assert await web.say("/statement web S1", user=sec) == (
        "S1 has no web page. /statement web S1 on opens one.")
    member = await web.say("/statement web S1 on")
    assert member == "/statement web needs the secretariat role; you are a member."
    opened_answer = await web.say("/statement web S1 on", user=sec)
    url = re.search(r"http://signons\.test/s/[\w-]{22}", opened_answer)
    assert url, opened_answer
    assert opened_answer.endswith("each web sign-on waits for approval here (/signon pending "
                                  "S1 lists them).")
    assert await web.say("/statement web S1 on", user=sec) == (
        f"S1's web page is already open: {url.group(0)}")
    sent_from_the_page(web, "Cairo Institute")
    assert await web.say("/statement web S1", user=sec) == (
        f"S1 sign-on page (open): {url.group(0)}\n0 organisations signed through the web; "
        "1 waits for review (/signon pending S1).")
    await web.send("/signon approve S1 1", user=sec)
    await web.say("/statement web S1 off", user=sec)
    assert await web.say("/statement web S1", user=sec) == (
        f"S1 sign-on page (turned off: it shows \"closed\"): {url.group(0)}\n"
        "1 organisation signed through the web; 0 wait for review.")
    again = await web.say("/statement web S1 on", user=sec)
    assert url.group(0) in again  # the same address as before
    assert await web.say("/statement web S2 on", user=sec) == "There is no statement S2."


async def test_new_web_sign_ons_are_announced_to_the_statements_rooms(web: WebBot):
    sec = await opened(web)
    await web.send("/statement announce S1", user=sec, room=web.net.secure_room)
    sent_from_the_page(web, "Cairo Institute")
    sent_from_the_page(web, "Quiet Voices", unlisted=True)
    p = "/" if web.net.name == "telegram" else "!"  # Element swallows unknown /commands
    notices = [(room, reply.plain()) for room, reply in web.queued()]
    assert notices == [
        (web.net.room, f"New web sign-on for S1: Cairo Institute (Egypt) — {p}signon approve "
                       f"S1 1 · {p}signon reject S1 1"),
        (web.net.secure_room, f"New web sign-on for S1: Cairo Institute (Egypt) — {p}signon "
                              f"approve S1 1 · {p}signon reject S1 1"),
        # An unlisted one is named only where the room is private.
        (web.net.room, f"New web sign-on for S1: an unlisted organisation (named by "
                       f"{p}signon pending S1 in a direct message or a secure room) — "
                       f"{p}signon approve S1 2 · {p}signon reject S1 2"),
        (web.net.secure_room, f"New web sign-on for S1: Quiet Voices (Egypt) — unlisted — "
                              f"{p}signon approve S1 2 · {p}signon reject S1 2")]


async def test_pending_sign_ons_are_listed_counted_apart_and_reviewed(web: WebBot):
    sec = await opened(web)
    assert await web.say("/signon pending S1", user=sec) == (
        "No web sign-ons wait for review on S1.")
    sent_from_the_page(web, "Cairo Institute")
    sent_from_the_page(web, "Spam Org")
    assert await web.say("/signon pending S1", user=sec) == (
        "S1: 2 web sign-ons wait for review\n"
        "• 1: Cairo Institute (Egypt) — sent Mon 23 Nov 2026, 10:00\n"
        "• 2: Spam Org (Egypt) — sent Mon 23 Nov 2026, 10:00\n"
        "/signon approve S1 <number> · /signon reject S1 <number>")
    shown = await web.say("/statement S1")
    assert "0 organisations from 0 countries signed.\n2 more from the web wait for the " \
           "secretariat's review." in shown
    assert await web.say("/signon reject S1 2", user=sec) == (
        "Rejected web sign-on 2 on S1: Spam Org (Egypt). Nothing was added; the signer's name "
        "and e-mail are deleted.")
    assert await web.say("/signon approve S1 2", user=sec) == (
        "Web sign-on 2 on S1 is not waiting for review: it was rejected.")
    assert await web.say("/signon reject S1 2", user=sec) == (
        "Web sign-on 2 on S1 is not waiting for review: it was rejected.")
    assert await web.say("/signon approve S1 7", user=sec) == (
        "There is no web sign-on 7 on S1 (/signon pending S1 lists those waiting).")
    await web.send("/statement new Other", user=sec)
    assert await web.say("/signon approve S2 1", user=sec) == (
        "There is no web sign-on 1 on S2 (/signon pending S2 lists those waiting).")
    assert (await web.say("/signon approve S1 1", user=sec)).startswith(
        "Approved web sign-on 1: Cairo Institute (Egypt) signed S1.")
    signatories = await web.say("/signatories S1")
    assert "Cairo Institute (Egypt)" in signatories and "Spam Org" not in signatories
    with web.database.session() as db:
        trail = {(e.action, e.target, e.detail) for e in db.exec(select(AuditEntry))}
    assert {("statement.web.approve", "S1", "#1 Cairo Institute"),
            ("statement.web.reject", "S1", "#2 Spam Org")} <= trail


async def test_review_commands_are_for_the_secretariat(web: WebBot):
    await opened(web)
    sent_from_the_page(web, "Cairo Institute")
    for command in ("/signon pending S1", "/signon approve S1 1", "/signon reject S1 1"):
        answer = await web.say(command)
        assert answer.endswith("needs the secretariat role; you are a member."), command
    # (A /signon line that does not parse stays on its side: it might hold an unlisted name.)
    assert (await web.say("/signon approve S1 x", user=web.net.user(9))).startswith(
        "<number> must be a whole number from 1 to 2147483647, not 'x'.\n"
        "Usage: /signon approve <id> <number>\nExample: /signon approve S3 17")


def test_a_room_the_config_does_not_name_is_told_as_a_private_one(tmp_path: Path):
    """A statement opened in a direct message: its notices there name unlisted sign-ons."""
    bot = WebBot(tmp_path, Network("telegram"))
    try:
        with bot.database.session() as db:
            db.add(Statement(id=1, title="x", created_by="telegram:9",
                             created_at=datetime(2026, 11, 1, tzinfo=UTC)))
            _add_room(db, "telegram:9")
            db.commit()
        sent_from_the_page(bot, "Quiet Voices", unlisted=True)
        [(room, reply)] = bot.queued()
        assert room == "telegram:9" and "Quiet Voices" in reply.plain()
    finally:
        bot.close()


def _add_room(db: Session, room_id: str) -> None:
    from storage.statements import StatementRoom

    db.add(StatementRoom(statement_id=1, room_id=room_id))


async def test_a_room_allowed_in_chat_is_not_taken_for_a_private_one(tmp_path: Path):
    """A group allowed with /room allow is read by all its members: an unlisted web sign-on
    is not named there (it was, while only the config's rooms were known to the notice)."""
    bot = WebBot(tmp_path, Network("telegram"))
    try:
        group = "telegram:-4242"
        await bot.send("/room allow", user=bot.admin, room=group, room_name="Geneva NGOs")
        with bot.database.session() as db:
            db.add(Statement(id=1, title="x", created_by="telegram:9",
                             created_at=datetime(2026, 11, 1, tzinfo=UTC)))
            _add_room(db, group)
            db.commit()
        sent_from_the_page(bot, "Quiet Voices", unlisted=True)
        [reply] = [m for r, m in bot.queued() if r == group and "web" in m.plain()]
        assert "an unlisted organisation" in reply.plain()
        assert "Quiet Voices" not in reply.plain()
    finally:
        bot.close()
