"""The reprisals submission for the Secretary-General's annual report."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.case_reports import reporting_period
from tests.harness import FakeBot, Network


def test_reporting_period_runs_1_may_to_30_april():
    start, end = reporting_period(2027)
    assert start == datetime(2026, 5, 1, tzinfo=UTC)
    assert end == datetime(2027, 5, 1, tzinfo=UTC)


async def reprisal(bot: FakeBot, text: str, *, consent: str = "sg-report") -> int:
    answer = await bot.say(f"/flag {text} #reprisal-un", user=bot.admin, room=bot.net.secure_room)
    n = int(answer.split("#")[1].split()[0])
    if consent:
        await bot.send(f"/case consent {n} {consent}", user=bot.admin, room=bot.net.secure_room)
    return n


async def test_reprisals_export_groups_by_state_and_respects_consent(bot: FakeBot, net: Network):
    await reprisal(bot, "Egypt | Defender questioned after speaking at HRC58 date=2026-04-30")
    await reprisal(bot, "Egypt | Travel ban before UPR date=2026-05-01")
    await reprisal(bot, "Bahrain | Family threatened date=2026-09-10")
    await reprisal(bot, "Iran | No consent to report date=2026-10-01", consent="share-un")
    await bot.send("/flag Iran | Not a reprisal case", user=bot.admin, room=net.secure_room)
    await bot.send("/case un 3 body=hrc ref=A/HRC/57/60", user=bot.admin, room=net.secure_room)
    await bot.send("/case consent 3 share-un", user=bot.admin, room=net.secure_room)
    await bot.send("/case escalate 3 ohchr-reprisals", user=bot.admin, room=net.secure_room)
    reply = await bot.send("/case export reprisals 2027", user=bot.admin, room=net.secure_room)
    assert reply is not None and reply.file is not None
    assert reply.file.name == "reprisals-2027.txt"
    assert reply.plain().startswith("Reprisals 2027: 2 case(s) from 2 State(s); 1 without "
                                    "sg-report consent counted, not included.")
    text = reply.file.data.decode()
    assert text.endswith("are not included.\n")
    assert "Reporting period: 1 May 2026 to 30 April 2027" in text
    assert text.index("Bahrain\n=======") < text.index("Egypt\n=====")
    assert "Travel ban before UPR" in text and "01 May 2026" in text
    assert "questioned after speaking" not in text  # 30 April 2026 belongs to the 2026 report
    assert "No consent to report" not in text and "Not a reprisal case" not in text
    assert "UN body engaged: hrc" in text and "Prior UN references: A/HRC/57/60" in text
    assert "referred to ohchr-reprisals" in text
    previous = await bot.send("/case export reprisals 2026", user=bot.admin, room=net.secure_room)
    assert previous is not None and previous.file is not None
    assert "questioned after speaking" in previous.file.data.decode()


async def test_reprisals_export_only_in_private_and_default_year(bot: FakeBot, net: Network):
    assert "ask for it in a direct message" in await bot.say("/case export reprisals",
                                                             user=bot.admin)
    reply = await bot.send("/case export reprisals", user=bot.admin, dm=True)
    assert reply is not None and reply.file is not None
    # 23 Nov 2026 falls in the period that the 2027 report covers.
    assert reply.file.name == "reprisals-2027.txt"
    assert "not a report year" in await bot.say("/case export reprisals 1999", user=bot.admin,
                                                dm=True)


async def test_export_usage(bot: FakeBot):
    assert "A status (new, verifying" in await bot.say("/case export everything", user=bot.admin)
    assert "A year goes only with" in await bot.say("/case export new 2026", user=bot.admin)
