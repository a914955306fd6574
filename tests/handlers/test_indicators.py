"""/indicators on both networks: the figures, the <5 rule, the chart, the CSV, the digest."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from matplotlib.image import imread
from sqlmodel import select

from bot.commands import UsageError
from handlers.indicator_figures import percent, share, shown
from handlers.indicators import monthly_digest, parse_period
from storage.models import RoomSetting
from tests.harness import FakeBot, Network

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_small_number_rule():
    assert [shown(n) for n in (0, 1, 4, 5, 1234)] == ["0", "<5", "<5", "5", "1,234"]
    assert share(3, 40) == "<5 of 40"  # a part under five is not a share
    assert share(6, 4) == "6 of <5" and share(2, 3) == "<5 of <5"
    assert share(0, 9) == "0% (0 of 9)" and share(6, 9) == "67% (6 of 9)"
    assert percent(3, 40) is None and percent(6, 4) is None and percent(5, 10) == 50


def test_periods():
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert parse_period("2026", now, UTC)[:2] == (datetime(2026, 1, 1, tzinfo=UTC),
                                                   datetime(2027, 1, 1, tzinfo=UTC))
    assert parse_period("2026-01..2026-06", now, UTC)[:2] == (
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    assert parse_period("2026-03", now, UTC)[1] == datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_period(None, now, UTC)[2] == "the 12 months to 23 Nov 2026"
    for bad in ("2026-13", "26", "2026-06..2026-01", "2026..2026-06", "1999", "soon"):
        with pytest.raises(UsageError, match="period= takes a year"):
            parse_period(bad, now, UTC)


async def coalition(bot: FakeBot) -> None:
    """Seven Egypt cases referred after 10 h (six of them) and reacted to publicly, two in
    Bahrain, one confidential in Egypt; the same person in two cases."""
    a = bot.admin
    for k in range(1, 8):
        await bot.send(f"/flag Egypt | Case {k} #detention", user=a)
        await bot.send(f"/case consent {k} share-un publish-name", user=a)
    await bot.send('/case pseudonym 1 "Lawyer A"', user=a)
    await bot.send("/flag Bahrain | Case 8 #travel-ban", user=a)
    await bot.send("/flag Bahrain | Case 9 #travel-ban", user=a)
    await bot.send("/flag Egypt | Case 10 --confidential", user=a)
    bot.advance(hours=10)
    for k in range(1, 7):
        await bot.send(f"/case escalate {k} special-procedures", user=a)
        await bot.send(f"/case public {k} https://example.org/{k}", user=a)
    for k in range(1, 6):
        await bot.send(f"/case status {k} closed resolved", user=a)
    bot.advance(days=30)
    await bot.send("/flag Egypt | Case 11", user=a)
    await bot.send('/case pseudonym 11 "lawyer  a"', user=a)


async def test_secretariat_only_and_the_figures(bot: FakeBot, net: Network):
    await coalition(bot)
    assert "needs the secretariat role" in await bot.say("/indicators")
    reply = await bot.send("/indicators", user=bot.admin)
    assert reply is not None
    text = reply.plain()
    assert text.startswith("Indicators, the 12 months to 23 Dec 2026: 10 cases flagged")
    assert "• median (cases referred): 10 h" in text
    assert "• within 24 h (of all cases): 60% (6 of 10)" in text
    assert "• within 48 h: 86% (6 of 7)" in text  # of the cases with publish-name consent
    assert "• share-un: 70% (7 of 10)" in text and "• sg-report: 0% (0 of 10)" in text
    assert "• special-procedures: 60% (6 of 10)" in text
    assert "• Egypt: 8 (0 verified)" in text  # the confidential case is left out here
    assert "• Bahrain: <5 (0 verified)" in text and "• travel-ban: <5 (0 verified)" in text
    assert "people (by pseudonym) with a new case within 12 months: <5 of <5" in text
    assert "Confidential cases are left out here" in text
    assert "As CSV: /indicators export" in text
    in_dm = await bot.say("/indicators", user=bot.admin, dm=True)
    assert "11 cases flagged" in in_dm and "• Egypt: 9 (0 verified)" in in_dm
    assert "Confidential cases are left out" not in in_dm
    secure = await bot.say("/indicators", user=bot.admin, room=net.secure_room)
    assert "• Egypt: 8" in secure  # a secure room is read by all its members
    egypt = await bot.say("/indicators period=2026 Egypt", user=bot.admin)
    assert egypt.startswith("Indicators — Egypt, 2026: 8 cases flagged") and "Bahrain" not in egypt
    assert "As CSV: /indicators export period=2026 Egypt" in egypt


async def test_the_chart_is_a_png_image(bot: FakeBot):
    await coalition(bot)
    reply = await bot.send("/indicators", user=bot.admin)
    assert reply is not None and reply.file is not None
    assert reply.file.mime == "image/png" and reply.file.name.endswith(".png")
    assert reply.file.data.startswith(PNG)
    pixels = imread(io.BytesIO(reply.file.data), format="png")
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500


async def test_export_csv_follows_the_same_rules(bot: FakeBot):
    await coalition(bot)
    reply = await bot.send("/indicators export", user=bot.admin)
    assert reply is not None and reply.file is not None
    assert reply.file.name == "indicators-all-2026-12-23.csv"
    rows = list(csv.reader(io.StringIO(reply.file.data.decode("utf-8-sig"))))
    assert rows[0] == ["indicator", "measure", "value"]
    table = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert table[("Cases", "flagged in the period")] == "10"
    assert table[("5. Cases by country", "Bahrain")] == "<5 (0 verified)"
    assert table[("4. Referral coverage", "other")] == "0% (0 of 10)"  # all channels, in full
    assert "confidential cases left out" in table[("Notes", "rule")]
    assert "needs the secretariat role" in await bot.say("/indicators export")


async def test_recommendation_gap_beside_cases_since_the_review(bot: FakeBot):
    await bot.send('/rec add Egypt | Protect defenders source=upr session=41 date=2023-01-27 '
                   'position=supported affected="Human rights defenders"', user=bot.admin)
    await bot.send('/rec status R1 regressed org="Cairo Institute"')
    await bot.send("/flag Egypt | Case after the review")
    text = await bot.say("/indicators", user=bot.admin)
    assert ("• Egypt: <5 of <5 supported recommendations on defenders not implemented or "
            "regressed; <5 cases since its review at UPR41") in text


async def test_monthly_digest_switch_and_content(bot: FakeBot, net: Network):
    await coalition(bot)
    assert "needs the secretariat role" in await bot.say("/indicators monthly on")
    answer = await bot.say("/indicators monthly on", user=bot.admin)
    assert answer.startswith("The monthly indicators digest is on for Caucus")
    assert "rooms only, not to a direct message" in await bot.say(
        "/indicators monthly on", user=bot.admin, dm=True)
    with bot.database.session() as db:
        on = {s.room_id for s in db.exec(select(RoomSetting)) if s.indicators_monthly}
        assert on == {"telegram:-5", "matrix:!ordinary:example.org"}  # both sides of the pair
        sent = monthly_digest(db, bot.config, datetime(2027, 1, 1, 8, tzinfo=UTC))
    assert sorted(room for room, _ in sent) == sorted(on)
    digest = sent[0][1]
    assert digest.plain().startswith("Indicators, Jan 2026 to Dec 2026: 10 cases flagged")
    assert digest.file is not None and digest.file.data.startswith(PNG)
    await bot.send("/indicators monthly off", user=bot.admin)
    with bot.database.session() as db:
        assert monthly_digest(db, bot.config, datetime(2027, 2, 1, 8, tzinfo=UTC)) == []
