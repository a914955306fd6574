"""Exports of sign-ons, and the deadline nudges."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from handlers.statement_exports import nudge_message, nudge_times
from storage.statements import Statement
from tests.harness import FakeBot, Network

GENEVA = ZoneInfo("Europe/Zurich")


@pytest.fixture
async def signed(bot: FakeBot, net: Network) -> str:
    sec = net.user(9)
    await bot.send(f"/role grant {sec} secretariat", user=bot.admin)
    await bot.send("/statement new Letter deadline=2026-12-01", user=sec)
    for text in ('"Cairo Institute for Human Rights Studies" | Egypt ecosoc=special',
                 '"Gulf Centre for Human Rights" | Lebanon ecosoc=general',
                 '"Amnesty International" | UK ecosoc=special',
                 '"Bahrain Local Group" | Bahrain ecosoc=none',
                 '"Unnamed Collective" | Egypt ecosoc=roster unlisted',
                 '"No Status Given" | Tunisia'):
        await bot.send(f"/signon S1 {text}", dm="unlisted" in text)
    return sec


async def test_text_export_is_paste_ready(bot: FakeBot, signed: str):
    await bot.send("/statement text S1 v2", user=signed)
    await bot.send("/signon S1 Zeta Org | Kenya")
    reply = await bot.send("/statement export S1 text", user=signed)
    assert reply is not None and reply.file is not None
    # A text file ends with a newline, or tools drop or glue its last line.
    assert reply.file.data.decode() == reply.plain() + "\n"
    assert reply.plain() == (
        "Amnesty International (United Kingdom)†\n"
        "Bahrain Local Group (Bahrain)†\n"
        "Cairo Institute for Human Rights Studies (Egypt)†\n"
        "Gulf Centre for Human Rights (Lebanon)†\n"
        "No Status Given (Tunisia)†\n"
        "Zeta Org (Kenya)\n"
        "\n"
        "7 organisations from 6 countries\n"
        "(1 of them unlisted: counted, not named)\n"
        "† signed an earlier version of the text")


async def test_hrc_cosponsor_block(bot: FakeBot, signed: str):
    reply = await bot.send("/statement export S1 hrc", user=signed)
    assert reply is not None and reply.file is not None
    block = reply.file.data.decode()
    assert block.endswith("statement.\n")
    block = block.removesuffix("\n")
    assert block == (
        "Joint written statement* submitted by Gulf Centre for Human Rights, a "
        "non-governmental organization in general consultative status, Amnesty International, "
        "Cairo Institute for Human Rights Studies, non-governmental organizations in special "
        "consultative status\n\n"
        "*Bahrain Local Group, No Status Given, NGOs without consultative status, also share "
        "the views expressed in this statement.")
    text = reply.plain()
    assert "No ECOSOC status given for: No Status Given" in text
    assert "1 unlisted signatory is not printed." in text
    assert "Unnamed" not in text and "Unnamed" not in block


async def test_hrc_needs_a_sponsor_with_status(bot: FakeBot, net: Network):
    await bot.send("/statement new Letter", user=bot.admin)
    await bot.send("/signon S1 Org | Egypt ecosoc=none")
    assert "needs at least one co-sponsor with ECOSOC status" in await bot.say(
        "/statement export S1 hrc", user=bot.admin)


async def test_csv_has_every_field_and_only_in_private(bot: FakeBot, signed: str, net: Network):
    refused = await bot.say("/statement export S1", user=signed)
    assert refused.startswith("The CSV names unlisted signatories")
    await bot.send("/withdraw S1 Bahrain Local Group", user=signed)
    reply = await bot.send("/statement export S1 csv", user=signed, room=net.secure_room)
    assert reply is not None and reply.file is not None
    assert reply.plain() == "S1: 6 rows (5 active, 1 withdrawn)."
    rows = list(csv.DictReader(io.StringIO(reply.file.data.decode("utf-8-sig"))))
    by_name = {r["organisation"]: r for r in rows}
    assert by_name["Unnamed Collective"]["unlisted"] == "yes"
    # ISO 8601 with the offset: spreadsheets sort it, and no reader guesses the zone.
    assert by_name["Bahrain Local Group"]["withdrawn_at"] == "2026-11-23T10:00+01:00"
    assert by_name["Bahrain Local Group"]["signed_at"] == "2026-11-23T10:00+01:00"
    assert by_name["Cairo Institute for Human Rights Studies"]["ecosoc"] == "special"
    assert by_name["Cairo Institute for Human Rights Studies"]["country_code"] == "EG"
    assert by_name["Cairo Institute for Human Rights Studies"]["earlier_version"] == "no"


async def test_exports_need_the_secretariat(bot: FakeBot, signed: str):
    assert "needs the secretariat role" in await bot.say("/statement export S1 text")


def test_nudge_times_in_the_configured_timezone():
    statement = Statement(id=3, title="Letter", created_by="x", created_at=datetime.now(UTC),
                          deadline=datetime(2026, 12, 4, 16, 0, tzinfo=UTC))  # 17:00 Geneva
    times = nudge_times(statement, nudge_days=(2, 0), send_time=time(9, 0), tz=GENEVA)
    assert [(d, at.isoformat()) for d, at in times] == [
        (2, "2026-12-02T09:00:00+01:00"), (0, "2026-12-04T09:00:00+01:00")]
    early = Statement(id=4, title="x", created_by="x", created_at=datetime.now(UTC),
                      deadline=datetime(2026, 12, 4, 7, 0, tzinfo=UTC))  # 08:00 Geneva
    assert [d for d, _ in nudge_times(early, nudge_days=(2, 0), send_time=time(9, 0),
                                      tz=GENEVA)] == [2]


async def test_nudge_message(bot: FakeBot, signed: str):
    with bot.database.session() as db:
        statement = db.get(Statement, 1)
        assert statement is not None
        now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
        text = nudge_message(db, statement, now=now, tz=GENEVA).plain()
    assert text == 'S1 "Letter" closes in 2 days — 6 sign-ons so far. /signon S1 <organisation>'
